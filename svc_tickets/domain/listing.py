"""What a seller says about the seats of a listing for an event (issue 20): where they are, what
they cost at the box office, how they reach the buyer. Plain values, checked once here."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from common.errors import InvalidInput
from common.money import parse_price

MAX_LABEL = 20  # a section, a row or a seat number, as printed on a ticket
MAX_NOTES = 500


class DeliveryMethod(StrEnum):
    E_TICKET = "E_TICKET"  # a PDF or wallet pass the seller uploads
    BARCODE = "BARCODE"  # the barcode values, re-issued by the platform
    MOBILE_TRANSFER = "MOBILE_TRANSFER"  # moved in the venue's own app, confirmed by the seller


@dataclass(frozen=True)
class ListingDetails:
    section: str = ""
    row: str = ""
    # One label per seat listed ("12", "14"), or none (seats not numbered, or not said).
    seat_labels: tuple[str, ...] = ()
    face_value: Decimal | None = None  # what the ticket cost at the box office, per ticket
    delivery_method: DeliveryMethod = DeliveryMethod.E_TICKET
    notes: str = ""
    # The seller's own delivery deadline (checked against the event: delivery_terms.py); None:
    # the default.
    deliver_by: datetime | None = None

    @classmethod
    def of(
        cls,
        quantity: int,
        section: str = "",
        row: str = "",
        seat_labels: tuple[str, ...] | list[str] = (),
        face_value: str | Decimal | None = None,
        delivery_method: DeliveryMethod = DeliveryMethod.E_TICKET,
        notes: str = "",
        deliver_by: datetime | None = None,
    ) -> ListingDetails:
        labels = tuple(_label(s, "seats") for s in seat_labels)
        if labels and len(labels) != quantity:
            raise InvalidInput(
                f"Give one seat number per ticket ({quantity}), or none", field="seats"
            )
        if len(set(labels)) != len(labels):
            raise InvalidInput("A seat number is given twice", field="seats")
        notes = (notes or "").strip()
        if len(notes) > MAX_NOTES:
            raise InvalidInput(f"Notes must be at most {MAX_NOTES} characters", field="notes")
        return cls(
            section=_label(section, "section", optional=True),
            row=_label(row, "row", optional=True),
            seat_labels=labels,
            face_value=None if face_value in (None, "") else parse_price(face_value, "faceValue"),
            delivery_method=delivery_method,
            notes=notes,
            deliver_by=deliver_by,
        )

    def title(self) -> str:
        """How the listing is named where a v1 client shows a ticket's title."""
        where = ", ".join(
            part
            for part in (
                f"Section {self.section}" if self.section else "",
                f"row {self.row}" if self.row else "",
            )
            if part
        )
        return where or "General admission"

    def seats_of(self, indexes: tuple[int, ...]) -> tuple[str, ...]:
        """The labels of the seats at `indexes`, or none when the seats are not numbered."""
        return tuple(self.seat_labels[i] for i in indexes) if self.seat_labels else ()


def _label(raw: str, field: str, optional: bool = False) -> str:
    label = (raw or "").strip()
    if not label and not optional:
        raise InvalidInput("A seat number cannot be empty", field=field)
    if len(label) > MAX_LABEL:
        raise InvalidInput(f"{field.title()} must be at most {MAX_LABEL} characters", field=field)
    return label
