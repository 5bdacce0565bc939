"""Every event type becomes the one row the insights contract says, kept once however often it
is delivered (a real DuckDB, in memory: it is embedded, so no server is needed)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from google.protobuf.message import Message

from common import events
from common.bus import Delivery, PoisonMessage
from common.clock import FrozenClock
from common.protos import timestamp
from svc_insights.adapters.duckdb_store import DuckDBEventStore
from svc_insights.domain.model import EventRow
from svc_insights.entrypoints.events import COLUMNS_OF, event_handlers, row_of
from svc_insights.service_layer.handlers import InsightsHandlers
from ticketing.events.v1 import (
    behaviour_pb2,
    catalogue_pb2,
    delivery_pb2,
    orders_pb2,
    payments_pb2,
    tickets_pb2,
    users_pb2,
)
from ticketing.orders.v1 import orders_pb2 as order_status_pb2
from ticketing.orders.v1 import orders_pb2 as orders_api
from ticketing.tickets.v1 import tickets_pb2 as tickets_v1_pb2

PUBLISHED = datetime(2026, 3, 1, 12, 30, 15, 250000, tzinfo=UTC)
REQUESTED = datetime(2026, 3, 1, 12, 29, 59, 500000, tzinfo=UTC)
CLOCK = FrozenClock(datetime(2026, 3, 2, tzinfo=UTC))


def delivery(event: Message, event_id: str = "e-1", published: datetime | None = PUBLISHED):
    return Delivery(
        event_id, events.type_name(event), events.routing_key(event), 1, "test", published
    )


# (event, the columns its row has besides event_id, type and occurred_at)
CASES: list[tuple[Message, dict]] = [
    (
        tickets_pb2.TicketCreated(
            id="t-1",
            version=0,
            title="Row F",
            price="20.00",
            user_id="s",
            currency_code="EUR",
            event_id="ev-1",
            quantity=4,
        ),
        dict(
            user_id="s",
            ticket_id="t-1",
            order_id="",
            seller_id="s",
            price=Decimal("20.00"),
            title="Row F",
            version=0,
            currency="EUR",
            catalogue_event_id="ev-1",
            quantity=4,
        ),
    ),
    (
        tickets_pb2.TicketUpdated(
            id="t-1", version=1, title="Row F", price="25.50", user_id="s", order_id="o-1"
        ),
        dict(
            user_id="s",
            ticket_id="t-1",
            order_id="o-1",
            seller_id="s",
            price=Decimal("25.50"),
            title="Row F",
            version=1,
            currency="USD",  # an event from before v1 names none: USD, as all were
        ),
    ),
    (
        tickets_pb2.TicketUpdated(id="t-1", version=2, title="Row F", price="25.50", user_id="s"),
        dict(
            user_id="s",
            ticket_id="t-1",
            order_id="",
            seller_id="s",
            price=Decimal("25.50"),
            title="Row F",
            version=2,
            currency="USD",
        ),
    ),
    (
        orders_pb2.OrderCreated(
            id="o-1",
            version=0,
            status=orders_api.ORDER_STATUS_CREATED,
            user_id="b",
            expires_at=timestamp(PUBLISHED),
            ticket=orders_pb2.OrderCreated.Ticket(
                id="t-1", price="25.50", currency_code="GBP", quantity=3
            ),
        ),
        dict(
            user_id="b",
            order_id="o-1",
            ticket_id="t-1",
            price=Decimal("25.50"),
            version=0,
            currency="GBP",
            quantity=3,
        ),
    ),
    (
        orders_pb2.OrderCancelled(
            id="o-1", version=1, ticket=orders_pb2.OrderCancelled.Ticket(id="t-1"), reason="EXPIRED"
        ),
        dict(order_id="o-1", ticket_id="t-1", detail="EXPIRED", version=1),
    ),
    (
        orders_pb2.OrderUpdated(
            id="o-1", version=2, status=order_status_pb2.ORDER_STATUS_COMPLETE, user_id="u-2"
        ),
        dict(user_id="u-2", order_id="o-1", detail="COMPLETE", version=2),
    ),
    (orders_pb2.OrderExpired(order_id="o-1"), dict(order_id="o-1")),
    (
        payments_pb2.ChargeCreated(
            id="p-1", order_id="o-1", stripe_id="pi_1", amount=2550, currency_code="EUR"
        ),
        dict(order_id="o-1", price=Decimal("25.50"), detail="pi_1", currency="EUR"),
    ),
    (
        # With fees: the tickets sold for the subtotal; the buyer's fees are not a seller's sale.
        payments_pb2.ChargeCreated(
            id="p-1",
            order_id="o-1",
            stripe_id="pi_1",
            amount=2855,
            currency_code="USD",
            charges=payments_pb2.OrderCharges(
                quantity=1, subtotal=2550, buyer_fees=305, total=2855, commission=128, proceeds=2422
            ),
        ),
        dict(order_id="o-1", price=Decimal("25.50"), detail="pi_1", currency="USD"),
    ),
    (
        payments_pb2.ChargeFailed(order_id="o-1", reason="Your card was declined."),
        dict(order_id="o-1", detail="Your card was declined."),
    ),
    (
        payments_pb2.ChargePending(id="p-1", order_id="o-1", stripe_id="pi_1", amount=2550),
        dict(order_id="o-1", price=Decimal("25.50"), detail="pi_1", currency="USD"),
    ),
    (
        payments_pb2.PayoutPaid(
            id="po-1",
            order_id="o-1",
            seller_id="s-1",
            transfer_id="tr_1",
            amount=4550,
            currency_code="GBP",
        ),
        dict(user_id="s-1", order_id="o-1", price=Decimal("45.50"), currency="GBP", detail="tr_1"),
    ),
    (
        delivery_pb2.DeliveryCompleted(
            order_id="o-1",
            seller_id="s-1",
            buyer_id="b-1",
            event_id="e-1",
            method=tickets_v1_pb2.DELIVERY_METHOD_BARCODE,
            quantity=2,
        ),
        dict(
            user_id="s-1",
            order_id="o-1",
            catalogue_event_id="e-1",
            detail="DELIVERY_METHOD_BARCODE",
        ),
    ),
    (
        delivery_pb2.DeliveryMissed(order_id="o-1", seller_id="s-1", buyer_id="b-1"),
        dict(user_id="s-1", order_id="o-1"),
    ),
    (
        delivery_pb2.DeliveryDeadlineApproaching(order_id="o-2", seller_id="s-2"),
        dict(user_id="s-2", order_id="o-2"),
    ),
    (
        delivery_pb2.PassIssued(
            pass_id="p-1", event_id="e-1", order_id="o-1", holder_id="b-1", serial=1
        ),
        dict(user_id="b-1", order_id="o-1", catalogue_event_id="e-1", detail="p-1#1"),
    ),
    (
        delivery_pb2.PassTransferOffered(
            pass_id="p-1", event_id="e-1", holder_id="b-1", to_email="friend@example.com"
        ),
        dict(user_id="b-1", catalogue_event_id="e-1", detail="p-1"),
    ),
    (
        delivery_pb2.PassReissued(
            pass_id="p-1",
            event_id="e-1",
            previous_holder_id="b-1",
            holder_id="f-1",
            serial=2,
            revoked_serial=1,
            reason="TRANSFER",
        ),
        dict(user_id="f-1", catalogue_event_id="e-1", detail="TRANSFER p-1#2"),
    ),
    (
        payments_pb2.RefundIssued(
            id="re-1",
            order_id="o-1",
            buyer_id="b-1",
            stripe_refund_id="re_1",
            amount=1250,
            currency_code="EUR",
            origin="ADMIN",
        ),
        dict(user_id="b-1", order_id="o-1", price=Decimal("12.50"), detail="re_1", currency="EUR"),
    ),
    (
        payments_pb2.DisputeOpened(
            id="du_1", order_id="o-1", amount=5500, currency_code="EUR", status="needs_response"
        ),
        dict(order_id="o-1", price=Decimal("55.00"), detail="needs_response", currency="EUR"),
    ),
    (
        payments_pb2.DisputeClosed(
            id="du_1", order_id="o-1", amount=5500, currency_code="EUR", status="lost"
        ),
        dict(order_id="o-1", price=Decimal("55.00"), detail="lost", currency="EUR"),
    ),
    (users_pb2.UserCreated(id="u-1", email="ann@example.com"), dict(user_id="u-1")),
    (
        users_pb2.UserUpdated(id="u-1", email="ann@example.com", version=2),
        dict(user_id="u-1", version=2),
    ),
    (
        behaviour_pb2.TicketViewed(ticket_id="t-1", anonymous_id="a-1"),
        dict(anonymous_id="a-1", ticket_id="t-1"),
    ),
    (
        behaviour_pb2.TicketViewed(ticket_id="t-1", user_id="u-1", anonymous_id="a-1"),
        dict(user_id="u-1", anonymous_id="a-1", ticket_id="t-1"),
    ),
    (
        behaviour_pb2.TicketsBrowsed(
            user_id="u-1", anonymous_id="a-1", first=2, after="abc", ticket_ids=["t-2", "t-1"]
        ),
        dict(
            user_id="u-1",
            anonymous_id="a-1",
            detail=json.dumps(
                {"after": "abc", "first": 2, "includeReserved": False, "ticketIds": ["t-2", "t-1"]},
                separators=(",", ":"),
            ),
        ),
    ),
    (
        behaviour_pb2.OrderStarted(ticket_id="t-1", anonymous_id="a-1"),
        dict(anonymous_id="a-1", ticket_id="t-1"),
    ),
    (
        behaviour_pb2.EventViewed(event_id="ev-1", user_id="u-1", anonymous_id="a-1"),
        dict(user_id="u-1", anonymous_id="a-1", catalogue_event_id="ev-1"),
    ),
    (
        catalogue_pb2.EventChanged(
            id="e-1",
            version=2,
            name="Arctic Monkeys",
            status="SCHEDULED",
            performers=[catalogue_pb2.CataloguePerformer(id="performer:am", name="AM")],
            venue=catalogue_pb2.CatalogueVenue(id="venue:o2", city="London"),
            category="CONCERT",
            starts_at=timestamp(datetime(2026, 6, 1, 19, 30, tzinfo=UTC)),
        ),
        dict(
            detail=json.dumps(
                {
                    "category": "CONCERT",
                    "city": "London",
                    "eventId": "e-1",
                    "performers": ["performer:am"],
                    "startsAt": "2026-06-01T19:30:00+00:00",
                    "status": "SCHEDULED",
                    "version": 2,
                },
                separators=(",", ":"),
            ),
            catalogue_event_id="e-1",
        ),
    ),
    (
        catalogue_pb2.EventStatusChanged(
            id="e-1", version=3, status="CANCELLED", previous_status="SCHEDULED"
        ),
        dict(detail='{"eventId":"e-1","status":"CANCELLED","version":3}', catalogue_event_id="e-1"),
    ),
]


@pytest.fixture
def store() -> Iterator[DuckDBEventStore]:
    store = DuckDBEventStore(":memory:")
    store.open()
    yield store
    store._close_connection()


async def stored_rows(store: DuckDBEventStore) -> list[EventRow]:
    def query(cursor):
        names = ", ".join(EventRow.__dataclass_fields__)
        rows = cursor.execute(f"SELECT {names} FROM events ORDER BY event_id").fetchall()
        return [EventRow(*row) for row in rows]

    return await store.read(query)


def test_every_event_in_the_catalogue_has_a_mapping() -> None:
    assert set(events.all_events()) == set(COLUMNS_OF)
    assert {type(event) for event, _ in CASES} == set(COLUMNS_OF)


@pytest.mark.parametrize(("event", "columns"), CASES, ids=lambda c: type(c).__name__)
async def test_an_event_becomes_its_row_in_the_store(
    store: DuckDBEventStore, event: Message, columns: dict
) -> None:
    handler = event_handlers(InsightsHandlers(store), CLOCK)[type(event)]

    await handler(event, delivery(event))

    [row] = await stored_rows(store)
    assert row == EventRow(
        event_id="e-1",
        type=events.routing_key(event),
        occurred_at=PUBLISHED.replace(tzinfo=None),  # the column is naive UTC
        **columns,
    )


async def test_the_same_event_twice_is_one_row(store: DuckDBEventStore) -> None:
    event = tickets_pb2.TicketCreated(id="t-1", title="Row F", price="20.00", user_id="s")
    handler = event_handlers(InsightsHandlers(store), CLOCK)[type(event)]

    await handler(event, delivery(event, "same"))
    await handler(event, delivery(event, "same"))

    assert await store.count_by_type() == {"ticket.created": 1}


async def test_duplicates_arriving_together_are_one_row_and_one_is_new(
    store: DuckDBEventStore,
) -> None:
    import asyncio

    row = EventRow("dup", "order.expired", PUBLISHED, order_id="o-1")
    other = EventRow("other", "order.expired", PUBLISHED, order_id="o-2")

    added = await asyncio.gather(*(store.add(r) for r in (row, row, other, row)))

    assert sorted(added) == [False, False, True, True]
    assert await store.count_by_type() == {"order.expired": 2}


async def test_a_behaviour_event_keeps_the_time_of_the_request(store: DuckDBEventStore) -> None:
    event = behaviour_pb2.TicketViewed(
        ticket_id="t-1", anonymous_id="a-1", occurred_at=timestamp(REQUESTED)
    )
    assert row_of(event, delivery(event), CLOCK).occurred_at == REQUESTED


def test_an_event_that_says_no_time_is_timed_on_arrival() -> None:
    event = orders_pb2.OrderExpired(order_id="o-1")
    assert row_of(event, delivery(event, published=None), CLOCK).occurred_at == CLOCK.now()


def test_a_price_that_is_not_a_decimal_is_poison() -> None:
    event = tickets_pb2.TicketCreated(id="t-1", title="Row F", price="twenty", user_id="s")
    with pytest.raises(PoisonMessage, match="price"):
        row_of(event, delivery(event), CLOCK)


async def test_counts_about_one_ticket_or_order(store: DuckDBEventStore) -> None:
    for event_id, row in enumerate(
        [
            EventRow("", "ticket.created", PUBLISHED, ticket_id="t-1", order_id=""),
            EventRow("", "order.created", PUBLISHED, ticket_id="t-1", order_id="o-1"),
            EventRow("", "charge.created", PUBLISHED, order_id="o-1"),
            EventRow("", "ticket.created", PUBLISHED, ticket_id="t-2", order_id=""),
        ]
    ):
        await store.add(EventRow(**{**row.__dict__, "event_id": str(event_id)}))

    assert await store.count_by_type(ticket_id="t-1") == {"ticket.created": 1, "order.created": 1}
    assert await store.count_by_type(ticket_id="t-1", order_id="o-1") == {
        "ticket.created": 1,
        "order.created": 1,
        "charge.created": 1,
    }
    assert await store.count_by_type() == {
        "ticket.created": 2,
        "order.created": 1,
        "charge.created": 1,
    }


def test_a_second_process_cannot_open_the_same_file(tmp_path) -> None:
    import subprocess
    import sys

    path = tmp_path / "events.duckdb"
    first = DuckDBEventStore(str(path))
    first.open()  # closed when the test's process ends
    script = (
        "from svc_insights.adapters.duckdb_store import DuckDBEventStore, StoreLocked\n"
        f"try:\n    DuckDBEventStore({str(path)!r}).open()\nexcept StoreLocked as exc:\n"
        "    print(exc)\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert "open in another process" in result.stdout, result.stderr
