"""`ticketing migrate`'s settling of holds (svc_tickets/service_layer/migration.py), over the
in-memory market of test_market_holds: the seats of orders the orders service says are paid are
sold, those of cancelled ones released, open ones left to their events; a dry run writes
nothing, a second run changes nothing, and an order event arriving after it changes nothing
more."""

from __future__ import annotations

from svc_orders.domain.model import OrderStatus
from svc_tickets.domain.model import TicketState
from svc_tickets.entrypoints.migrate import run_migration
from svc_tickets.service_layer.migration import migrate
from tests.unit.fakes_market import uow_factory
from tests.unit.test_market_holds import Market


class StoredListings:
    """The tickets store as the migration reads it: no legacy ticket left to rewrite."""

    def __init__(self, market: Market) -> None:
        self.market = market

    async def legacy(self):
        return []

    async def rewrite(self, ticket_id: str) -> bool:
        raise AssertionError("nothing to rewrite")

    async def unsold_holds(self) -> list[tuple[str, str]]:
        tickets = self.market.tickets_store.table("tickets").values()
        return [(t.id, h.order_id) for t in tickets for h in t.holds if not h.sold]


class OrdersSay:
    """The orders service's statuses, from its store."""

    def __init__(self, market: Market) -> None:
        self.market = market
        self.asked: list[list[str]] = []

    async def statuses_of(self, order_ids: list[str]) -> dict[str, str]:
        self.asked.append(order_ids)
        orders = self.market.orders_of()
        return {i: orders[i].status.value for i in order_ids if i in orders}


async def run(market: Market, dry_run: bool = False):
    return await migrate(
        StoredListings(market),
        OrdersSay(market),
        uow_factory(market.tickets_store, "tickets"),  # type: ignore[arg-type]
        dry_run=dry_run,
    )


async def test_paid_orders_seats_are_sold_cancelled_ones_released_and_again_nothing():
    market = Market()
    listing = await market.list(quantity=4)
    paid = await market.order(listing, quantity=2)
    open_order = await market.order(listing, quantity=1, buyer="buyer-2")
    ended = await market.order(listing, quantity=1, buyer="buyer-3")
    await market.pay(paid.id)  # COMPLETE at orders; its OrderUpdated not delivered (lost)
    orders = market.orders_of()
    orders[ended.id].status = OrderStatus.CANCELLED  # its OrderCancelled lost too
    assert orders[paid.id].status is OrderStatus.COMPLETE
    before = market.listing(listing)
    assert (before.state, before.available, before.version) == (TicketState.HELD, 0, 3)

    dry = await run(market, dry_run=True)
    assert (dry.sold, dry.released, dry.open, dry.unknown, dry.rewritten) == (1, 1, 1, 0, 0)
    assert market.listing(listing).version == 3  # the sentinel: nothing written

    done = await run(market)
    assert (done.sold, done.released, done.open) == (1, 1, 1)
    assert done.lines == [
        f"ticket {listing}: mark its seats sold (order {paid.id} is COMPLETE)",
        f"ticket {listing}: release its seats (order {ended.id} is CANCELLED)",
    ]
    ticket = market.listing(listing)
    assert {h.order_id: h.sold for h in ticket.holds} == {paid.id: True, open_order.id: False}
    assert (ticket.available, ticket.version) == (1, 5)

    again = await run(market)
    assert (again.changed, again.open) == (0, 1)
    assert market.listing(listing).version == 5

    # The paid order's OrderUpdated arriving late finds its seats sold already: no change.
    await market.pump()
    assert market.listing(listing).version == 5


def test_the_command_without_the_cli_key_says_so_and_exits_2(capsys, tmp_path):
    missing = tmp_path / "cli.pem"
    env = {"MONGO_URL": "mongodb://127.0.0.1:1", "SERVICE_PRIVATE_KEY_FILE": str(missing)}
    assert run_migration(env, dry_run=True) == 2
    err = capsys.readouterr().err
    assert err.startswith(
        f"ticketing migrate: configuration error: SERVICE_PRIVATE_KEY_FILE={missing}"
    )
