"""The client's idempotency key on CreatePayment (docs/api.md §6, IDEM-1..6 and IDEM-8).

A key counts per caller and is honoured for WINDOW from the outcome's commit. Its record says
which input it was first used with (a fingerprint of the order and the payment method) and what
came of it: a payment (returned as it is now to a repeat), or a declined charge (whose
PAYMENT_DECLINED a repeat gets again). A request refused without any effect records nothing, so
its repeat is judged afresh.

While a request charges under a key, the key's record is PENDING, claimed in the transaction that
takes the order's charge lease, for as long as that lease: a second request with the same key
and input waits for the first one's outcome (it never meets the first as a conflict); one with
another input is refused at once, before anything is charged. The outcome replaces the pending
record in the transaction that records the payment. A request whose charge has an unknown
outcome (Stripe unreachable, no answer) leaves the key UNKNOWN: a repeat runs again (the order's
Stripe key makes Stripe answer with the first charge), and takes a payment the order got
meanwhile (the webhook recorded that charge) as its outcome rather than as a conflict.

The key's format, the fingerprint and the window are the shared ones (common/idempotency.py);
payments keeps a record of its own, for what only a charge has: a decline to replay, and a claim
held while Stripe is asked.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from common.errors import IdempotencyKeyReused
from common.idempotency import WINDOW


class KeyState(StrEnum):
    PENDING = "pending"  # a request is charging under the key
    PAYMENT = "payment"  # it produced a payment
    DECLINED = "declined"  # its charge was declined
    UNKNOWN = "unknown"  # its charge's outcome is not known: a repeat runs again


@dataclass(frozen=True)
class KeyUse:
    """A request's key: whose it is, and the fingerprint of what it asks."""

    user_id: str
    key: str
    fingerprint: str


@dataclass
class IdempotencyRecord:
    user_id: str
    key: str
    fingerprint: str
    # When the outcome was committed (while pending: when the key was claimed).
    created_at: datetime
    state: KeyState = KeyState.PENDING
    # While pending: the request charging under the key, and until when it may.
    holder: str | None = None
    until: datetime | None = None
    payment_id: str = ""  # PAYMENT: the payment; DECLINED: the declined one
    message: str = ""  # DECLINED: what the buyer was told

    @classmethod
    def claim(cls, use: KeyUse, holder: str, now: datetime, until: datetime) -> IdempotencyRecord:
        return cls(use.user_id, use.key, use.fingerprint, now, KeyState.PENDING, holder, until)

    def live(self, now: datetime) -> bool:
        """Still honoured: within WINDOW of its commit, and, while pending, held by a request
        that may still be running (one that died leaves a claim that runs out)."""
        if self.created_at <= now - WINDOW:
            return False
        if self.state is KeyState.PENDING:
            return self.until is not None and self.until > now
        return True

    def check_same_input(self, use: KeyUse) -> None:
        if use.fingerprint != self.fingerprint:
            raise IdempotencyKeyReused(
                "This idempotency key was used for another payment; use a new key for a new one"
            )

    @property
    def outcome_unknown(self) -> bool:
        return self.state is KeyState.UNKNOWN

    def unknown(self) -> None:
        """The request charging under the key ends without knowing whether it charged."""
        self.state, self.holder, self.until = KeyState.UNKNOWN, None, None

    def held_by(self, holder: str) -> bool:
        return self.state is KeyState.PENDING and self.holder == holder

    def paid(self, payment_id: str, now: datetime) -> None:
        self._settled(KeyState.PAYMENT, payment_id, "", now)

    def declined(self, payment_id: str, message: str, now: datetime) -> None:
        self._settled(KeyState.DECLINED, payment_id, message, now)

    def _settled(self, state: KeyState, payment_id: str, message: str, now: datetime) -> None:
        self.state, self.payment_id, self.message = state, payment_id, message
        self.holder = self.until = None
        self.created_at = now  # honoured from the outcome's commit
