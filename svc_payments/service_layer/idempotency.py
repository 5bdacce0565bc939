"""The client's idempotency key on CreatePayment, as the handlers use it: its record is read to
replay a first outcome, claimed with the order's charge lease, and settled (or let go) in the
transaction that records the outcome (or releases the lease). domain/idempotency.py says what a
key means."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from common.errors import PaymentDeclined
from svc_payments.domain.idempotency import IdempotencyRecord, KeyState, KeyUse
from svc_payments.domain.model import Intent, Payment, PaymentStatus, declined_message
from svc_payments.service_layer.unit_of_work import PaymentsUnitOfWork

# How often a request waits to look again at a key another request is charging under.
KEY_POLL_SECONDS = 0.1
# What a repeat is told of a failed payment it adopts (the decline's own words were not kept).
UNKNOWN_DECLINE = "The payment failed"


class KeyInFlight(Exception):
    """Another request with this key and input is charging: wait for its outcome."""


class LookAgain(Exception):
    """The key got an outcome (or a claim) since it was read: read it again."""


class ClientKeys:
    def __init__(self, uow: Callable[[], PaymentsUnitOfWork], now: Callable[[], datetime]) -> None:
        self.uow = uow
        self.now = now

    async def replay(self, use: KeyUse) -> Payment | None:
        """The first outcome of the key, when it has one: its payment as it is now, or its
        PAYMENT_DECLINED raised again. None when the key is new here (or forgotten), or its
        attempt's outcome is unknown (the request runs again). Raises
        IdempotencyKeyReused for another input, KeyInFlight while it is being charged."""
        async with self.uow() as uow:
            record = await uow.keys.get(use.user_id, use.key)
            if record is None or not record.live(self.now()):
                return None
            record.check_same_input(use)
            if record.state is KeyState.PENDING:
                raise KeyInFlight()
            if record.outcome_unknown:
                return None  # run again
            payment = await uow.payments.get(record.payment_id) if record.payment_id else None
        if record.state is KeyState.DECLINED:
            raise PaymentDeclined(record.message)
        assert payment is not None, "a payment is never deleted"
        return payment

    async def claim_in(
        self, uow: PaymentsUnitOfWork, use: KeyUse, holder: str, until: datetime
    ) -> bool:
        """Within the charge lease's transaction: the key is `holder`'s until `until`. True when
        it resumes an attempt with an unknown outcome. Raises LookAgain when the key got an
        outcome or a claim meanwhile."""
        now = self.now()
        record = await uow.keys.get(use.user_id, use.key)
        resumed = False
        if record is not None and record.live(now):
            if not record.outcome_unknown:
                raise LookAgain()
            record.check_same_input(use)
            resumed = True
        await uow.keys.save(IdempotencyRecord.claim(use, holder, now, until))
        return resumed

    async def adopt_in(
        self, uow: PaymentsUnitOfWork, use: KeyUse, holder: str, recorded: Payment
    ) -> None:
        """Within the claim's transaction, resuming an attempt with an unknown outcome: the
        order's payment, recorded meanwhile, is the key's outcome."""
        record = await uow.keys.get(use.user_id, use.key)
        assert record is not None and record.held_by(holder), "claimed in this transaction"
        if recorded.status is PaymentStatus.FAILED:
            record.declined(recorded.id, UNKNOWN_DECLINE, self.now())
        else:
            record.paid(recorded.id, self.now())
        await uow.keys.save(record)

    async def settle_in(
        self,
        uow: PaymentsUnitOfWork,
        use: KeyUse,
        holder: str,
        recorded: Payment,
        intent: Intent,
    ) -> None:
        """Within the transaction that records `intent`: the key's outcome. `recorded` is the
        order's payment: the intent's (succeeded, pending, or failed: PAYMENT_DECLINED with
        its failure), or, when the charge could not stand (another payment was recorded first;
        it was refunded), a refusal: nothing to replay, the key is let go."""
        record = await uow.keys.get(use.user_id, use.key)
        if record is None or not record.held_by(holder):
            return
        if recorded.stripe_id != intent.id or recorded.status is PaymentStatus.REFUNDED:
            await uow.keys.delete(record)
            return
        if recorded.status is PaymentStatus.FAILED:
            record.declined(recorded.id, declined_message(intent), self.now())
        else:
            record.paid(recorded.id, self.now())
        await uow.keys.save(record)

    async def decline_in(
        self, uow: PaymentsUnitOfWork, use: KeyUse, holder: str, payment_id: str, message: str
    ) -> None:
        """Within the transaction that records a declined charge: PAYMENT_DECLINED with
        `message` is the key's outcome."""
        record = await uow.keys.get(use.user_id, use.key)
        if record is not None and record.held_by(holder):
            record.declined(payment_id, message, self.now())
            await uow.keys.save(record)

    async def release_in(
        self, uow: PaymentsUnitOfWork, use: KeyUse, holder: str, unknown: bool = False
    ) -> None:
        """The request ends with no outcome: nothing was charged (the key is let go, so a repeat
        is judged afresh), or it is not known whether it charged (`unknown`: a repeat runs again
        with the same Stripe key, and takes a payment recorded meanwhile as its own)."""
        record = await uow.keys.get(use.user_id, use.key)
        if record is None or not record.held_by(holder):
            return
        if unknown:
            record.unknown()
            await uow.keys.save(record)
        else:
            await uow.keys.delete(record)
