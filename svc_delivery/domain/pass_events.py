"""What a pass records when it changes: plain domain events, no wire format. Those other services
hear of are mapped to integration events in `svc_delivery/adapters/outbox_mapping.py`; the rest
(a withdrawn offer, a listing, a void) stay in the service."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class ReissueReason(StrEnum):
    TRANSFER = "TRANSFER"
    RESALE = "RESALE"


@dataclass(frozen=True)
class PassIssued:
    """A delivered seat got its pass, issue 1, for the order's buyer."""

    pass_id: str
    event_id: str
    order_id: str
    seat: int
    holder_id: str
    serial: int
    version: int
    at: datetime


@dataclass(frozen=True)
class PassTransferOffered:
    """The holder offered the pass to whoever signs in with `to_email` (they are mailed)."""

    pass_id: str
    event_id: str
    holder_id: str
    to_email: str
    version: int
    at: datetime


@dataclass(frozen=True)
class PassTransferWithdrawn:
    """The holder took back a transfer offer not accepted yet: the pass is theirs, unchanged."""

    pass_id: str
    holder_id: str
    version: int
    at: datetime


@dataclass(frozen=True)
class PassListedForResale:
    """The holder listed the pass for sale (`listing_id`, the marketplace's listing)."""

    pass_id: str
    holder_id: str
    listing_id: str
    version: int
    at: datetime


@dataclass(frozen=True)
class PassResaleWithdrawn:
    """The pass's listing was withdrawn unsold: the pass is the holder's, unchanged."""

    pass_id: str
    holder_id: str
    listing_id: str
    version: int
    at: datetime


@dataclass(frozen=True)
class PassReissued:
    """The pass changed hands: issue `serial` for `holder_id`; `revoked_serial` (the previous
    holder's code) joins the event's revocation list."""

    pass_id: str
    event_id: str
    previous_holder_id: str
    holder_id: str
    serial: int
    revoked_serial: int
    reason: ReissueReason
    version: int
    at: datetime


@dataclass(frozen=True)
class PassVoided:
    """The pass ended (its order was refunded or cancelled): `revoked_serial`, its last issue,
    joins the event's revocation list, and no code is issued again."""

    pass_id: str
    event_id: str
    holder_id: str
    revoked_serial: int
    reason: str
    version: int
    at: datetime


Event = (
    PassIssued
    | PassTransferOffered
    | PassTransferWithdrawn
    | PassListedForResale
    | PassResaleWithdrawn
    | PassReissued
    | PassVoided
)
