"""The passes' handlers against an in-memory unit of work (tests/unit/fakes_delivery.py) and a
real key directory: issued with the delivery, read as each caller may, transferred by e-mail."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from common.clock import FrozenClock
from common.delivery import Delivery as Message
from common.errors import Conflict, InvalidInput, NotFound
from svc_delivery.adapters import signing_keys
from svc_delivery.domain import pass_events
from svc_delivery.domain.methods import DeliveryMethod
from svc_delivery.domain.passes import PassState
from svc_delivery.service_layer.commands import Caller, OpenDelivery
from svc_delivery.service_layer.handlers import DeliveryHandlers
from svc_delivery.service_layer.order_events import OrderEvents
from svc_delivery.service_layer.passes import PassHandlers
from tests.unit.fakes_delivery import FakeDeliveryUnitOfWork, Store

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
SELLER = Caller("seller", email="seller@example.com")
BUYER = Caller("buyer", email="buyer@example.com")
FRIEND = Caller("friend", email="friend@example.com")
STRANGER = Caller("stranger", email="stranger@example.com")

_ids = iter(range(10**6))


def message() -> Message:
    return Message(f"ev{next(_ids)}", "t", "k", 1, "orders")


class World:
    def __init__(self, keys: Path) -> None:
        self.store = Store()
        self.clock = FrozenClock(NOW)
        signing_keys.generate(keys, NOW - timedelta(days=1))
        self.signer = signing_keys.load(keys, NOW)

        def uow() -> FakeDeliveryUnitOfWork:
            return FakeDeliveryUnitOfWork(self.store)

        self.orders = OrderEvents(uow, self.clock, timedelta(hours=24), timedelta(hours=48))
        self.deliveries = DeliveryHandlers(uow, self.clock, max_file_bytes=1024)
        self.passes = PassHandlers(uow, self.clock, self.signer)

    async def delivered(self, order_id: str = "o1", event_id: str = "", seats: int = 2) -> None:
        event_id = event_id or "5b1f3c2e-8a5d-4f61-9c1e-2d7a9b0c4e11"
        await self.orders.open(
            OpenDelivery(
                order_id,
                0,
                "buyer",
                "seller",
                "t1",
                event_id,
                DeliveryMethod.BARCODE,
                NOW + timedelta(days=3),
                seats,
                ("A1", "A2")[:seats],
                NOW,
            ),
            message(),
        )
        await self.orders.paid(order_id, 2, message())
        await self.deliveries.deliver_barcodes(
            SELLER, order_id, [f"BC-{n:04d}" for n in range(seats)]
        )

    def verify(self, code: str):
        return self.signer.ring.verify(code, signing_keys.check_signature, NOW)


@pytest.fixture
def world(tmp_path: Path) -> World:
    return World(tmp_path / "keys")


async def test_a_delivery_issues_one_pass_per_seat_to_the_buyer_with_a_signed_code(world):
    await world.delivered()
    mine = (await world.passes.list_mine(BUYER, "", 10, "")).items
    assert sorted((v.pass_.seat, v.pass_.seat_label, v.pass_.serial) for v in mine) == [
        (0, "A1", 1),
        (1, "A2", 1),
    ]
    for view in mine:
        code = world.verify(view.code)
        assert (code.pass_id, code.serial) == (view.pass_.id, 1)
        assert view.pass_.is_for(code)
    issued = [e for e in world.store.published if isinstance(e, pass_events.PassIssued)]
    assert sorted(e.pass_id for e in issued) == sorted(v.pass_.id for v in mine)
    # The seller sees the order's passes, without codes or holder; a stranger sees nothing.
    by_seller = await world.passes.list_order(SELLER, "o1")
    assert [(v.code, v.shows_holder) for v in by_seller] == [("", False), ("", False)]
    with pytest.raises(NotFound):
        await world.passes.list_order(STRANGER, "o1")
    with pytest.raises(NotFound):
        await world.passes.get(STRANGER, mine[0].pass_.id)


async def test_a_delivery_without_a_catalogue_event_issues_no_pass(world):
    await world.orders.open(
        OpenDelivery(
            "o2",
            0,
            "buyer",
            "seller",
            "t1",
            "",
            DeliveryMethod.BARCODE,
            NOW + timedelta(days=3),
            1,
            (),
            NOW,
        ),
        message(),
    )
    await world.orders.paid("o2", 2, message())
    await world.deliveries.deliver_barcodes(SELLER, "o2", ["BC-0001"])
    assert world.store.passes == {}


async def test_a_transfer_offered_then_accepted_reissues_the_pass_to_the_recipient(world):
    await world.delivered()
    [first, _] = await world.passes.list_order(BUYER, "o1")
    held = first.pass_
    with pytest.raises(InvalidInput) as own:
        await world.passes.offer(BUYER, held.id, "Buyer@example.com", held.version)
    assert own.value.field == "to_email"
    with pytest.raises(Conflict) as stale:
        await world.passes.offer(BUYER, held.id, FRIEND.email, held.version + 1)
    assert stale.value.field == "expected_version"
    with pytest.raises(NotFound):
        await world.passes.offer(STRANGER, held.id, FRIEND.email, held.version)

    offered = await world.passes.offer(BUYER, held.id, "FRIEND@example.com", held.version)
    assert offered.pass_.state is PassState.TRANSFER_OFFERED
    assert offered.code == first.code  # still the buyer's until accepted
    again = await world.passes.offer(BUYER, held.id, FRIEND.email, held.version)
    assert again.pass_.version == offered.pass_.version  # a retry changes nothing
    assert [p.id for p in await world.passes.incoming(FRIEND)] == [held.id]
    assert await world.passes.incoming(STRANGER) == []
    with pytest.raises(NotFound):
        await world.passes.accept(STRANGER, held.id)

    accepted = await world.passes.accept(FRIEND, held.id)
    assert (accepted.pass_.holder_id, accepted.pass_.serial) == ("friend", 2)
    assert world.verify(accepted.code).serial == 2
    assert accepted.pass_.valid_from == 2  # the buyer's code, serial 1, is revoked
    assert (await world.passes.accept(FRIEND, held.id)).pass_.serial == 2  # a retry
    [reissued] = [e for e in world.store.published if isinstance(e, pass_events.PassReissued)]
    assert (reissued.previous_holder_id, reissued.revoked_serial) == ("buyer", 1)
    # The buyer sees it on the order, without a code; it is no longer among theirs.
    assert (await world.passes.get(BUYER, held.id)).code == ""
    assert [v.pass_.seat for v in (await world.passes.list_mine(BUYER, "", 10, "")).items] == [1]


async def test_a_withdrawn_offer_cannot_be_accepted(world):
    await world.delivered(seats=1)
    [view] = await world.passes.list_order(BUYER, "o1")
    await world.passes.offer(BUYER, view.pass_.id, FRIEND.email, view.pass_.version)
    withdrawn = await world.passes.withdraw(BUYER, view.pass_.id)
    assert withdrawn.pass_.state is PassState.ACTIVE
    with pytest.raises(NotFound):
        await world.passes.accept(FRIEND, view.pass_.id)
    assert world.store.passes[view.pass_.id].holder_id == "buyer"


async def test_no_transfer_of_a_pass_listed_for_resale_or_used_for_entry(world):
    await world.delivered()
    [listed, entered] = [v.pass_ for v in await world.passes.list_order(BUYER, "o1")]
    stored = world.store.passes[listed.id]
    stored.state, stored.listing_id = PassState.LISTED_FOR_RESALE, "l1"
    with pytest.raises(Conflict) as for_sale:
        await world.passes.offer(BUYER, listed.id, FRIEND.email, listed.version)
    assert for_sale.value.field == "pass_id"

    world.store.admissions[(entered.event_id, entered.id)] = NOW
    with pytest.raises(Conflict):
        await world.passes.offer(BUYER, entered.id, FRIEND.email, entered.version)
    assert world.store.passes[entered.id].state is PassState.ACTIVE  # nothing happened
    assert (await world.passes.get(BUYER, entered.id)).entered_at == NOW


async def test_the_published_keys_are_the_ring(world):
    keys = world.passes.ticket_keys()
    assert [k["kid"] for k in keys["keys"]] == [world.signer.signing_key_id(NOW)]
