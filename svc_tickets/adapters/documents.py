"""The tickets service's documents in MongoDB, declared once (common/documents.py): a listing,
its seat holds and its details; what older documents lack, and what is stored for queries only."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from common.documents import MONEY, Document, EnumValue, Field, Kind
from common.money import LEGACY_CURRENCY, to_cents
from svc_tickets.domain.listing import DeliveryMethod, ListingDetails
from svc_tickets.domain.model import SeatHold, Ticket
from svc_tickets.domain.split import SplitRule

log = logging.getLogger(__name__)


def _dump_holds(holds: list[SeatHold]) -> list[dict[str, Any]]:
    return [
        {
            "order_id": h.order_id,
            "seats": list(h.seats),
            "price": MONEY.dump(h.price),
            "sold": h.sold,
            # Only when fixed (issue 22): a hold from before keeps its document as it was.
            **({"deliver_by": h.deliver_by} if h.deliver_by is not None else {}),
        }
        for h in holds
    ]


def _load_holds(stored: list[dict[str, Any]] | None) -> list[SeatHold]:
    return [
        SeatHold(
            h["order_id"],
            tuple(h["seats"]),
            MONEY.load(h["price"]),
            h.get("sold", False),
            h.get("deliver_by"),
        )
        for h in stored or ()
    ]


HOLDS = Kind("seat holds", _dump_holds, _load_holds)


def _dump_details(details: ListingDetails) -> dict[str, Any]:
    return {
        "section": details.section,
        "row": details.row,
        "seat_labels": list(details.seat_labels),
        "face_value": None if details.face_value is None else MONEY.dump(details.face_value),
        "delivery_method": details.delivery_method.value,
        "notes": details.notes,
        **({"deliver_by": details.deliver_by} if details.deliver_by is not None else {}),
    }


def _load_details(stored: Mapping[str, Any] | None) -> ListingDetails:
    if not stored:
        return ListingDetails()
    face_value = stored.get("face_value")
    return ListingDetails(
        section=stored.get("section", ""),
        row=stored.get("row", ""),
        seat_labels=tuple(stored.get("seat_labels") or ()),
        face_value=None if face_value is None else MONEY.load(face_value),
        delivery_method=DeliveryMethod(stored.get("delivery_method", "E_TICKET")),
        notes=stored.get("notes", ""),
        deliver_by=stored.get("deliver_by"),
    )


DETAILS = Kind("listing details", _dump_details, _load_details)


class TicketDocument(Document[Ticket]):
    """Also stores what queries filter and sort on, derived and never read back: `available`,
    the seats for sale (ListTickets), and `price_minor`, the price in minor units (an event's
    listings, cheapest first).

    A ticket stored before listings of several seats names its holder in `order_id` and has no
    `holds`: `ticketing migrate` rewrites it as that order holding its one seat at the ticket's
    price (`as_listing`), so an order in flight across the upgrade is released or sold by its
    events as any other. Until then the service reads it so, without writing it, and logs that
    the migration is due: it shows and sells as before, but the queries on the stored fields
    (`available`, `holds.order_id`) do not find it."""

    def to_doc(self, obj: Ticket) -> dict[str, Any]:
        doc = super().to_doc(obj)
        doc["available"] = obj.available
        doc["price_minor"] = to_cents(obj.price)
        return doc

    def from_doc(self, doc: Mapping[str, Any]) -> Ticket:
        if "holds" not in doc:
            _not_migrated(doc["_id"])
            doc = as_listing(doc)
        return super().from_doc(doc)


def as_listing(doc: Mapping[str, Any]) -> Mapping[str, Any]:
    """A legacy ticket's document as a one-seat listing's: its holder (`order_id`) holds the
    seat. (Whether that order was paid is the orders service's to know: `ticketing migrate`
    asks it and marks the seat sold.)"""
    if "holds" in doc:
        return doc
    order_id = doc.get("order_id")
    legacy = [SeatHold(order_id, (0,), MONEY.load(doc["price"]))] if order_id else []
    return {**doc, "holds": _dump_holds(legacy)}


_WARNED_MAX = 1000
_warned: set[str] = set()


def _not_migrated(ticket_id: str) -> None:
    """Tells the operator, once per ticket (for the first _WARNED_MAX), to run the migration."""
    if ticket_id in _warned or len(_warned) >= _WARNED_MAX:
        return
    _warned.add(ticket_id)
    log.warning(
        "a ticket is stored as before listings of several seats: read as a one-seat listing "
        "and left as it is; run `ticketing migrate` (docs/deploying.md, Upgrading)",
        extra={"ticket_id": ticket_id},
    )


TICKETS = TicketDocument(
    Ticket,
    {
        "_id": Field("id"),
        "title": Field("title"),
        "price": Field("price", MONEY),
        "user_id": Field("user_id"),
        "version": Field("version"),
        "created_at": Field("created_at"),
        # Tickets stored before currencies were recorded were all listed and charged in USD.
        "currency_code": Field("currency_code", missing=LEGACY_CURRENCY),
        "withdrawn": Field("withdrawn", missing=False),
        # Tickets stored before listings of several seats: one seat, any split.
        "quantity": Field("quantity", missing=1),
        "split_rule": Field("split_rule", EnumValue(SplitRule), missing=SplitRule.ANY),
        "event_id": Field("event_id", missing=""),
        "details": Field("details", DETAILS, missing=ListingDetails()),
        "holds": Field("holds", HOLDS, missing=[]),
    },
)
