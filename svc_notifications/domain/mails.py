"""A mail in the outbox: one per (event, kind, recipient), its id derived from the three so that
a redelivered event makes the same id again and writes nothing new; what it says (`facts`: the
template's values, decimal strings and names, never an address); and where it stands.

Its recipient is a user id: the address is looked up when the mail is sent (the service's copy of
auth's users), so a mail never stores one and an address changed meanwhile is the one used. A
ticket offered to an address that may have no account is mailed to that address's own recipient
(`Recipient.for_address`), again an id in the mail and the address in the recipients' copy."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum


class MailKind(StrEnum):
    ORDER_CONFIRMED = "order_confirmed"
    ORDER_EXPIRED = "order_expired"
    REFUND_ISSUED = "refund_issued"
    PAYOUT_PAID = "payout_paid"
    TICKETS_DELIVERED = "tickets_delivered"
    DELIVERY_MISSED = "delivery_missed"
    DELIVERY_DEADLINE_APPROACHING = "delivery_deadline_approaching"
    # A ticket offered to an address (pass.transfer_offered): to that address, an account or not.
    TRANSFER_RECEIVED = "transfer_received"
    # A ticket re-issued to its new holder (pass.reissued: a transfer accepted, a resale).
    TICKET_READY = "ticket_ready"
    # The same re-issue, to the holder it was taken from: their old code no longer works.
    TICKET_HANDED_OVER = "ticket_handed_over"


class MailStatus(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"
    NO_ADDRESS = "no_address"


def mail_id(event_id: str, kind: MailKind, recipient_id: str) -> str:
    """The same for every delivery of one event: the outbox's unique key."""
    digest = hashlib.sha256(f"{event_id}\n{kind.value}\n{recipient_id}".encode()).hexdigest()
    return digest[:32]


@dataclass
class Mail:
    id: str
    kind: MailKind
    recipient_id: str
    event_id: str
    # The template's values: strings only (amounts already formatted), no address or name.
    facts: dict[str, str]
    created_at: datetime
    order_id: str = ""
    status: MailStatus = MailStatus.PENDING
    attempts: int = 0
    next_attempt_at: datetime | None = None
    sent_at: datetime | None = None
    # The last failure's SMTP reply code (0: none, or the connection failed).
    last_error_code: int = 0
    events: list[object] = field(default_factory=list)

    @classmethod
    def for_event(
        cls,
        event_id: str,
        kind: MailKind,
        recipient_id: str,
        facts: dict[str, str],
        now: datetime,
        order_id: str = "",
    ) -> Mail:
        return cls(
            mail_id(event_id, kind, recipient_id),
            kind,
            recipient_id,
            event_id,
            facts,
            now,
            order_id=order_id,
            next_attempt_at=now,
        )


@dataclass(frozen=True)
class RetryPolicy:
    """How often a mail is tried, and how long it waits after a temporary failure (a 4xx reply,
    the server unreachable, or no address known yet): `first_delay` doubling up to `max_delay`."""

    max_attempts: int
    first_delay: timedelta
    max_delay: timedelta

    def delay_after(self, attempts: int) -> timedelta:
        """The wait after the `attempts`-th try failed (1: the first)."""
        doubled = self.first_delay * (2 ** max(0, attempts - 1))
        return min(doubled, self.max_delay)

    def gives_up_after(self, attempts: int) -> bool:
        return attempts >= self.max_attempts
