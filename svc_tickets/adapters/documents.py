"""The tickets service's documents in MongoDB, declared once (common/documents.py): a listing,
its seat holds and its details; what older documents lack, and what is stored for queries only."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from common.documents import MONEY, Document, EnumValue, Field, Kind
from common.money import LEGACY_CURRENCY, to_cents
from svc_tickets.domain.listing import DeliveryMethod, ListingDetails
from svc_tickets.domain.model import SeatHold, Ticket
from svc_tickets.domain.split import SplitRule


def _dump_holds(holds: list[SeatHold]) -> list[dict[str, Any]]:
    return [
        {
            "order_id": h.order_id,
            "seats": list(h.seats),
            "price": MONEY.dump(h.price),
            "sold": h.sold,
        }
        for h in holds
    ]


def _load_holds(stored: list[dict[str, Any]] | None) -> list[SeatHold]:
    return [
        SeatHold(h["order_id"], tuple(h["seats"]), MONEY.load(h["price"]), h.get("sold", False))
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
    )


DETAILS = Kind("listing details", _dump_details, _load_details)


class TicketDocument(Document[Ticket]):
    """Also stores what queries filter and sort on, derived and never read back: `available`,
    the seats for sale (ListTickets), and `price_minor`, the price in minor units (an event's
    listings, cheapest first).

    A ticket stored before listings of several seats names its holder in `order_id` and has no
    `holds`: it loads as that order holding its one seat at the ticket's price, so an order in
    flight across the upgrade is released or sold by its events as any other. (Whether such an
    order was already paid is the orders service's to know: its seat reads HELD, not SOLD,
    until a migration marks it; it is not for sale either way.)"""

    def to_doc(self, obj: Ticket) -> dict[str, Any]:
        doc = super().to_doc(obj)
        doc["available"] = obj.available
        doc["price_minor"] = to_cents(obj.price)
        return doc

    def from_doc(self, doc: Mapping[str, Any]) -> Ticket:
        if "holds" not in doc and doc.get("order_id"):
            legacy = SeatHold(doc["order_id"], (0,), MONEY.load(doc["price"]))
            doc = {**doc, "holds": _dump_holds([legacy])}
        return super().from_doc(doc)


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
