"""An event's own fees (docs/design/money.md §3): operators set them on the catalogue's event,
checked there; they travel on event.changed; payments' event copy keeps them, and quotes and new
orders of the event use them (orders placed before keep theirs)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from itertools import count

import pytest

from common.clock import FrozenClock
from common.errors import Conflict, Forbidden, InvalidInput
from svc_catalogue.adapters.tantivy_index import TantivyEventIndex
from svc_catalogue.domain.fees import FeeOverride as CatalogueFees
from svc_catalogue.domain.values import EventStatus
from svc_catalogue.service_layer.commands import ChangeEventStatus, CreateEvent, SetEventFees
from svc_catalogue.service_layer.handlers import CatalogueHandlers
from svc_payments.domain.fees import FeeOverride, QuoteLine
from tests.unit.fakes_catalogue import CatalogueStore, FakeCatalogueUnitOfWork
from tests.unit.payments_world import EXAMPLE_FEES, delivery, new_world
from tests.unit.test_catalogue_handlers import ADMIN, VISITOR, event_input
from ticketing.events.v1 import catalogue_pb2, orders_pb2


@pytest.fixture
def store() -> CatalogueStore:
    return CatalogueStore()


@pytest.fixture
def handlers(store) -> CatalogueHandlers:
    ids = count(1)
    return CatalogueHandlers(
        lambda: FakeCatalogueUnitOfWork(store),
        FrozenClock(datetime(2027, 1, 1, tzinfo=UTC)),
        TantivyEventIndex(),
        new_id=lambda: f"e{next(ids)}",
    )


def fees(by=ADMIN, event_id="e1", percent="", fixed=(), commission="", version=0):
    return SetEventFees(by, event_id, percent, list(fixed), commission, version)


async def test_an_admin_sets_an_events_fees_and_they_travel_on_event_changed(handlers, store):
    await handlers.create_event(CreateEvent(ADMIN, event_input(), "k1"))
    event = await handlers.set_fees(fees(percent="7.50", fixed=[("0.25", "usd")], commission="20"))
    assert event.fee_override == CatalogueFees(
        Decimal("7.5"), (("USD", Decimal("0.25")),), Decimal(20)
    )
    assert event.version == 1
    changed = store.published_of(catalogue_pb2.EventChanged)[-1]
    assert changed.version == 1
    assert changed.fee_override.buyer_fee_percent == "7.5"
    assert changed.fee_override.seller_commission_percent == "20"  # never "2E+1"
    assert [(f.currency_code, f.amount) for f in changed.fee_override.buyer_fee_fixed] == [
        ("USD", "0.25")
    ]
    # The same fees asked again at the old version: our own change, answered; nothing new.
    published = len(store.published)
    again = await handlers.set_fees(fees(percent="7.5", fixed=[("0.25", "USD")], commission="20.0"))
    assert again.version == 1 and len(store.published) == published
    # Every part empty clears them (the settings apply again).
    cleared = await handlers.set_fees(fees(version=1))
    assert cleared.fee_override.empty and cleared.version == 2
    assert not store.published_of(catalogue_pb2.EventChanged)[-1].HasField("fee_override")


@pytest.mark.parametrize(
    ("given", "field"),
    [
        ({"percent": "100.01"}, "buyer_fee_percent"),
        ({"percent": "-1"}, "buyer_fee_percent"),
        ({"percent": "1.23456"}, "buyer_fee_percent"),
        ({"percent": "ten"}, "buyer_fee_percent"),
        ({"commission": "NaN"}, "seller_commission_percent"),
        ({"fixed": [("0.001", "USD")]}, "buyer_fee_fixed[0].amount"),
        ({"fixed": [("-1", "USD")]}, "buyer_fee_fixed[0].amount"),
        ({"fixed": [("1", "XTS")]}, "buyer_fee_fixed[0].currency_code"),
        ({"fixed": [("1", "USD"), ("2", "usd")]}, "buyer_fee_fixed[1].currency_code"),
    ],
)
async def test_bad_fees_are_refused_by_field_and_nothing_is_stored(handlers, store, given, field):
    await handlers.create_event(CreateEvent(ADMIN, event_input(), "k1"))
    published = len(store.published)
    with pytest.raises(InvalidInput) as refused:
        await handlers.set_fees(fees(**given))
    assert refused.value.field == field
    assert store.events["e1"].fee_override.empty and store.events["e1"].version == 0
    assert len(store.published) == published


async def test_only_an_admin_sets_fees_and_not_on_a_cancelled_event(handlers, store):
    await handlers.create_event(CreateEvent(ADMIN, event_input(), "k1"))
    with pytest.raises(Forbidden):
        await handlers.set_fees(fees(by=VISITOR, percent="1"))
    await handlers.change_status(ChangeEventStatus(ADMIN, "e1", EventStatus.CANCELLED, 0))
    with pytest.raises(Conflict):
        await handlers.set_fees(fees(percent="1", version=1))
    assert store.events["e1"].fee_override.empty


# -- payments: the event copy keeps them; quotes and new orders use them ---------------------


def event_changed(version: int, percent: str = "", commission: str = "", fixed=()):
    message = catalogue_pb2.EventChanged(id="ev1", version=version, status="SCHEDULED")
    if percent or commission or fixed:
        message.fee_override.buyer_fee_percent = percent
        message.fee_override.seller_commission_percent = commission
        for currency, amount in fixed:
            message.fee_override.buyer_fee_fixed.add(currency_code=currency, amount=amount)
    return message


async def order_of_event(world, order_id: str):
    ticket = orders_pb2.OrderCreated.Ticket(
        id="t1", price="20.00", currency_code="USD", quantity=2, event_id="ev1", seller_id="s1"
    )
    event = orders_pb2.OrderCreated(id=order_id, user_id="buyer-1", ticket=ticket)
    await world.handlers.order_copy.on_order_created(event, delivery(event))
    return world.db.orders[order_id]


async def test_an_order_is_charged_its_events_fees_of_the_moment_it_is_placed():
    world = new_world(EXAMPLE_FEES)  # 10 % + 0.50 USD, 5 % commission
    before = await order_of_event(world, "o1")
    assert before.charges.total == 2 * (2000 + 250)
    copy = world.handlers.event_copy
    changed = event_changed(1, percent="0", commission="20", fixed=[("USD", "1.00")])
    await copy.on_event_changed(changed, delivery(changed))
    after = await order_of_event(world, "o2")
    assert (after.charges.unit_buyer_fee, after.charges.unit_commission) == (100, 400)
    assert after.charges.total == 2 * 2100 and after.charges.proceeds == 2 * 1600
    # The order placed before keeps its fees.
    assert world.db.orders["o1"].charges.total == 2 * 2250
    # A quote for the event's tickets agrees with what its order is charged.
    [quote, standard] = await world.handlers.quote_fees(
        [QuoteLine("20.00", "USD", 2, "ev1"), QuoteLine("20.00", "USD", 2)]
    )
    assert quote == after.charges
    assert standard.total == before.charges.total


async def test_fees_survive_a_status_change_of_the_same_version_heard_first():
    world = new_world(EXAMPLE_FEES)
    copy = world.handlers.event_copy
    first = event_changed(0, commission="0")
    await copy.on_event_changed(first, delivery(first))
    # Version 1 is a cancellation: its EventStatusChanged comes before its EventChanged.
    status = catalogue_pb2.EventStatusChanged(id="ev1", version=1, status="POSTPONED")
    await copy.on_event_status_changed(status, delivery(status))
    changed = event_changed(1, commission="1")
    changed.status = "POSTPONED"
    await copy.on_event_changed(changed, delivery(changed))
    schedule = world.db.tables["event_schedules"]["ev1"]
    assert schedule.fee_override == FeeOverride(seller_commission_percent=Decimal(1))
    # An older EventChanged arriving late changes nothing.
    await copy.on_event_changed(first, delivery(first))
    assert world.db.tables["event_schedules"]["ev1"].fee_override.seller_commission_percent == 1
