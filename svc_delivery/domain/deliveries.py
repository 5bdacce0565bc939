"""A delivery: how one order's seats reach its buyer (issue 22, docs/design/delivery.md). Opened
when the order is placed, with the listing's method and the deadline fixed when the seats were
held; DUE once the order is paid; DELIVERED when the seller delivers by the deadline, MISSED when
the deadline passes first; CANCELLED when the order ends unpaid. The order's own events move it
in their version order (one older than the last applied changes nothing)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from common.errors import Conflict, InvalidInput
from svc_delivery.domain import events
from svc_delivery.domain.methods import DeliveryMethod, DeliveryStatus

ALL_SEATS = -1
BARCODE = re.compile(r"[A-Za-z0-9-]{4,64}")
MAX_NOTE = 500


@dataclass(frozen=True)
class DeliveredFile:
    """A delivered file's description; its bytes are kept by the file store under `id`."""

    id: str
    filename: str
    content_type: str
    size: int
    seat: int
    sha256: str


@dataclass
class Delivery:
    order_id: str
    seller_id: str
    buyer_id: str
    listing_id: str
    event_id: str
    method: DeliveryMethod
    deliver_by: datetime
    quantity: int
    created_at: datetime
    seat_labels: tuple[str, ...] = ()
    status: DeliveryStatus = DeliveryStatus.AWAITING_PAYMENT
    order_version: int = 0
    delivered_at: datetime | None = None
    files: tuple[DeliveredFile, ...] = ()
    barcodes: tuple[str, ...] = ()
    transfer_note: str = ""
    reminded: bool = False
    # When the sweep must look at it next (the reminder, then the deadline); None once it has
    # nothing left to do.
    check_at: datetime | None = None
    version: int = 0
    events: list[Any] = field(default_factory=list, compare=False, repr=False)

    @property
    def id(self) -> str:
        return self.order_id

    # The order's events --------------------------------------------------------------------

    def paid(self, order_version: int, remind_before: timedelta) -> bool:
        """The order completed: the delivery falls due. False when this changes nothing (an
        older event, or the delivery ended already)."""
        if order_version <= self.order_version:
            return False
        self.order_version = order_version
        self.version += 1
        if self.status is DeliveryStatus.AWAITING_PAYMENT:
            self.status = DeliveryStatus.DUE
            self.check_at = self._next_check(remind_before)
        return True

    def order_cancelled(self, order_version: int) -> bool:
        """The order ended: an unpaid delivery is cancelled; a paid one is not (its refund comes
        from a missed deadline, never from here)."""
        if order_version <= self.order_version:
            return False
        self.order_version = order_version
        self.version += 1
        if self.status is DeliveryStatus.AWAITING_PAYMENT:
            self.status = DeliveryStatus.CANCELLED
            self.check_at = None
        return True

    # The seller delivers -------------------------------------------------------------------

    def deliver_files(self, files: list[DeliveredFile], now: datetime) -> bool:
        """False for the same files again (an idempotent retry): nothing changes."""
        if self.status is DeliveryStatus.DELIVERED and _same_files(self.files, files):
            return False
        self._check_deliverable(DeliveryMethod.E_TICKET, now)
        seats = sorted(f.seat for f in files)
        if seats != [ALL_SEATS] and seats != list(range(self.quantity)):
            raise InvalidInput(
                f"Deliver one file for all {self.quantity} seats (seat -1) or one per seat "
                f"(seats 0 to {self.quantity - 1})",
                field="files",
            )
        self.files = tuple(sorted(files, key=lambda f: f.seat))
        self._delivered(now)
        return True

    def deliver_barcodes(self, barcodes: list[str], now: datetime) -> bool:
        if self.status is DeliveryStatus.DELIVERED and tuple(barcodes) == self.barcodes:
            return False
        self._check_deliverable(DeliveryMethod.BARCODE, now)
        if len(barcodes) != self.quantity:
            raise InvalidInput(
                f"Deliver one barcode per seat: {self.quantity}, not {len(barcodes)}",
                field="barcodes",
            )
        for value in barcodes:
            if not BARCODE.fullmatch(value):
                raise InvalidInput(
                    "A barcode is 4 to 64 letters, digits or hyphens", field="barcodes"
                )
        self.barcodes = tuple(barcodes)
        self._delivered(now)
        return True

    def confirm_transfer(self, note: str, now: datetime) -> bool:
        note = note.strip()
        if self.status is DeliveryStatus.DELIVERED and note == self.transfer_note:
            return False
        self._check_deliverable(DeliveryMethod.MOBILE_TRANSFER, now)
        if len(note) > MAX_NOTE:
            raise InvalidInput(f"The note is longer than {MAX_NOTE} characters", field="note")
        self.transfer_note = note
        self._delivered(now)
        return True

    def _check_deliverable(self, method: DeliveryMethod, now: datetime) -> None:
        if self.method is not method:
            raise Conflict(
                f"This listing is delivered by {self.method.name}, not {method.name}",
                field="order_id",
            )
        if self.status is DeliveryStatus.AWAITING_PAYMENT:
            raise Conflict("The order is not paid yet", field="order_id")
        if self.status is DeliveryStatus.DELIVERED:
            raise Conflict("The order is delivered already", field="order_id")
        if self.status is not DeliveryStatus.DUE or now >= self.deliver_by:
            raise Conflict("The order's delivery deadline has passed", field="order_id")

    def _delivered(self, now: datetime) -> None:
        self.version += 1
        self.status = DeliveryStatus.DELIVERED
        self.delivered_at = now
        self.check_at = None
        self.events.append(
            events.DeliveryCompleted(
                self.order_id,
                self.seller_id,
                self.buyer_id,
                self.event_id,
                self.method,
                now,
                self.quantity,
            )
        )

    # The clock -----------------------------------------------------------------------------

    def sweep(self, now: datetime, remind_before: timedelta) -> bool:
        """A DUE delivery past its deadline is MISSED; one within `remind_before` of it is
        reminded of, once (either recorded as its event). False when it had nothing due: only
        its next check moves. Every call changes the delivery (its version too)."""
        self.version += 1
        if self.status is not DeliveryStatus.DUE:
            self.check_at = None
            return False
        if now >= self.deliver_by:
            self.status = DeliveryStatus.MISSED
            self.check_at = None
            self.events.append(
                events.DeliveryMissed(
                    self.order_id, self.seller_id, self.buyer_id, self.event_id, self.deliver_by
                )
            )
            return True
        if not self.reminded and now >= self.deliver_by - remind_before:
            self.reminded = True
            self.check_at = self.deliver_by
            self.events.append(
                events.DeliveryDeadlineApproaching(self.order_id, self.seller_id, self.deliver_by)
            )
            return True
        self.check_at = self._next_check(remind_before)
        return False

    def _next_check(self, remind_before: timedelta) -> datetime:
        if self.reminded:
            return self.deliver_by
        return self.deliver_by - remind_before

    # Who may see it ------------------------------------------------------------------------

    def visible_to(self, user_id: str, admin: bool = False) -> bool:
        """Its seller, its buyer and admins (what was delivered: `contents_visible_to`)."""
        return admin or user_id in (self.seller_id, self.buyer_id)

    def contents_visible_to(self, user_id: str, admin: bool = False) -> bool:
        """The files and barcodes: the seller, an admin, and the buyer once the order is paid."""
        if admin or user_id == self.seller_id:
            return True
        return user_id == self.buyer_id and self.status in (
            DeliveryStatus.DUE,
            DeliveryStatus.DELIVERED,
            DeliveryStatus.MISSED,
        )


def _same_files(stored: tuple[DeliveredFile, ...], offered: list[DeliveredFile]) -> bool:
    key = sorted((f.seat, f.sha256, f.filename) for f in offered)
    return key == sorted((f.seat, f.sha256, f.filename) for f in stored)


@dataclass(frozen=True)
class SellerRecord:
    seller_id: str
    delivered: int = 0
    missed: int = 0
