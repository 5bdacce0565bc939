"""`ticketing migrate`: brings the tickets stored before listings of several seats up to date,
once, and settles the holds the upgrade could not: the tickets service never knew whether a
pre-upgrade order was paid (the orders service owned that), so its seat read HELD after the
upgrade even when the order was COMPLETE.

Two steps, each a no-op the second time:
1. every legacy ticket (no `holds`) is rewritten as a listing of one seat, its `order_id` as the
   hold (svc_tickets/adapters/documents.py says how), with no new version and no event: the
   ticket reads the same before and after;
2. every hold not sold is settled by what the orders service says of its order: COMPLETE (paid)
   sells its seats, CANCELLED releases them (as OrderCancelled would have: an order event for
   a legacy ticket the service read before this migration found no hold to act on). Each is a
   transaction of its own, through the domain (a new version and a TicketUpdated event, sent by
   the running service's outbox relay), so a run beside a running service races nothing.
Holds of orders still open (CREATED, AWAITING_PAYMENT) are left to their events."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from common.retries import retry_transient
from svc_tickets.domain.model import Ticket
from svc_tickets.service_layer.unit_of_work import TicketsUnitOfWork

# The orders service's statuses, as OrderStatuses names them.
PAID, ENDED = "COMPLETE", "CANCELLED"
ORDERS_PER_CALL = 500


class LegacyListings(Protocol):
    """The tickets collection as the migration reads it (scans: the migration only)."""

    async def legacy(self) -> list[Ticket]:
        """Tickets stored before listings of several seats, read as one-seat listings."""
        ...

    async def rewrite(self, ticket_id: str) -> bool:
        """Stores a legacy ticket as a one-seat listing; False if it is one already."""
        ...

    async def unsold_holds(self) -> list[tuple[str, str]]:
        """(ticket id, order id) of every hold not sold, of the listings stored as such."""
        ...


class OrderStatuses(Protocol):
    async def statuses_of(self, order_ids: list[str]) -> dict[str, str]:
        """Order id -> its status (CREATED, AWAITING_PAYMENT, COMPLETE, CANCELLED) for the
        orders the orders service knows (at most ORDERS_PER_CALL ids); the others left out."""
        ...


@dataclass
class MigrationReport:
    dry_run: bool
    rewritten: int = 0  # legacy tickets stored as one-seat listings
    sold: int = 0  # holds of paid orders marked sold
    released: int = 0  # holds of cancelled orders released
    open: int = 0  # holds of orders still open: their events settle them
    unknown: int = 0  # holds of orders the orders service does not know: left as they are
    lines: list[str] = field(default_factory=list)  # a change (or would-be one) or a hold left

    def summary(self) -> str:
        verb = "would change" if self.dry_run else "changed"
        return (
            f"{verb}: {self.rewritten} legacy tickets rewritten as one-seat listings, "
            f"{self.sold} holds of paid orders marked sold, {self.released} holds of cancelled "
            f"orders released; left: {self.open} holds of open orders, {self.unknown} holds of "
            "orders unknown to the orders service"
        )

    @property
    def changed(self) -> int:
        return self.rewritten + self.sold + self.released


async def migrate(
    listings: LegacyListings,
    orders: OrderStatuses,
    uow: Callable[[], TicketsUnitOfWork],
    dry_run: bool = False,
) -> MigrationReport:
    report = MigrationReport(dry_run)
    would = "would " if dry_run else ""
    # Everything is read, and the orders service asked, before anything is written: a run that
    # cannot reach it changes nothing. A legacy ticket's hold is counted once, from `legacy`.
    legacy = await listings.legacy()
    holds = await listings.unsold_holds()
    holds += [(t.id, h.order_id) for t in legacy for h in t.holds if not h.sold]
    statuses: dict[str, str] = {}
    order_ids = list(dict.fromkeys(order_id for _, order_id in holds))
    for start in range(0, len(order_ids), ORDERS_PER_CALL):
        statuses |= await orders.statuses_of(order_ids[start : start + ORDERS_PER_CALL])
    for ticket in legacy:
        if dry_run or await listings.rewrite(ticket.id):
            report.rewritten += 1
            report.lines.append(f"ticket {ticket.id}: {would}rewrite as a one-seat listing")
    for ticket_id, order_id in holds:
        status = statuses.get(order_id)
        if status is None:
            report.unknown += 1
            report.lines.append(
                f"ticket {ticket_id}: order {order_id} is unknown to the orders service: "
                "its hold is left as it is"
            )
        elif status not in (PAID, ENDED):
            report.open += 1
        elif dry_run or await _settle(uow, ticket_id, order_id, status):
            if status == PAID:
                report.sold += 1
                what = f"{would}mark its seats sold (order {order_id} is COMPLETE)"
            else:
                report.released += 1
                what = f"{would}release its seats (order {order_id} is CANCELLED)"
            report.lines.append(f"ticket {ticket_id}: {what}")
    return report


@retry_transient()
async def _settle(
    uow_factory: Callable[[], TicketsUnitOfWork], ticket_id: str, order_id: str, status: str
) -> bool:
    """Sells (PAID) or releases (ENDED) the order's seats; False if its event did first."""
    async with uow_factory() as uow:
        ticket = await uow.tickets.get(ticket_id)
        if ticket is None:
            return False
        if status == PAID:
            changed = ticket.sell(order_id)
        else:
            await uow.tickets.remember_ended(order_id)
            changed = ticket.release(order_id)
        if changed:
            await uow.tickets.save(ticket)
        await uow.commit()
        return changed
