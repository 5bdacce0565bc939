"""The delivery service's handlers against an in-memory unit of work (tests/unit/fakes_delivery.py):
deliveries follow their orders' events once each and in version order, the seller delivers
what the listing's method says by the deadline, the sweep publishes a reminder and a missed
deadline once each, and who may see what (issue 22)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from common.clock import FrozenClock
from common.delivery import Delivery as Message
from common.errors import Conflict, Forbidden, InvalidInput, NotFound, NotYet
from svc_delivery.domain import events
from svc_delivery.domain.methods import DeliveryMethod, DeliveryStatus
from svc_delivery.service_layer.commands import Caller, ListMine, OpenDelivery, Upload
from svc_delivery.service_layer.handlers import DeliveryHandlers
from svc_delivery.service_layer.order_events import OrderEvents
from svc_delivery.service_layer.sweep import DeadlineSweep
from tests.unit.fakes_delivery import FakeDeliveryUnitOfWork, Store

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
DEADLINE = NOW + timedelta(days=3)
REMIND = timedelta(hours=24)
PDF = b"%PDF-1.4\n%%EOF\n"
SELLER, BUYER = Caller("seller"), Caller("buyer")


class World:
    def __init__(self) -> None:
        self.store = Store()
        self.clock = FrozenClock(NOW)

        def uow() -> FakeDeliveryUnitOfWork:
            return FakeDeliveryUnitOfWork(self.store)

        self.orders = OrderEvents(uow, self.clock, REMIND, timedelta(hours=48))
        self.handlers = DeliveryHandlers(uow, self.clock, max_file_bytes=1024)
        self.sweep = DeadlineSweep(uow, self.clock, REMIND)

    async def placed(
        self, order_id: str = "o1", method: DeliveryMethod = DeliveryMethod.E_TICKET, quantity=1
    ) -> None:
        await self.orders.open(
            OpenDelivery(
                order_id, 0, "buyer", "seller", "t1", "e1", method, DEADLINE, quantity, (), NOW
            ),
            message(),
        )

    async def paid(self, order_id: str = "o1", version: int = 2) -> None:
        await self.orders.paid(order_id, version, message())

    def status(self, order_id: str = "o1") -> DeliveryStatus:
        return self.store.deliveries[order_id].status

    def published(self, kind: type) -> list:
        return [e for e in self.store.published if isinstance(e, kind)]


_ids = iter(range(10**6))


def message(event_id: str | None = None) -> Message:
    return Message(event_id or f"ev{next(_ids)}", "t", "k", 1, "orders")


@pytest.fixture
def world() -> World:
    return World()


async def test_an_order_placed_then_paid_is_due_and_a_redelivered_event_changes_nothing(
    world: World,
) -> None:
    await world.placed()
    assert world.status() == DeliveryStatus.AWAITING_PAYMENT
    paid = message("paid-1")
    await world.orders.paid("o1", 2, paid)
    assert world.status() == DeliveryStatus.DUE
    version, commits = world.store.deliveries["o1"].version, world.store.commits
    await world.orders.paid("o1", 2, paid)  # redelivered
    await world.orders.cancelled("o1", 1, False, message())  # older than the payment
    assert world.status() == DeliveryStatus.DUE
    assert world.store.deliveries["o1"].version == version
    assert world.store.commits == commits + 1  # the older event's inbox record, nothing else


async def test_an_event_before_its_order_created_waits_for_it(world: World) -> None:
    with pytest.raises(NotYet):
        await world.paid()
    await world.orders.cancelled("never", 1, True, message())  # never placed: nothing to do
    assert world.store.deliveries == {}


async def test_an_unpaid_order_cancelled_is_cancelled_a_paid_one_is_not(world: World) -> None:
    await world.placed("o1")
    await world.orders.cancelled("o1", 1, False, message())
    assert world.status("o1") == DeliveryStatus.CANCELLED
    await world.placed("o2")
    await world.paid("o2")
    await world.orders.cancelled("o2", 3, False, message())
    assert world.status("o2") == DeliveryStatus.DUE


async def test_the_seller_delivers_files_once_and_the_buyer_reads_them(world: World) -> None:
    await world.placed()
    with pytest.raises(Conflict, match="not paid"):
        await world.handlers.deliver_files(SELLER, "o1", [Upload("t.pdf", PDF, -1)])
    await world.paid()
    with pytest.raises(Forbidden):
        await world.handlers.deliver_files(BUYER, "o1", [Upload("t.pdf", PDF, -1)])
    with pytest.raises(NotFound):
        await world.handlers.deliver_files(Caller("stranger"), "o1", [Upload("t.pdf", PDF, -1)])
    with pytest.raises(InvalidInput, match="larger than 1024"):
        await world.handlers.deliver_files(SELLER, "o1", [Upload("t.pdf", PDF + bytes(1024), -1)])
    with pytest.raises(InvalidInput, match="seat"):
        await world.handlers.deliver_files(SELLER, "o1", [Upload("t.pdf", PDF, 3)])

    delivered = await world.handlers.deliver_files(SELLER, "o1", [Upload("t.pdf", PDF, -1)])
    again = await world.handlers.deliver_files(SELLER, "o1", [Upload("t.pdf", PDF, -1)])
    assert delivered.status == DeliveryStatus.DELIVERED
    assert [f.id for f in again.files] == [f.id for f in delivered.files]
    assert len(world.published(events.DeliveryCompleted)) == 1
    assert (await world.handlers.seller_record("seller")).delivered == 1
    with pytest.raises(Conflict, match="delivered already"):
        await world.handlers.deliver_files(SELLER, "o1", [Upload("other.pdf", PDF + b" ", -1)])

    got = await world.handlers.get_file(BUYER, "o1", delivered.files[0].id)
    assert got.content == PDF
    with pytest.raises(NotFound):
        await world.handlers.get_file(Caller("stranger"), "o1", delivered.files[0].id)
    assert (await world.handlers.get_file(Caller("ops", True), "o1", delivered.files[0].id)).content


async def test_barcodes_and_the_listings_method(world: World) -> None:
    await world.placed(method=DeliveryMethod.BARCODE, quantity=2)
    await world.paid()
    with pytest.raises(Conflict, match="BARCODE"):
        await world.handlers.confirm_transfer(SELLER, "o1", "sent")
    with pytest.raises(InvalidInput, match="one barcode per seat"):
        await world.handlers.deliver_barcodes(SELLER, "o1", ["ABCD1234"])
    with pytest.raises(InvalidInput, match="4 to 64"):
        await world.handlers.deliver_barcodes(SELLER, "o1", ["ABCD1234", "no spaces"])
    done = await world.handlers.deliver_barcodes(SELLER, "o1", ["ABCD1234", "ABCD1235"])
    assert done.barcodes == ("ABCD1234", "ABCD1235")


async def test_the_sweep_reminds_once_then_marks_missed_once(world: World) -> None:
    await world.placed()
    await world.paid()
    assert await world.sweep.sweep_due() == 0  # three days left: nothing due

    world.clock.at = DEADLINE - timedelta(hours=23)
    await world.sweep.sweep_due()
    await world.sweep.sweep_due()
    assert [e.order_id for e in world.published(events.DeliveryDeadlineApproaching)] == ["o1"]
    assert world.status() == DeliveryStatus.DUE

    world.clock.at = DEADLINE
    await world.sweep.sweep_due()
    await world.sweep.sweep_due()
    assert [e.order_id for e in world.published(events.DeliveryMissed)] == ["o1"]
    assert world.status() == DeliveryStatus.MISSED
    assert (await world.handlers.seller_record("seller")).missed == 1
    with pytest.raises(Conflict, match="deadline has passed"):
        await world.handlers.deliver_files(SELLER, "o1", [Upload("t.pdf", PDF, -1)])


async def test_an_order_paid_after_its_deadline_is_missed_at_the_next_sweep(world: World) -> None:
    await world.placed()
    world.clock.at = DEADLINE + timedelta(minutes=1)
    await world.paid()
    await world.sweep.sweep_due()
    assert world.status() == DeliveryStatus.MISSED
    assert world.published(events.DeliveryDeadlineApproaching) == []


async def test_a_stranger_sees_nothing_and_lists_are_the_callers_own(world: World) -> None:
    await world.placed("o1")
    await world.placed("o2")
    with pytest.raises(NotFound):
        await world.handlers.get(Caller("stranger"), "o1")
    assert await world.handlers.batch_get(Caller("stranger"), ["o1", "o2"]) == []
    page = await world.handlers.list_mine(ListMine(SELLER, True, [], 1, ""))
    assert len(page.items) == 1 and page.next_token
    rest = await world.handlers.list_mine(ListMine(SELLER, True, [], 1, page.next_token))
    assert {page.items[0].order_id, rest.items[0].order_id} == {"o1", "o2"}
    assert (await world.handlers.list_mine(ListMine(Caller("x"), False, [], 0, ""))).items == []
