"""The stored documents of every aggregate (common/documents.py and each repository's
declaration): a document in the exact shape the services store today, written out as a literal,
loads into the same object and saves back to the same document; documents written before a field
existed still load. Existing data must keep loading: change a literal here only with a migration."""

from __future__ import annotations

import enum
from datetime import datetime
from decimal import Decimal
from typing import Any

import pytest

from common.documents import AS_IS, MONEY, TUPLE, Document, EnumValue, Field, OptionalEnum
from svc_auth.adapters.repository import USERS, MongoUserRepository
from svc_auth.domain.model import User
from svc_orders.adapters.repository import (
    ORDERS,
    MongoOrderRepository,
)
from svc_orders.domain import model as orders
from svc_payments.adapters.payout_store import (
    EVENT_SCHEDULES,
    PAYOUTS,
    MongoEventScheduleRepository,
    MongoPayoutRepository,
)
from svc_payments.adapters.repository import (
    ORDER_COPIES,
    PAYMENTS,
    MongoPaymentRepository,
)
from svc_payments.adapters.repository import (
    MongoOrderRepository as MongoOrderCopyRepository,
)
from svc_payments.domain import model as payments
from svc_payments.domain.fees import FeeQuote
from svc_payments.domain.payouts import Payout, PayoutStatus
from svc_tickets.adapters.documents import TICKETS
from svc_tickets.adapters.repository import MongoTicketRepository
from svc_tickets.domain.listing import DeliveryMethod, ListingDetails
from svc_tickets.domain.model import SeatHold, Ticket
from svc_tickets.domain.split import SplitRule

# As MongoDB gives dates back: UTC, naive.
CREATED = datetime(2026, 3, 1, 12, 30, 5, 123000)
EXPIRES = datetime(2026, 3, 1, 12, 45, 5, 123000)


def _round_trip(document: Document, stored: dict[str, Any], expected: object) -> None:
    loaded = document.from_doc(stored)
    assert loaded == expected
    saved = document.to_doc(loaded)
    assert saved == stored
    assert list(saved) == list(stored), "keys are written in the same order"
    for key, value in saved.items():
        assert type(value) is type(stored[key]), (
            f"{key}: {type(value)} stored, not {type(stored[key])}"
        )


# ---------------------------------------------------------------- auth: users


def test_a_user_document_loads_and_saves_unchanged() -> None:
    stored = {
        "_id": "u-1",
        "email": "ada@example.com",
        "password_hash": "$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA",
        "created_at": CREATED,
        "version": 3,
        "session_generation": 2,
        "roles": ["admin"],
    }
    user = User(
        id="u-1",
        email="ada@example.com",
        password_hash="$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA",
        created_at=CREATED,
        version=3,
        session_generation=2,
        roles=("admin",),
    )
    _round_trip(USERS, stored, user)


def test_a_user_stored_before_generations_and_roles_loads_at_zero_with_none() -> None:
    old = {
        "_id": "u-1",
        "email": "a@x.io",
        "password_hash": "h",
        "created_at": CREATED,
        "version": 0,
    }
    user = USERS.from_doc(old)
    assert (user.session_generation, user.roles) == (0, ())
    assert USERS.from_doc({**old, "roles": None}).roles == ()


# ---------------------------------------------------------------- tickets


def test_a_listing_document_loads_and_saves_unchanged() -> None:
    stored = {
        "_id": "t-1",
        "title": "Concert",
        "price": "20.50",
        "user_id": "u-1",
        "version": 4,
        "created_at": CREATED,
        "currency_code": "EUR",
        "withdrawn": False,
        "quantity": 4,
        "split_rule": "NO_SINGLE",
        "event_id": "e-1",
        "details": {
            "section": "112",
            "row": "F",
            "seat_labels": ["1", "2", "3", "4"],
            "face_value": "15.00",
            "delivery_method": "MOBILE_TRANSFER",
            "notes": "Aisle",
        },
        "holds": [
            {"order_id": "o-1", "seats": [0, 1], "price": "18.00", "sold": True},
            {"order_id": "o-2", "seats": [2], "price": "20.50", "sold": False},
        ],
    }
    ticket = Ticket(
        id="t-1",
        title="Concert",
        price=Decimal("20.50"),
        user_id="u-1",
        created_at=CREATED,
        version=4,
        currency_code="EUR",
        withdrawn=False,
        quantity=4,
        split_rule=SplitRule.NO_SINGLE,
        event_id="e-1",
        details=ListingDetails(
            "112",
            "F",
            ("1", "2", "3", "4"),
            Decimal("15.00"),
            DeliveryMethod.MOBILE_TRANSFER,
            "Aisle",
        ),
        holds=[
            SeatHold("o-1", (0, 1), Decimal("18.00"), sold=True),
            SeatHold("o-2", (2,), Decimal("20.50")),
        ],
    )
    # `available` and `price_minor` are stored for queries, derived, never read back.
    assert TICKETS.to_doc(ticket) == {**stored, "available": 1, "price_minor": 2050}
    assert TICKETS.from_doc(stored) == ticket


def test_a_ticket_stored_before_currencies_withdrawal_and_listings_is_one_usd_seat() -> None:
    old = {"_id": "t-1", "title": "C", "price": "20.00", "user_id": "u", "version": 0}
    ticket = TICKETS.from_doc({**old, "created_at": CREATED})
    assert (ticket.order_id, ticket.currency_code, ticket.withdrawn) == (None, "USD", False)
    assert (ticket.quantity, ticket.split_rule, ticket.holds, ticket.available) == (
        1,
        SplitRule.ANY,
        [],
        1,
    )
    assert ticket.details == ListingDetails()


def test_a_ticket_held_before_listings_loads_as_its_order_holding_its_one_seat() -> None:
    old = {"_id": "t-1", "title": "C", "price": "20.00", "user_id": "u", "version": 3}
    ticket = TICKETS.from_doc({**old, "created_at": CREATED, "order_id": "o-9"})
    assert ticket.holds == [SeatHold("o-9", (0,), Decimal("20.00"))]
    assert (ticket.available, ticket.state.value, ticket.order_id) == (0, "HELD", "o-9")
    # Saved, it is a listing like any other: the holder in `holds`, no `order_id` any more.
    saved = TICKETS.to_doc(ticket)
    assert "order_id" not in saved and saved["holds"][0]["order_id"] == "o-9"
    assert TICKETS.from_doc({**old, "created_at": CREATED, "order_id": None}).holds == []


def test_a_price_is_saved_with_two_decimals() -> None:
    ticket = Ticket(id="t", title="C", price=Decimal("20"), user_id="u", created_at=CREATED)
    assert TICKETS.to_doc(ticket)["price"] == "20.00"


# ---------------------------------------------------------------- orders: orders and ticket copies


def test_an_order_document_loads_and_saves_unchanged() -> None:
    stored = {
        "_id": "o-1",
        "user_id": "u-2",
        "ticket_id": "t-1",
        "price": "20.50",
        "status": "CANCELLED",
        "cancel_reason": "EXPIRED",
        "expires_at": EXPIRES,
        "created_at": CREATED,
        "version": 2,
        "currency_code": "EUR",
        "quantity": 2,
        "seats": [3, 4],
        "pending": False,
        "seat_labels": ["14", "15"],
        "event_id": "e-1",
        "seller_id": "s-1",
        "delivery_method": "BARCODE",
        "deliver_by": CREATED,
    }
    order = orders.Order(
        id="o-1",
        user_id="u-2",
        ticket_id="t-1",
        price=Decimal("20.50"),
        status=orders.OrderStatus.CANCELLED,
        expires_at=EXPIRES,
        created_at=CREATED,
        version=2,
        cancel_reason=orders.CancelReason.EXPIRED,
        currency_code="EUR",
        quantity=2,
        seats=(3, 4),
        seat_labels=("14", "15"),
        event_id="e-1",
        seller_id="s-1",
        delivery_method="BARCODE",
        deliver_by=CREATED,
    )
    _round_trip(ORDERS, stored, order)
    open_order = {**stored, "status": "CREATED", "cancel_reason": None}
    expected = orders.Order(
        **{**vars(order), "status": orders.OrderStatus.CREATED, "cancel_reason": None}
    )
    _round_trip(ORDERS, open_order, expected)


def test_an_order_stored_before_reasons_and_currencies() -> None:
    old = {
        "_id": "o-1",
        "user_id": "u",
        "ticket_id": "t",
        "price": "5.00",
        "status": "CANCELLED",
        "expires_at": EXPIRES,
        "created_at": CREATED,
        "version": 1,
    }
    order = ORDERS.from_doc(old)
    assert (order.cancel_reason, order.currency_code) == (None, "USD")
    assert (order.quantity, order.seats, order.pending) == (1, (), False)
    assert (order.seat_labels, order.event_id, order.seller_id) == ((), "", "")
    assert ORDERS.from_doc({**old, "cancel_reason": ""}).cancel_reason is None


# ---------------------------------------------------------------- payments: order copies, payments


def test_a_payments_order_copy_document_loads_and_saves_unchanged() -> None:
    stored = {
        "_id": "o-1",
        "user_id": "u-2",
        "price": "3000.00",
        "currency_code": "JPY",
        "quantity": 2,
        "fees": {
            "currency_code": "JPY",
            "quantity": 2,
            "unit_price": 1500,
            "unit_buyer_fee": 200,
            "unit_commission": 75,
            "subtotal": 3000,
            "buyer_fees": 400,
            "total": 3400,
            "commission": 150,
            "proceeds": 2850,
        },
        "status": "COMPLETE",
        "version": 3,
        "seller_id": "s-1",
        "event_id": "e-1",
        "ticket_id": "t-1",
        "delivered_at": CREATED,
        "delivery_method": "DELIVERY_METHOD_BARCODE",
    }
    copy = payments.Order(
        id="o-1",
        user_id="u-2",
        price=Decimal("3000.00"),
        status=payments.OrderStatus.COMPLETE,
        version=3,
        currency_code="JPY",
        quantity=2,
        fees=FeeQuote("JPY", 2, 1500, 200, 75),
        seller_id="s-1",
        event_id="e-1",
        ticket_id="t-1",
        delivered_at=CREATED,
        delivery_method="DELIVERY_METHOD_BARCODE",
    )
    _round_trip(ORDER_COPIES, stored, copy)
    old = {"_id": "o-1", "user_id": "u", "price": "1.00", "status": "CREATED", "version": 0}
    assert ORDER_COPIES.from_doc(old).currency_code == "USD"
    # A copy stored before fees: one ticket, charged its price, nothing kept.
    before_fees = ORDER_COPIES.from_doc(old)
    assert (before_fees.quantity, before_fees.fees) == (1, None)
    assert (before_fees.charges.total, before_fees.charges.proceeds) == (100, 100)
    # A copy from before sellers were recorded: no seller, no event.
    assert (ORDER_COPIES.from_doc(old).seller_id, ORDER_COPIES.from_doc(old).event_id) == ("", "")
    assert ORDER_COPIES.from_doc({**old, "currency_code": " eur "}).currency_code == "EUR"


def test_a_payment_document_loads_and_saves_unchanged() -> None:
    stored = {
        "_id": "p-1",
        "order_id": "o-1",
        "user_id": "u-2",
        "amount": "20.50",
        "currency_code": "EUR",
        "status": "requires_action",
        "stripe_id": "pi_123",
        "client_secret": "pi_123_secret_456",
        "created_at": CREATED,
        "version": 1,
    }
    payment = payments.Payment(
        id="p-1",
        order_id="o-1",
        user_id="u-2",
        amount=Decimal("20.50"),
        status=payments.PaymentStatus.REQUIRES_ACTION,
        stripe_id="pi_123",
        created_at=CREATED,
        client_secret="pi_123_secret_456",
        version=1,
        currency_code="EUR",
    )
    _round_trip(PAYMENTS, stored, payment)
    old = {k: v for k, v in stored.items() if k not in ("client_secret", "currency_code")}
    loaded = PAYMENTS.from_doc(old)
    assert (loaded.client_secret, loaded.currency_code) == ("", "USD")


def test_a_payout_document_loads_and_saves_unchanged() -> None:
    stored = {
        "_id": "po-1",
        "order_id": "o-1",
        "seller_id": "s-1",
        "event_id": "e-1",
        "amount_minor": 4550,
        "currency_code": "EUR",
        "charge_id": "ch_1",
        "created_at": CREATED,
        "ticket_id": "t-1",
        "status": "HELD",
        "due_at": EXPIRES,
        "next_try_at": None,
        "paid_at": None,
        "transfer_id": "",
        "reason": "disputed",
        "attempts": 2,
        "claimed_by": None,
        "claimed_until": None,
        "held_from": "SCHEDULED",
        "reversed_minor": 550,
        "reversal_owed_minor": 0,
        "version": 4,
    }
    payout = Payout(
        id="po-1",
        order_id="o-1",
        seller_id="s-1",
        event_id="e-1",
        amount_minor=4550,
        currency_code="EUR",
        charge_id="ch_1",
        created_at=CREATED,
        ticket_id="t-1",
        status=PayoutStatus.HELD,
        due_at=EXPIRES,
        reason="disputed",
        attempts=2,
        held_from=PayoutStatus.SCHEDULED,
        reversed_minor=550,
        version=4,
    )
    _round_trip(PAYOUTS, stored, payout)


# ---------------------------------------------------------------- the repositories use them


@pytest.mark.parametrize(
    ("repository", "document"),
    [
        (MongoUserRepository, USERS),
        (MongoTicketRepository, TICKETS),
        (MongoOrderRepository, ORDERS),
        (MongoOrderCopyRepository, ORDER_COPIES),
        (MongoPaymentRepository, PAYMENTS),
        (MongoPayoutRepository, PAYOUTS),
        (MongoEventScheduleRepository, EVENT_SCHEDULES),
    ],
)
def test_each_repository_stores_its_declared_document(repository, document) -> None:
    assert repository.document is document
    assert document.fields["_id"].attribute == "id"


# ---------------------------------------------------------------- the codec itself


class Colour(enum.Enum):
    RED = "red"


def test_a_required_key_missing_from_a_document_is_named() -> None:
    document = Document(dict, {"_id": Field("id"), "name": Field("name")})
    with pytest.raises(KeyError, match="'name'"):
        document.from_doc({"_id": "x"})


def test_the_kinds_store_what_they_say() -> None:
    assert MONEY.dump(Decimal("3.1")) == "3.10"
    assert MONEY.load("3.10") == Decimal("3.10")
    assert TUPLE.dump(("a",)) == ["a"]
    assert TUPLE.load(None) == ()
    assert EnumValue(Colour).dump(Colour.RED) == "red"
    assert EnumValue(Colour).load("red") is Colour.RED
    assert OptionalEnum(Colour).dump(None) is None
    assert OptionalEnum(Colour).load(None) is None
    assert AS_IS.load(CREATED) is CREATED
