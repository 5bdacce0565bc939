"""What the catalogue knows of listings (learnt from listings' events, never decided here) and
the summary of an event's listings that search and the event page show."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True)
class Listing:
    """One listing as its last applied event said: `version` orders its changes."""

    id: str
    event_id: str
    price: Decimal  # per ticket
    currency_code: str
    available: int  # seats for sale now (0 once withdrawn or sold out)
    version: int


@dataclass(frozen=True)
class ListingSummary:
    """The cheapest price per ticket for sale (None when nothing is) in `currency_code`, and
    how many tickets (seats) are for sale over all the event's listings."""

    lowest_price: Decimal | None = None
    currency_code: str = ""
    tickets_for_sale: int = 0


def summarise(listings: list[Listing]) -> ListingSummary:
    """Over the listings with seats for sale. Prices of different currencies are not comparable,
    so the lowest price is taken among the listings of the most common currency (ties: the
    alphabetically first code), which is the one a buyer of that event most likely pays in;
    `tickets_for_sale` counts the seats of every currency."""
    for_sale = [listing for listing in listings if listing.available > 0]
    if not for_sale:
        return ListingSummary()
    counts = Counter(listing.currency_code for listing in for_sale)
    currency = min(counts, key=lambda code: (-counts[code], code))
    lowest = min(listing.price for listing in for_sale if listing.currency_code == currency)
    return ListingSummary(lowest, currency, sum(listing.available for listing in for_sale))


def newest_changes(changes: list[Listing], stored: dict[str, Listing]) -> list[Listing]:
    """Of changes to listings (in any order, a listing's possibly several times), the newest of
    each listing when it is newer than the stored one (an older change arriving late is skipped:
    the newer one stands)."""
    newest: dict[str, Listing] = {}
    for change in changes:
        best = newest.get(change.id) or stored.get(change.id)
        if best is None or change.version > best.version:
            newest[change.id] = change
    return [newest[listing_id] for listing_id in sorted(newest)]
