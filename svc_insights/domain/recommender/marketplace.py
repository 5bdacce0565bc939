"""What the recommender learns from, folded from the rows of the `events` table: who looked at or
bought which ticket and when (interactions), and each ticket's title, price, owner and whether it
is still for sale (listings).

The fold follows the contract of the `events` table: a ticket is for sale when its latest
(highest version) ticket.* row holds no order and no order on it was paid (charge.created); an
event carrying both a user id and an anonymous id links the visitor to the account, so what was
viewed before signing up counts for the user. Rows may come in any order: the fold keeps the
highest version of a ticket and resolves orders and payments when it is read.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum

from svc_insights.domain.model import EventRow


class Kind(Enum):
    """What an actor did with a ticket, strongest last."""

    VIEWED = "viewed"
    ORDER_STARTED = "order_started"
    ORDERED = "ordered"
    PURCHASED = "purchased"


TICKET_TYPES = frozenset({"ticket.created", "ticket.updated"})
# The events that are an actor's interaction with a ticket, and which kind each is.
INTERACTION_KINDS = {
    "ticket.viewed": Kind.VIEWED,
    "order.started": Kind.ORDER_STARTED,
    "order.created": Kind.ORDERED,
}
# Every type the fold reads; the store can leave the rest out.
TYPES = TICKET_TYPES | set(INTERACTION_KINDS) | {"charge.created"}


def user_actor(user_id: str) -> str:
    return f"u:{user_id}"


def anonymous_actor(anonymous_id: str) -> str:
    return f"a:{anonymous_id}"


def actors_of(user_id: str | None, anonymous_id: str | None) -> list[str]:
    """The actor keys a caller's history is under: the account and the visitor's cookie."""
    keys = []
    if user_id:
        keys.append(user_actor(user_id))
    if anonymous_id:
        keys.append(anonymous_actor(anonymous_id))
    return keys


@dataclass(frozen=True)
class Interaction:
    actor: str
    ticket_id: str
    kind: Kind
    at: datetime


@dataclass
class Listing:
    ticket_id: str
    seller_id: str
    title: str
    price: float
    listed_at: datetime
    version: int = -1
    order_id: str | None = None
    sold: bool = False

    @property
    def for_sale(self) -> bool:
        return not self.order_id and not self.sold


@dataclass
class Marketplace:
    """The fold. `add` one row at a time (any order), then read `listings` and `interactions`."""

    listings: dict[str, Listing] = field(default_factory=dict)
    _interactions: list[Interaction] = field(default_factory=list)
    _order_tickets: dict[str, tuple[str, str | None]] = field(default_factory=dict)
    _paid_orders: dict[str, datetime] = field(default_factory=dict)
    _accounts: dict[str, str] = field(default_factory=dict)  # anonymous id -> user id
    _purchases_resolved: set[str] = field(default_factory=set)
    latest: datetime | None = None

    @classmethod
    def of(cls, rows: Iterable[EventRow]) -> Marketplace:
        market = cls()
        for row in rows:
            market.add(row)
        return market

    def add(self, row: EventRow) -> None:
        if self.latest is None or row.occurred_at > self.latest:
            self.latest = row.occurred_at
        if row.user_id and row.anonymous_id:
            self._accounts.setdefault(row.anonymous_id, row.user_id)
        if row.type in TICKET_TYPES:
            self._list(row)
        elif (kind := INTERACTION_KINDS.get(row.type)) is not None:
            if row.type == "order.created" and row.order_id and row.ticket_id:
                self._order_tickets[row.order_id] = (row.ticket_id, row.user_id)
            self._interact(row, kind)
        elif row.type == "charge.created" and row.order_id:
            self._paid_orders.setdefault(row.order_id, row.occurred_at)

    def _list(self, row: EventRow) -> None:
        if not row.ticket_id:
            return
        version = row.version if row.version is not None else 0
        current = self.listings.get(row.ticket_id)
        if current is not None and version < current.version:
            return
        if current is None:
            current = self.listings[row.ticket_id] = Listing(
                ticket_id=row.ticket_id,
                seller_id=row.seller_id or row.user_id or "",
                title=row.title or "",
                price=float(row.price or 0),
                listed_at=row.occurred_at,
            )
        current.version = version
        current.order_id = row.order_id or None
        current.title = row.title or current.title
        current.seller_id = row.seller_id or current.seller_id
        if row.price is not None:
            current.price = float(row.price)
        if row.type == "ticket.created":
            current.listed_at = row.occurred_at

    def _interact(self, row: EventRow, kind: Kind) -> None:
        if not row.ticket_id:
            return
        if row.user_id:
            actor = user_actor(row.user_id)
        elif row.anonymous_id:
            actor = anonymous_actor(row.anonymous_id)
        else:
            return
        self._interactions.append(Interaction(actor, row.ticket_id, kind, row.occurred_at))

    def _resolve_purchases(self) -> None:
        for order_id, paid_at in self._paid_orders.items():
            if order_id in self._purchases_resolved or order_id not in self._order_tickets:
                continue
            ticket_id, buyer = self._order_tickets[order_id]
            self._purchases_resolved.add(order_id)
            listing = self.listings.get(ticket_id)
            if listing is not None:
                listing.sold = True
            if buyer:
                purchase = Interaction(user_actor(buyer), ticket_id, Kind.PURCHASED, paid_at)
                self._interactions.append(purchase)

    def interactions(self) -> list[Interaction]:
        """Every interaction, a visitor's under their account once the two were linked."""
        self._resolve_purchases()
        accounts = self._accounts
        out = []
        for item in self._interactions:
            if item.actor.startswith("a:"):
                user = accounts.get(item.actor[2:])
                if user is not None:
                    item = Interaction(user_actor(user), item.ticket_id, item.kind, item.at)
            out.append(item)
        return out

    def account_of(self, anonymous_id: str) -> str | None:
        return self._accounts.get(anonymous_id)

    def sold(self) -> set[str]:
        self._resolve_purchases()
        return {t for t, listing in self.listings.items() if listing.sold}
