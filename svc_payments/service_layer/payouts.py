"""Payouts: scheduled with the payment's success, paid by a sweep once due.

Scheduling (`schedule_payout`) runs inside the transaction that records a payment as succeeded:
the ledger's charge entry (the seller is owed the proceeds) and the seller's payout are written
with it, or not at all.

The sweep (`PayoutSweep.pay_due`), on every replica, each `PAYOUT_SWEEP_SECONDS`:
1. finds the payouts whose `next_try_at` has come (the due index), a bounded batch;
2. claims one (a transaction: the versioned save makes two replicas' claims conflict, and the
   loser sees it claimed) after checking its seller can be paid (else WAITING_FOR_ONBOARDING);
3. asks Stripe for the transfer, outside any transaction, with the idempotency key
   `payout_<id>`: asked again after a crash or a lost answer, Stripe answers the same transfer;
4. records it (one transaction): PAID with the transfer's id, the ledger's transfer entry and
   PayoutPaid in the outbox. Stripe unreachable: tried again later with a growing delay;
   refused for good: FAILED with Stripe's reason.
A crash between 3 and 4 leaves the payout claimed until its claim runs out; the next sweep asks
Stripe again with the same key and records the transfer made the first time.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from common.clock import Clock, SystemClock, stored_precision
from common.errors import Conflict
from common.metrics import series
from common.retries import retry_transient
from svc_payments.domain import ledger
from svc_payments.domain.ledger import EntryKind, JournalEntry, Posting
from svc_payments.domain.model import Intent, Order
from svc_payments.domain.payouts import (
    Payout,
    PayoutPolicy,
    PayoutStatus,
    due_time,
    proceeds_minor,
)
from svc_payments.domain.seller_accounts import SellerAccount
from svc_payments.service_layer.ports import (
    ReversalRequest,
    StripeGateway,
    StripeRefused,
    StripeUnavailable,
    TransferRefused,
    TransferRequest,
)
from svc_payments.service_layer.unit_of_work import PaymentsUnitOfWork

log = logging.getLogger(__name__)

# Where a paid order's proceeds are owed when the order names no seller (copied from an
# OrderCreated of before sellers were recorded): no payout is made; an operator settles it.
UNKNOWN_SELLER = "unknown"
# A seller's waiting payouts released in one transaction (the rest on the sweep's re-check).
RELEASE_BATCH = 500


@dataclass(frozen=True)
class PayoutTerms:
    """When sellers are paid (PAYOUT_POLICY, PAYOUT_DELAY_AFTER_EVENT_SECONDS)."""

    policy: PayoutPolicy = PayoutPolicy.AFTER_EVENT
    delay_after_event: timedelta = timedelta(hours=48)


DEFAULT_TERMS = PayoutTerms()


def payable(account: SellerAccount | None) -> bool:
    return account is not None and account.payouts_enabled


async def judged_unpayable(uow: PaymentsUnitOfWork, account: SellerAccount | None) -> None:
    """In a transaction that leaves a payout waiting because its seller's account read not
    payable: the account is written too (its version moves), so that an onboarding making it
    payable at the same moment, whose transaction releases the waiting payouts, conflicts with
    this one and one of the two runs again and sees the other (without it, each reads the
    other's state from before: the payout waits an hour for a seller already payable)."""
    if account is not None:
        account.version += 1
        await uow.seller_accounts.save(account)


async def schedule_payout(
    uow: PaymentsUnitOfWork,
    order: Order,
    intent: Intent,
    terms: PayoutTerms,
    now: datetime,
    new_id: Callable[[], str],
) -> Payout | None:
    """In the transaction recording `intent` as the order's successful payment: the ledger's
    charge entry and the seller's payout, once (None when the order names no seller)."""
    existing = await uow.payouts.for_order(order.id)
    if existing is not None:
        return existing
    source = intent.charge_id or intent.id
    proceeds = proceeds_minor(order)
    if not 0 <= proceeds <= intent.amount:
        # The charge is a fact to record whatever is wrong here: the seller is owed no more
        # than was charged, and the difference is logged for an operator.
        log.error(
            "a seller's proceeds exceed the charge",
            extra={"order_id": order.id, "proceeds": proceeds, "charged": intent.amount},
        )
        proceeds = max(0, min(proceeds, intent.amount))
    seller = order.seller_id or UNKNOWN_SELLER
    await uow.ledger.post(
        ledger.charge(source, order.id, order.currency_code, seller, intent.amount, proceeds, now)
    )
    if not order.seller_id:
        log.error(
            "a paid order names no seller: its proceeds wait in the ledger, no payout is made",
            extra={"order_id": order.id, "account": ledger.seller_payable(seller)},
        )
        return None
    if terms.policy is PayoutPolicy.AFTER_DELIVERY:
        due_at = None  # due when the seller delivers (service_layer/delivery_outcomes.py)
    elif order.event_id:
        due_at = due_time(await uow.event_schedules.get(order.event_id), terms.delay_after_event)
    else:  # a v1 listing names no event: the delay runs from the payment
        due_at = now + terms.delay_after_event
    account = await uow.seller_accounts.get(order.seller_id)
    payout = Payout.scheduled(new_id(), order, source, proceeds, due_at, payable(account), now)
    if not payable(account):
        await judged_unpayable(uow, account)
    await uow.payouts.add(payout)
    return payout


async def release_waiting_payouts(
    uow: PaymentsUnitOfWork, seller_id: str, now: datetime | None = None
) -> int:
    """In the transaction that records the seller becoming payable (the onboarding's
    SyncSellerAccount, when `SellerAccount.refresh` says `became_payable`): their payouts waiting
    for it are scheduled again, due at once if their time has come (`now`: the clock's, else the
    system's). Returns how many; past RELEASE_BATCH the sweep's own re-check releases the rest."""
    now = stored_precision(now or SystemClock().now())
    released = 0
    for payout in await uow.payouts.waiting_of_seller(seller_id, RELEASE_BATCH):
        if payout.release_waiting(now):
            await uow.payouts.save(payout)
            released += 1
    return released


async def cancel_payout(
    uow: PaymentsUnitOfWork, order_id: str, refund_source: str, now: datetime
) -> None:
    """In the transaction recording a paid order's charge refunded in full because the order was
    cancelled before it completed: its payout is reversed (never paid) and the ledger gives the
    charge back (the seller is owed nothing, the platform keeps nothing) in the entry
    `refund:<refund_source>`, the Stripe refund's id (re_...) that its balance transaction
    names."""
    charge = next(
        (
            e
            for e in await uow.ledger.of_order(order_id)
            if e.kind is EntryKind.CHARGE and ledger.owes_seller(e)
        ),
        None,
    )
    if charge is not None:
        await uow.ledger.post(
            JournalEntry(
                EntryKind.REFUND,
                refund_source,
                order_id,
                charge.currency_code,
                tuple(Posting(p.account, -p.amount) for p in charge.postings),
                now,
                memo="the order was cancelled before it completed",
            )
        )
    payout = await uow.payouts.for_order(order_id)
    if payout is None or payout.status is PayoutStatus.REVERSED:
        return
    reversal = payout.reverse("The order was cancelled and refunded")
    # Paid before the order's cancellation came (the sweep ran first): the sweep reverses it.
    payout.owe_reversal(reversal)
    await uow.payouts.save(payout)
    if reversal.at_stripe:
        log.warning(
            "a payout was transferred for an order cancelled since; its transfer is reversed next",
            extra={"payout_id": payout.id, "transfer_id": reversal.transfer_id},
        )


async def book_refused_charge(
    uow: PaymentsUnitOfWork, order: Order, intent: Intent, refund_source: str, now: datetime
) -> None:
    """In the transaction recording `intent`'s charge as one that could not stand (its order
    cancelled, or paid by another charge) and refunded (`refund_source`: Stripe's refund,
    re_...): both movements in the ledger, once. A charge booked as the order's payment before
    is given back as a cancelled order's is (`cancel_payout`)."""
    source = intent.charge_id or intent.id
    if await uow.ledger.get(f"{EntryKind.CHARGE.value}:{source}") is not None:
        await cancel_payout(uow, order.id, refund_source, now)
        return
    currency = intent.currency or order.currency_code
    for entry in ledger.refused_charge(
        source, refund_source, order.id, currency, order.user_id, intent.amount, now
    ):
        await uow.ledger.post(entry)


@dataclass(frozen=True)
class Claimed:
    payout: Payout
    destination: str  # the seller's acct_...


class PayoutSweep:
    def __init__(
        self,
        uow: Callable[[], PaymentsUnitOfWork],
        stripe: StripeGateway,
        clock: Clock,
        claim_for: timedelta,
        batch_size: int = 50,
        holder: str | None = None,
    ) -> None:
        self.uow = uow
        self.stripe = stripe
        self.clock = clock
        self.claim_for = claim_for
        self.batch_size = batch_size
        self.holder = holder or f"sweep-{uuid.uuid4()}"

    def _now(self) -> datetime:
        return stored_precision(self.clock.now())

    async def pay_due(self) -> int:
        """Looks at the payouts due, at most `batch_size`, one at a time (Stripe's rate limits
        are shared with the buyers' charges); returns how many it settled one way or another
        (paid, waiting, retried later, failed): fewer than the batch, and the timer waits for
        its next period. One that fails unexpectedly is logged and left to its claim running
        out."""
        async with self.uow() as uow:
            payout_ids = await uow.payouts.due_ids(self._now(), self.batch_size)
        settled = 0
        for payout_id in payout_ids:
            try:
                settled += await self.pay(payout_id) is not None
            except Exception:
                log.exception("a payout could not be paid", extra={"payout_id": payout_id})
        return settled

    async def reverse_owed(self) -> int:
        """Makes the transfer reversals owed by payouts of orders cancelled after they were paid
        (`cancel_payout`), each with the key `cancel_<payout>` (a replay after a crash makes
        nothing twice), and records each: the ledger's `transfer_reversal:<trr_...>` gives the
        seller's payable back. Returns how many it recorded."""
        async with self.uow() as uow:
            payout_ids = await uow.payouts.owing_reversal_ids(self.batch_size)
        made = 0
        for payout_id in payout_ids:
            async with self.uow() as uow:
                payout = await uow.payouts.get(payout_id)
            if payout is None or not payout.reversal_owed_minor:
                continue
            request = ReversalRequest(
                transfer_id=payout.transfer_id,
                amount_minor=payout.reversal_owed_minor,
                metadata={"payout_id": payout.id, "order_id": payout.order_id},
                idempotency_key=f"cancel_{payout.id}",
            )
            try:
                reversal_id = await self.stripe.reverse_transfer(request)
            except StripeUnavailable:
                continue  # the next sweep asks again, with the same key
            except StripeRefused as exc:
                # The seller's balance cannot cover it: the ledger keeps them owing it, for an
                # operator to settle.
                log.error(
                    "a cancelled order's transfer could not be reversed",
                    extra={"payout_id": payout.id, "error": exc.message},
                )
                reversal_id = ""
            made += await self._record_reversal(payout_id, reversal_id)
        return made

    @retry_transient()
    async def _record_reversal(self, payout_id: str, reversal_id: str) -> int:
        async with self.uow() as uow:
            payout = await uow.payouts.get(payout_id)
            assert payout is not None, "a payout is never deleted"
            amount = payout.reversal_made()
            if not amount:
                return 0  # recorded by another sweep
            if reversal_id:
                await uow.ledger.post(
                    JournalEntry.moving(
                        EntryKind.TRANSFER_REVERSAL,
                        reversal_id,
                        payout.order_id,
                        payout.currency_code,
                        amount,
                        debit=ledger.STRIPE_BALANCE,
                        credit=ledger.seller_payable(payout.seller_id),
                        created_at=self._now(),
                        memo=f"payout {payout.id}: its order was cancelled",
                    )
                )
            else:
                payout.reason = f"{payout.reason}; its transfer could not be reversed"
            await uow.payouts.save(payout)
            await uow.commit()
        return 1

    async def pay(self, payout_id: str) -> PayoutStatus | None:
        """Pays one payout if it is due; returns its status after, None when it was not ours to
        pay (not due, paid or claimed meanwhile)."""
        claimed = await self._claim(payout_id)
        if claimed is None or isinstance(claimed, PayoutStatus):
            return claimed
        payout = claimed.payout
        request = TransferRequest(
            payout_id=payout.id,
            order_id=payout.order_id,
            seller_id=payout.seller_id,
            amount_minor=payout.payable_minor,
            currency_code=payout.currency_code,
            destination=claimed.destination,
            transfer_group=payout.transfer_group,
            source_transaction=payout.charge_id if payout.charge_id.startswith("ch_") else "",
            idempotency_key=payout.idempotency_key,
        )
        try:
            transfer_id = await self.stripe.transfer(request)
        except StripeUnavailable as exc:
            error = exc.message
            return await self._settle(payout_id, "retry", lambda p, now: p.retry_later(now, error))
        except TransferRefused as exc:
            refusal = exc.message
            log.error(
                "stripe refused a payout's transfer",
                extra={"payout_id": payout_id, "error": refusal},
            )
            return await self._settle(payout_id, "failed", lambda p, now: p.fail(refusal))
        try:
            return await self._record_paid(payout_id, transfer_id)
        except Exception:
            series.payout_outcome("unrecorded")
            raise

    @retry_transient()
    async def _claim(self, payout_id: str) -> Claimed | PayoutStatus | None:
        async with self.uow() as uow:
            now = self._now()
            payout = await uow.payouts.get(payout_id)
            if payout is None or (payout.claimed(now) and payout.claimed_by != self.holder):
                return None
            version = payout.version
            if payout.status is PayoutStatus.WAITING_FOR_ONBOARDING:
                # The sweep's own re-check (the onboarding releases them as it happens).
                if not payout.release_waiting(now):
                    return None
            if not payout.is_due(now):
                if payout.version != version:  # released, due later
                    await uow.payouts.save(payout)
                    await uow.commit()
                return None
            account = await uow.seller_accounts.get(payout.seller_id)
            if not payable(account):
                payout.wait_for_onboarding(now)
                await judged_unpayable(uow, account)
                await uow.payouts.save(payout)
                await uow.commit()
                series.payout_outcome("waiting_for_onboarding")
                return payout.status
            assert account is not None
            try:
                payout.claim(self.holder, now, self.claim_for)
            except Conflict:
                return None
            await uow.payouts.save(payout)
            await uow.commit()
            return Claimed(payout, account.stripe_account_id)

    @retry_transient()
    async def _record_paid(self, payout_id: str, transfer_id: str) -> PayoutStatus:
        async with self.uow() as uow:
            now = self._now()
            payout = await uow.payouts.get(payout_id)
            assert payout is not None, "a payout is never deleted"
            if payout.paid(transfer_id, now):
                await uow.ledger.post(
                    JournalEntry.moving(
                        EntryKind.TRANSFER,
                        transfer_id,
                        payout.order_id,
                        payout.currency_code,
                        payout.payable_minor,
                        debit=ledger.seller_payable(payout.seller_id),
                        credit=ledger.STRIPE_BALANCE,
                        created_at=now,
                        memo=f"payout {payout.id}",
                    )
                )
                await uow.payouts.save(payout)
                await uow.commit()
                series.payout_outcome("paid")
                if payout.due_at is not None:
                    series.payout_paid_late((now - payout.due_at).total_seconds())
                log.info(
                    "paid a seller",
                    extra={"payout_id": payout.id, "transfer_id": transfer_id},
                )
            return payout.status

    @retry_transient()
    async def _settle(
        self, payout_id: str, outcome: str, change: Callable[[Payout, datetime], object]
    ) -> PayoutStatus | None:
        """Stripe did not pay it: the payout says so, and the claim is let go."""
        async with self.uow() as uow:
            payout = await uow.payouts.get(payout_id)
            if payout is None or payout.claimed_by != self.holder:
                return None  # the claim ran out and another sweep took it
            change(payout, self._now())
            await uow.payouts.save(payout)
            await uow.commit()
            series.payout_outcome(outcome)
            return payout.status
