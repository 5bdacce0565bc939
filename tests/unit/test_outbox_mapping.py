"""Domain events become the integration events consumers receive (proto/ticketing/events/v1)
in one place per service (`svc_*/adapters/outbox_mapping.py`), where the unit of work writes the
outbox. Each example is the domain event an aggregate records and the exact proto message that
went on the bus for it before domain events existed: the wire format did not change."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from types import ModuleType

import pytest
from google.protobuf.message import Message
from google.protobuf.timestamp_pb2 import Timestamp

from svc_auth.adapters import outbox_mapping as auth_outbox
from svc_auth.domain import events as auth_events
from svc_catalogue.adapters import outbox_mapping as catalogue_outbox
from svc_catalogue.domain import events as catalogue_events
from svc_catalogue.domain.values import Category, EventStatus, Performer, Venue
from svc_delivery.adapters import outbox_mapping as delivery_outbox
from svc_delivery.domain import events as delivery_events
from svc_delivery.domain.methods import DeliveryMethod
from svc_orders.adapters import outbox_mapping as orders_outbox
from svc_orders.domain import events as order_events
from svc_orders.domain.model import CancelReason, OrderStatus
from svc_payments.adapters import outbox_mapping as payments_outbox
from svc_payments.domain import events as payment_events
from svc_tickets.adapters import outbox_mapping as tickets_outbox
from svc_tickets.domain import events as ticket_events
from ticketing.events.v1 import (
    catalogue_pb2,
    delivery_pb2,
    orders_pb2,
    payments_pb2,
    tickets_pb2,
    users_pb2,
)
from ticketing.orders.v1 import orders_pb2 as orders_api
from ticketing.tickets.v1 import tickets_pb2 as tickets_api

EXPIRES = datetime(2026, 3, 1, 12, 15, 30, 250_000, tzinfo=UTC)

EXAMPLES: list[tuple[ModuleType, object, Message]] = [
    (
        auth_outbox,
        auth_events.UserCreated(id="u1", email="a@example.com"),
        users_pb2.UserCreated(id="u1", email="a@example.com"),
    ),
    (
        auth_outbox,
        auth_events.UserUpdated(id="u1", email="a@example.com", version=3),
        users_pb2.UserUpdated(id="u1", email="a@example.com", version=3),
    ),
    (
        tickets_outbox,
        ticket_events.TicketCreated("t1", 0, "Concert", Decimal("20"), "s1", "EUR", "e1", 4, 4),
        tickets_pb2.TicketCreated(
            id="t1",
            version=0,
            title="Concert",
            price="20.00",
            user_id="s1",
            currency_code="EUR",
            event_id="e1",
            quantity=4,
            available=4,
        ),
    ),
    (
        tickets_outbox,
        ticket_events.TicketUpdated(
            "t1", 2, "Concert", Decimal("9.5"), "s1", None, "USD", True, "", 1, 0, "WITHDRAWN"
        ),
        tickets_pb2.TicketUpdated(
            id="t1",
            version=2,
            title="Concert",
            price="9.50",
            user_id="s1",
            order_id="",
            currency_code="USD",
            withdrawn=True,
            quantity=1,
            available=0,
            state=tickets_api.TICKET_STATE_WITHDRAWN,
        ),
    ),
    (
        tickets_outbox,
        ticket_events.TicketUpdated(
            "t1", 3, "Concert", Decimal("9.5"), "s1", "o1", "USD", False, "e1", 1, 0, "SOLD"
        ),
        tickets_pb2.TicketUpdated(
            id="t1",
            version=3,
            title="Concert",
            price="9.50",
            user_id="s1",
            order_id="o1",
            currency_code="USD",
            event_id="e1",
            quantity=1,
            state=tickets_api.TICKET_STATE_SOLD,
        ),
    ),
    (
        orders_outbox,
        order_events.OrderCreated(
            "o1", 0, OrderStatus.CREATED, "b1", EXPIRES, "t1", Decimal("20"), "GBP", 2, "s1", "e1"
        ),
        orders_pb2.OrderCreated(
            id="o1",
            version=0,
            status=orders_api.ORDER_STATUS_CREATED,
            user_id="b1",
            expires_at=Timestamp(seconds=int(EXPIRES.timestamp()), nanos=250_000_000),
            ticket=orders_pb2.OrderCreated.Ticket(
                id="t1",
                price="20.00",
                currency_code="GBP",
                quantity=2,
                seller_id="s1",
                event_id="e1",
            ),
        ),
    ),
    (
        orders_outbox,
        order_events.OrderUpdated("o1", 2, OrderStatus.COMPLETE, "b1"),
        orders_pb2.OrderUpdated(
            id="o1", version=2, status=orders_api.ORDER_STATUS_COMPLETE, user_id="b1"
        ),
    ),
    (
        orders_outbox,
        order_events.OrderCancelled("o1", 1, "t1", CancelReason.EXPIRED),
        orders_pb2.OrderCancelled(
            id="o1", version=1, ticket=orders_pb2.OrderCancelled.Ticket(id="t1"), reason="EXPIRED"
        ),
    ),
    (
        payments_outbox,
        payment_events.PayoutPaid("po1", "o1", "s1", "tr_1", 4550, "EUR"),
        payments_pb2.PayoutPaid(
            id="po1",
            order_id="o1",
            seller_id="s1",
            transfer_id="tr_1",
            amount=4550,
            currency_code="EUR",
        ),
    ),
    (
        payments_outbox,
        payment_events.RefundIssued(
            "rf1", "o1", "b1", "re_1", 1250, "EUR", "Obstructed view", "ADMIN", 1000, 250
        ),
        payments_pb2.RefundIssued(
            id="rf1",
            order_id="o1",
            buyer_id="b1",
            stripe_refund_id="re_1",
            amount=1250,
            currency_code="EUR",
            reason="Obstructed view",
            origin="ADMIN",
            seller_amount=1000,
            platform_amount=250,
        ),
    ),
    (
        payments_outbox,
        payment_events.DisputeOpened("du_1", "o1", 5500, "EUR", "fraudulent", "needs_response"),
        payments_pb2.DisputeOpened(
            id="du_1",
            order_id="o1",
            amount=5500,
            currency_code="EUR",
            reason="fraudulent",
            status="needs_response",
        ),
    ),
    (
        payments_outbox,
        payment_events.DisputeClosed("du_1", "o1", "lost", 5500, "EUR"),
        payments_pb2.DisputeClosed(
            id="du_1", order_id="o1", status="lost", amount=5500, currency_code="EUR"
        ),
    ),
    (
        payments_outbox,
        payment_events.ChargeCreated("p1", "o1", "pi_1", Decimal("20.05"), "USD"),
        payments_pb2.ChargeCreated(
            id="p1", order_id="o1", stripe_id="pi_1", amount=2005, currency_code="USD"
        ),
    ),
    (
        payments_outbox,
        payment_events.ChargePending("p1", "o1", "pi_1", Decimal("1000000"), "EUR"),
        payments_pb2.ChargePending(
            id="p1", order_id="o1", stripe_id="pi_1", amount=100_000_000, currency_code="EUR"
        ),
    ),
    (
        payments_outbox,
        payment_events.ChargeFailed(order_id="o1", reason="Your card was declined."),
        payments_pb2.ChargeFailed(order_id="o1", reason="Your card was declined."),
    ),
    (
        catalogue_outbox,
        catalogue_events.EventChanged(
            "e1",
            2,
            "Arctic Monkeys live",
            (Performer("performer:arctic-monkeys", "Arctic Monkeys"),),
            Venue("venue:o2-arena-london", "O2 Arena", "London", "GB", "Europe/London"),
            EXPIRES,
            EXPIRES.replace(hour=15),
            Category.CONCERT,
            EventStatus.POSTPONED,
            "ext-1",
        ),
        catalogue_pb2.EventChanged(
            id="e1",
            version=2,
            name="Arctic Monkeys live",
            performers=[
                catalogue_pb2.CataloguePerformer(
                    id="performer:arctic-monkeys", name="Arctic Monkeys"
                )
            ],
            venue=catalogue_pb2.CatalogueVenue(
                id="venue:o2-arena-london",
                name="O2 Arena",
                city="London",
                country="GB",
                time_zone="Europe/London",
            ),
            starts_at=Timestamp(seconds=1772367330, nanos=250_000_000),
            ends_at=Timestamp(seconds=1772378130, nanos=250_000_000),
            category="CONCERT",
            status="POSTPONED",
            external_ref="ext-1",
        ),
    ),
    (
        catalogue_outbox,
        catalogue_events.EventStatusChanged(
            "e1",
            3,
            EventStatus.CANCELLED,
            EventStatus.POSTPONED,
            EXPIRES,
            EXPIRES.replace(hour=15),
        ),
        catalogue_pb2.EventStatusChanged(
            id="e1",
            version=3,
            status="CANCELLED",
            previous_status="POSTPONED",
            starts_at=Timestamp(seconds=1772367330, nanos=250_000_000),
            ends_at=Timestamp(seconds=1772378130, nanos=250_000_000),
        ),
    ),
    (
        orders_outbox,
        order_events.OrderCreated(
            "o2",
            0,
            OrderStatus.CREATED,
            "b1",
            EXPIRES,
            "t1",
            Decimal("20"),
            "USD",
            2,
            "s1",
            "e1",
            "BARCODE",
            EXPIRES,
            ("12", "14"),
        ),
        orders_pb2.OrderCreated(
            id="o2",
            version=0,
            status=orders_api.ORDER_STATUS_CREATED,
            user_id="b1",
            expires_at=Timestamp(seconds=int(EXPIRES.timestamp()), nanos=250_000_000),
            ticket=orders_pb2.OrderCreated.Ticket(
                id="t1",
                price="20.00",
                currency_code="USD",
                quantity=2,
                seller_id="s1",
                event_id="e1",
                delivery_method=tickets_api.DELIVERY_METHOD_BARCODE,
                deliver_by=Timestamp(seconds=int(EXPIRES.timestamp()), nanos=250_000_000),
                seat_labels=["12", "14"],
            ),
        ),
    ),
    (
        delivery_outbox,
        delivery_events.DeliveryCompleted(
            "o1", "s1", "b1", "e1", DeliveryMethod.E_TICKET, EXPIRES, 2
        ),
        delivery_pb2.DeliveryCompleted(
            order_id="o1",
            seller_id="s1",
            buyer_id="b1",
            event_id="e1",
            method=tickets_api.DELIVERY_METHOD_E_TICKET,
            delivered_at=Timestamp(seconds=int(EXPIRES.timestamp()), nanos=250_000_000),
            quantity=2,
        ),
    ),
    (
        delivery_outbox,
        delivery_events.DeliveryMissed("o1", "s1", "b1", "", EXPIRES),
        delivery_pb2.DeliveryMissed(
            order_id="o1",
            seller_id="s1",
            buyer_id="b1",
            deliver_by=Timestamp(seconds=int(EXPIRES.timestamp()), nanos=250_000_000),
        ),
    ),
    (
        delivery_outbox,
        delivery_events.DeliveryDeadlineApproaching("o1", "s1", EXPIRES),
        delivery_pb2.DeliveryDeadlineApproaching(
            order_id="o1",
            seller_id="s1",
            deliver_by=Timestamp(seconds=int(EXPIRES.timestamp()), nanos=250_000_000),
        ),
    ),
]


@pytest.mark.parametrize(
    ("mapping", "event", "integration"), EXAMPLES, ids=lambda v: type(v).__name__
)
def test_a_domain_event_goes_out_as_the_same_integration_event_as_before(
    mapping: ModuleType, event: object, integration: Message
) -> None:
    mapped = mapping.to_integration(event)
    assert type(mapped) is type(integration)
    assert mapped == integration
    assert mapped.SerializeToString(deterministic=True) == integration.SerializeToString(
        deterministic=True
    )


@pytest.mark.parametrize(
    "domain_events",
    [auth_events, ticket_events, order_events, payment_events, catalogue_events, delivery_events],
)
def test_every_domain_event_has_an_example_here(domain_events: ModuleType) -> None:
    """A new domain event fails here until it is mapped and given an example above."""
    declared = set(domain_events.Event.__args__)
    assert declared <= {type(event) for _, event, _ in EXAMPLES}


def test_an_event_no_mapping_knows_is_refused_not_dropped() -> None:
    with pytest.raises(TypeError, match="no integration event"):
        orders_outbox.to_integration(auth_events.UserCreated(id="u1", email="a@example.com"))
