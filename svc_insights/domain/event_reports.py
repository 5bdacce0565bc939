"""The report of one catalogue event over a range of days: how its page and its listings were
viewed, ordered and paid, in total and per listing, and the funnel of the people who went from
the event's page to a paid order.

Definitions (each over the range, by the time of the event that counts):
- event views: `event.viewed` of the event; listing views: `ticket.viewed` of its listings;
- orders placed: `order.created` on its listings; orders paid: the `charge.created` of those
  orders (an order placed before the range and paid in it counts as paid);
- seats sold: the seats of the paid orders (an order from before quantities: 1); revenue: what
  they paid (price per seat x seats), per currency;
- the funnel counts people (the signed-in user, else the visitor's anonymous id, linked to its
  user when the two were seen together): who viewed the event's page, who viewed one of its
  listings, who placed an order, who paid; each step counts only people of the step before it.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from svc_insights.domain.reports import Amount, DayRange, Reader, ratio


@dataclass(frozen=True)
class ListingFigures:
    ticket_id: str
    seller_id: str
    views: int = 0
    orders_placed: int = 0
    orders_paid: int = 0
    seats_sold: int = 0
    revenue_by_currency: tuple[Amount, ...] = ()


@dataclass(frozen=True)
class EventFunnel:
    """People at each step, each step a subset of the one before."""

    viewed_event: int
    viewed_listing: int
    ordered: int
    paid: int

    @property
    def paid_per_viewed_event(self) -> float | None:
        return ratio(self.paid, self.viewed_event)


@dataclass(frozen=True)
class EventReport:
    event_id: str
    days: DayRange
    event_views: int
    listing_views: int
    orders_placed: int
    orders_paid: int
    seats_sold: int
    revenue_by_currency: tuple[Amount, ...]
    funnel: EventFunnel
    listings: tuple[ListingFigures, ...]  # most seats sold first, then most viewed, then by id


def check_may_read_event(reader: Reader) -> None:
    """An event's report covers every seller's listings: operators (admin) only."""
    reader.check_may_read_market()


def funnel_of(
    event_viewers: set[str], listing_viewers: set[str], buyers: set[str], payers: set[str]
) -> EventFunnel:
    viewed = set(event_viewers)
    listing = viewed & listing_viewers
    ordered = listing & buyers
    paid = ordered & payers
    return EventFunnel(len(viewed), len(listing), len(ordered), len(paid))


def add_amount(totals: dict[str, Decimal], currency: str, amount: Decimal) -> None:
    totals[currency] = totals.get(currency, Decimal("0")) + amount


@dataclass(frozen=True)
class View:
    ticket_id: str | None  # None: the event's page
    user_id: str | None
    anonymous_id: str | None


@dataclass(frozen=True)
class PlacedOrder:
    order_id: str
    ticket_id: str
    buyer_id: str | None
    price: Decimal  # per seat
    currency: str
    seats: int
    placed_in_range: bool
    paid_in_range: bool


def build_report(
    event_id: str,
    days: DayRange,
    listings: dict[str, str],  # ticket id -> seller id, the event's listings
    views: list[View],
    orders: list[PlacedOrder],
    accounts: dict[str, str],  # anonymous id -> user id
) -> EventReport:
    def person(user_id: str | None, anonymous_id: str | None) -> str | None:
        if user_id:
            return f"u:{user_id}"
        if anonymous_id:
            user = accounts.get(anonymous_id)
            return f"u:{user}" if user else f"a:{anonymous_id}"
        return None

    per_listing = {t: {"views": 0, "placed": 0, "paid": 0, "seats": 0} for t in listings}
    revenue_of: dict[str, dict[str, Decimal]] = {t: {} for t in listings}
    event_viewers: set[str] = set()
    listing_viewers: set[str] = set()
    event_views = listing_views = 0
    for view in views:
        who = person(view.user_id, view.anonymous_id)
        if view.ticket_id is None:
            event_views += 1
            if who:
                event_viewers.add(who)
        elif view.ticket_id in per_listing:
            listing_views += 1
            per_listing[view.ticket_id]["views"] += 1
            if who:
                listing_viewers.add(who)
    buyers: set[str] = set()
    payers: set[str] = set()
    revenue: dict[str, Decimal] = {}
    placed = paid = seats = 0
    for order in orders:
        figures = per_listing.get(order.ticket_id)
        if figures is None:
            continue
        who = person(order.buyer_id, None)
        if order.placed_in_range:
            placed += 1
            figures["placed"] += 1
            if who:
                buyers.add(who)
        if order.paid_in_range:
            paid += 1
            seats += order.seats
            figures["paid"] += 1
            figures["seats"] += order.seats
            amount = order.price * order.seats
            add_amount(revenue, order.currency, amount)
            add_amount(revenue_of[order.ticket_id], order.currency, amount)
            if who:
                payers.add(who)
    rows = [
        ListingFigures(
            ticket_id=t,
            seller_id=listings[t],
            views=f["views"],
            orders_placed=f["placed"],
            orders_paid=f["paid"],
            seats_sold=f["seats"],
            revenue_by_currency=_amounts(revenue_of[t]),
        )
        for t, f in per_listing.items()
    ]
    rows.sort(key=lambda r: (-r.seats_sold, -r.views, r.ticket_id))
    return EventReport(
        event_id=event_id,
        days=days,
        event_views=event_views,
        listing_views=listing_views,
        orders_placed=placed,
        orders_paid=paid,
        seats_sold=seats,
        revenue_by_currency=_amounts(revenue),
        funnel=funnel_of(event_viewers, listing_viewers, buyers, payers),
        listings=tuple(rows),
    )


def _amounts(totals: dict[str, Decimal]) -> tuple[Amount, ...]:
    return tuple(Amount(totals[code], code) for code in sorted(totals))
