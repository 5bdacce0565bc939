"""Passes: a delivered seat as the platform vouches for it, its holder and its code.

A pass is issued per seat when its delivery completes, to the order's buyer, issue (serial) 1.
It changes hands two ways, each ending in a re-issue: serial + 1 for the new holder, and the
previous serial revoked (on the event's revocation list, so a door refuses the old code):

    ACTIVE ──offer_transfer──► TRANSFER_OFFERED ──accept_transfer──► ACTIVE (re-issued)
      │    ◄─withdraw_transfer─┘
      └────list_for_resale──► LISTED_FOR_RESALE ──resold──► ACTIVE (re-issued)
           ◄─withdraw_resale──┘
    any state ──void──► VOID (its last serial revoked; no code again)

A transfer and a resale of one pass cannot both succeed: each must first move the pass out of
ACTIVE, and each completion requires its own state. Across processes the repository enforces
it: a pass is saved with a conditional update on the version it was loaded at
(`{_id, version: loaded}` → `version: loaded + 1`; no match raises `ConcurrentUpdate`, and the
handler runs again on a fresh load, where the other change's state refuses it with Conflict).

The revocation list needs no document of its own: every serial below a pass's `valid_from` is
revoked, so the event's list is its passes' (id, valid_from) where valid_from > 1.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from common.errors import Conflict, InvalidInput, NotFound
from svc_delivery.domain import pass_events as events
from svc_delivery.domain.codes import MAX_SERIAL, TicketCode, holder_tag

HOLDER_SALT_BYTES = 16


class PassState(StrEnum):
    ACTIVE = "ACTIVE"
    TRANSFER_OFFERED = "TRANSFER_OFFERED"
    LISTED_FOR_RESALE = "LISTED_FOR_RESALE"
    VOID = "VOID"


@dataclass
class Pass:
    id: str
    event_id: str
    order_id: str
    # The seat's index in its order, and its label when the seats are numbered.
    seat: int
    seat_label: str
    holder_id: str
    # Random, per pass, never published: keys the holder tag of its codes (codes.holder_tag).
    holder_salt: bytes
    issued_at: datetime
    serial: int = 1
    state: PassState = PassState.ACTIVE
    version: int = 0
    # TRANSFER_OFFERED: the e-mail address it is offered to (lower case).
    offered_to: str | None = None
    offered_at: datetime | None = None
    # LISTED_FOR_RESALE: the marketplace listing it is for sale in.
    listing_id: str | None = None
    events: list[events.Event] = field(default_factory=list, repr=False, compare=False)

    @classmethod
    def issue(
        cls,
        id: str,
        event_id: str,
        order_id: str,
        seat: int,
        seat_label: str,
        holder_id: str,
        holder_salt: bytes,
        now: datetime,
    ) -> Pass:
        """Issue 1 of a delivered seat's pass, to the order's buyer. A seat with no catalogue
        event (a v1 ticket) gets none: no event's door could admit it."""
        if not event_id:
            raise InvalidInput("A pass needs its seat's event", field="event_id")
        if len(holder_salt) != HOLDER_SALT_BYTES:
            raise ValueError(f"a holder salt is {HOLDER_SALT_BYTES} random bytes")
        issued = cls(id, event_id, order_id, seat, seat_label, holder_id, holder_salt, now)
        issued.events.append(
            events.PassIssued(id, event_id, order_id, seat, holder_id, 1, issued.version, now)
        )
        return issued

    @property
    def valid_from(self) -> int:
        """The lowest serial a door accepts: serials below it are revoked (all, once VOID)."""
        return self.serial + 1 if self.state is PassState.VOID else self.serial

    def code(self, key_id: str) -> TicketCode:
        """The fields of the holder's current code, for the key `key_id` to sign."""
        if self.state is PassState.VOID:
            raise Conflict("This pass is void: it has no code", field="pass_id")
        tag = holder_tag(self.holder_salt, self.holder_id)
        return TicketCode(key_id, self.event_id, self.id, self.serial, tag)

    def is_for(self, code: TicketCode) -> bool:
        """Whether `code` is this pass's current issue, for its current holder."""
        return (code.pass_id, code.serial, code.holder_tag) == (
            self.id,
            self.serial,
            holder_tag(self.holder_salt, self.holder_id),
        ) and self.state is not PassState.VOID

    # ----- transfer -----

    def offer_transfer(self, by: str, to_email: str, now: datetime) -> bool:
        """The holder offers the pass to another account, by e-mail. False when it is already
        offered to that address (a retry)."""
        self._held_by(by)
        email = to_email.strip().lower()
        local, _, domain = email.partition("@")
        if not local or "." not in domain:
            raise InvalidInput("Not an e-mail address", field="to_email")
        if self.state is PassState.TRANSFER_OFFERED and self.offered_to == email:
            return False
        self._require(PassState.ACTIVE, "offered for transfer")
        self.state, self.offered_to, self.offered_at = PassState.TRANSFER_OFFERED, email, now
        self.version += 1
        self.events.append(
            events.PassTransferOffered(self.id, self.event_id, by, email, self.version, now)
        )
        return True

    def withdraw_transfer(self, by: str, now: datetime) -> bool:
        """The holder takes the offer back; False when none is open (a retry)."""
        self._held_by(by)
        if self.state is not PassState.TRANSFER_OFFERED:
            return False
        self.state, self.offered_to, self.offered_at = PassState.ACTIVE, None, None
        self.version += 1
        self.events.append(events.PassTransferWithdrawn(self.id, by, self.version, now))
        return True

    def accept_transfer(self, new_holder_id: str, email: str, now: datetime) -> bool:
        """The recipient, signed in with the offered address, takes the pass: re-issued to them.
        False when they hold it already (a retried accept). NotFound for anyone else: an offer
        says nothing to who it is not for."""
        if self.holder_id == new_holder_id and self.state is PassState.ACTIVE and self.serial > 1:
            return False
        if self.state is not PassState.TRANSFER_OFFERED or self.offered_to != email.strip().lower():
            raise NotFound("No transfer offered to you", field="pass_id")
        if new_holder_id == self.holder_id:
            raise Conflict("The pass is yours already", field="pass_id")
        self._reissue(new_holder_id, events.ReissueReason.TRANSFER, now)
        return True

    # ----- resale -----

    def list_for_resale(self, by: str, listing_id: str, now: datetime) -> bool:
        """The holder lists the pass for sale; False when it already is, in that listing."""
        self._held_by(by)
        if self.state is PassState.LISTED_FOR_RESALE and self.listing_id == listing_id:
            return False
        self._require(PassState.ACTIVE, "listed for resale")
        self.state, self.listing_id = PassState.LISTED_FOR_RESALE, listing_id
        self.version += 1
        self.events.append(events.PassListedForResale(self.id, by, listing_id, self.version, now))
        return True

    def withdraw_resale(self, by: str, now: datetime) -> bool:
        """The listing was withdrawn unsold (the marketplace, tickets, decides whether it can
        be: not while an order holds it). False when the pass is not listed."""
        self._held_by(by)
        if self.state is not PassState.LISTED_FOR_RESALE or self.listing_id is None:
            return False
        listing, self.state, self.listing_id = self.listing_id, PassState.ACTIVE, None
        self.version += 1
        self.events.append(events.PassResaleWithdrawn(self.id, by, listing, self.version, now))
        return True

    def resold(self, listing_id: str, buyer_id: str, now: datetime) -> bool:
        """The listing sold: re-issued to its buyer. False when it was already (a redelivered
        event); Conflict when the pass is not listed in `listing_id` (a transfer took it)."""
        if self.holder_id == buyer_id and self.state is PassState.ACTIVE and self.serial > 1:
            return False
        if self.state is not PassState.LISTED_FOR_RESALE or self.listing_id != listing_id:
            raise Conflict("The pass is not for sale in this listing", field="pass_id")
        self._reissue(buyer_id, events.ReissueReason.RESALE, now)
        return True

    # ----- end -----

    def void(self, reason: str, now: datetime) -> bool:
        """The pass ends (its order refunded or cancelled); False when it already did."""
        if self.state is PassState.VOID:
            return False
        self.state, self.offered_to, self.listing_id = PassState.VOID, None, None
        self.offered_at = None
        self.version += 1
        self.events.append(
            events.PassVoided(
                self.id, self.event_id, self.holder_id, self.serial, reason, self.version, now
            )
        )
        return True

    def _reissue(self, holder_id: str, reason: events.ReissueReason, now: datetime) -> None:
        if self.serial >= MAX_SERIAL:
            raise Conflict("This pass changed hands too many times", field="pass_id")
        previous, revoked = self.holder_id, self.serial
        self.holder_id, self.serial = holder_id, self.serial + 1
        self.state, self.offered_to, self.listing_id = PassState.ACTIVE, None, None
        self.offered_at = None
        self.version += 1
        self.events.append(
            events.PassReissued(
                self.id,
                self.event_id,
                previous,
                holder_id,
                self.serial,
                revoked,
                reason,
                self.version,
                now,
            )
        )

    def _held_by(self, user_id: str) -> None:
        if user_id != self.holder_id:
            raise NotFound("Pass not found", field="pass_id")

    def _require(self, state: PassState, doing: str) -> None:
        if self.state is not state:
            being = {
                PassState.TRANSFER_OFFERED: "it is offered for transfer",
                PassState.LISTED_FOR_RESALE: "it is listed for resale",
                PassState.VOID: "it is void",
            }.get(self.state, f"it is {self.state.value.lower()}")
            raise Conflict(f"The pass cannot be {doing}: {being}", field="pass_id")
