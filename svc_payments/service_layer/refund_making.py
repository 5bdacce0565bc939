"""Carrying out an approved refund, once, like CreatePayment's charge (service_layer/handlers.py):
an admin's refund, a buyer's approved request (service_layer/refunds.py) and a cancelled event's
run (service_layer/refund_runs.py) all end here.

1. The claim (one transaction): the refund APPROVED and nobody else's, the seller's payout not
   being transferred right now, the order's payment not disputed (a chargeback open or lost:
   the refund FAILED with the reason, Stripe not asked); the split fixed (the seller's proceeds
   first, the fees the rest); a lease taken.
2. Stripe refunds, outside any transaction, with the key `refund_<id>`; if the seller's share
   comes out of a transfer made already, Stripe reverses that much of it (`reversal_<id>`).
3. The record (one transaction): the refund SUCCEEDED, the ledger's entries (the reversal's,
   then the refund's), the payout reduced or REVERSED, RefundIssued in the outbox.
Stripe unreachable between 1 and 3 leaves the refund APPROVED (its Stripe refund id kept when
Stripe made it): carrying it out again asks with the same keys, so Stripe makes nothing twice.
Stripe refusing the refund for good (a dispute opened after the claim: `charge_disputed`)
leaves it FAILED with Stripe's words.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from common.clock import Clock, stored_precision
from common.errors import Conflict, NotFound, Unavailable
from common.retries import retry_transient
from svc_payments.domain.payouts import Payout, PayoutStatus
from svc_payments.domain.refunds import (
    Refund,
    RefundState,
    check_undisputed,
    refund_entry,
    reversal_entry,
    split,
)
from svc_payments.service_layer.ports import (
    RefundRequest,
    ReversalRequest,
    StripeGateway,
    StripeRefused,
    StripeUnavailable,
)
from svc_payments.service_layer.unit_of_work import PaymentsUnitOfWork

log = logging.getLogger(__name__)

PAYOUT_BUSY = "The seller's payout is being transferred right now; try again shortly"


@dataclass(frozen=True)
class _Reversal:
    """The record found the seller paid: this much of their transfer is to be reversed first."""

    transfer_id: str
    amount_minor: int


def _seller_left(payout: Payout | None) -> tuple[int, str]:
    """What is left of the seller's proceeds of the order, and the transfer that paid them."""
    if payout is None or payout.status is PayoutStatus.REVERSED:
        return 0, ""
    paid = payout.status is PayoutStatus.PAID
    return payout.payable_minor, payout.transfer_id if paid else ""


class RefundMaker:
    def __init__(
        self,
        uow: Callable[[], PaymentsUnitOfWork],
        stripe: StripeGateway,
        clock: Clock,
        lease_for: timedelta,
        new_id: Callable[[], str] = lambda: str(uuid.uuid4()),
    ) -> None:
        self.uow = uow
        self.stripe = stripe
        self.clock = clock
        self.lease_for = lease_for
        self.new_id = new_id

    def _now(self) -> datetime:
        return stored_precision(self.clock.now())

    async def carry_out(self, refund_id: str) -> Refund:
        """Makes an APPROVED refund at Stripe and records it (the module's docstring); returns
        it as it is then (SUCCEEDED, FAILED, or as it was when it is not APPROVED)."""
        holder = self.new_id()
        refund = await self._claim(refund_id, holder)
        if refund.state is not RefundState.APPROVED:
            return refund
        stripe_refund_id = refund.stripe_refund_id
        try:
            if not stripe_refund_id:
                stripe_refund_id = await self.stripe.refund_part(
                    RefundRequest(
                        payment_intent=refund.payment_intent,
                        amount_minor=refund.amount_minor,
                        reason=refund.stripe_reason,
                        metadata={"refund_id": refund.id, "order_id": refund.order_id},
                        idempotency_key=refund.idempotency_key,
                    )
                )
        except StripeRefused as exc:
            return await self._fail(refund_id, holder, exc.message)
        except StripeUnavailable as exc:
            await self._release(refund_id, holder, "")
            raise Unavailable(exc.message) from None
        try:
            reversal_id, reversal_refused = "", False
            while True:
                recorded = await self._record(
                    refund_id, holder, stripe_refund_id, reversal_id, reversal_refused
                )
                if isinstance(recorded, Refund):
                    return recorded
                reversal_id = await self._reverse(refund, recorded)
                reversal_refused = not reversal_id
        except StripeUnavailable as exc:
            await self._release(refund_id, holder, stripe_refund_id)
            raise Unavailable(exc.message) from None

    async def _reverse(self, refund: Refund, reversal: _Reversal) -> str:
        """The reversal's id; "" when Stripe refused it (the seller's balance cannot cover it):
        the buyer has their money, and the ledger shows the seller owing their share, for an
        operator to settle."""
        try:
            return await self.stripe.reverse_transfer(
                ReversalRequest(
                    transfer_id=reversal.transfer_id,
                    amount_minor=reversal.amount_minor,
                    metadata={"refund_id": refund.id, "order_id": refund.order_id},
                    idempotency_key=refund.reversal_key,
                )
            )
        except StripeRefused as exc:
            log.error(
                "a paid seller's share of a refund could not be reversed",
                extra={
                    "refund_id": refund.id,
                    "transfer_id": reversal.transfer_id,
                    "error": str(exc),
                },
            )
            return ""

    @retry_transient()
    async def _claim(self, refund_id: str, holder: str) -> Refund:
        async with self.uow() as uow:
            now = self._now()
            refund = await uow.refunds.get(refund_id)
            if refund is None:
                raise NotFound("Refund not found", field="refundId")
            if refund.state is not RefundState.APPROVED:
                return refund
            if not refund.stripe_refund_id:
                disputes = await uow.disputes.statuses_of_orders([refund.order_id])
                try:
                    check_undisputed(disputes.get(refund.order_id))
                except Conflict as refused:
                    # Stripe would refuse it (charge_disputed): failed, with the reason.
                    refund.fail(refused.message, now)
                    await uow.refunds.save(refund)
                    await uow.commit()
                    log.warning(
                        "a refund of a disputed payment failed",
                        extra={"refund_id": refund.id, "order_id": refund.order_id},
                    )
                    return refund
            payout = await uow.payouts.for_order(refund.order_id)
            if payout is not None and payout.claimed(now) and not refund.stripe_refund_id:
                raise Unavailable(PAYOUT_BUSY)
            seller_left, transfer_id = _seller_left(payout)
            refund.claim(
                holder, split(refund.amount_minor, seller_left, transfer_id), now, self.lease_for
            )
            await uow.refunds.save(refund)
            await uow.commit()
            return refund

    @retry_transient()
    async def _record(
        self,
        refund_id: str,
        holder: str,
        stripe_refund_id: str,
        reversal_id: str,
        reversal_refused: bool,
    ) -> Refund | _Reversal:
        """The refund made: recorded, or first the reversal the seller's share needs."""
        async with self.uow() as uow:
            now = self._now()
            refund = await uow.refunds.get(refund_id)
            assert refund is not None, "a refund is never deleted"
            if refund.state is not RefundState.APPROVED:
                return refund  # recorded by the other holder after our lease ran out
            payout = await uow.payouts.for_order(refund.order_id)
            share = refund.seller_minor
            seller_paid = payout is not None and payout.status is PayoutStatus.PAID
            reversible = seller_paid and not reversal_refused and payout.payable_minor >= share
            if share and reversible and not reversal_id:
                return _Reversal(payout.transfer_id, share)
            refund.succeed(stripe_refund_id, reversal_id, now)
            if reversal_id:
                await uow.ledger.post(reversal_entry(refund, now))
            await uow.ledger.post(refund_entry(refund, now))
            if payout is not None and share and (reversal_id or not seller_paid):
                # The seller's share: not to be paid, or taken back from their transfer.
                if share <= payout.payable_minor and payout.status is not PayoutStatus.REVERSED:
                    payout.reverse(f"refund {refund.id}: {refund.reason}", share)
                    await uow.payouts.save(payout)
                else:
                    log.error(
                        "a refund's share is more than is left of the seller's payout",
                        extra={"refund_id": refund.id, "payout_id": payout.id},
                    )
            await uow.refunds.save(refund)
            await uow.commit()
        log.info(
            "refunded",
            extra={
                "refund_id": refund.id,
                "order_id": refund.order_id,
                "stripe_id": stripe_refund_id,
            },
        )
        return refund

    @retry_transient()
    async def _release(self, refund_id: str, holder: str, stripe_refund_id: str) -> None:
        async with self.uow() as uow:
            refund = await uow.refunds.get(refund_id)
            assert refund is not None, "a refund is never deleted"
            if stripe_refund_id and not refund.stripe_refund_id:
                refund.refunded_at_stripe(stripe_refund_id)
            refund.release(holder)
            await uow.refunds.save(refund)
            await uow.commit()

    @retry_transient()
    async def _fail(self, refund_id: str, holder: str, failure: str) -> Refund:
        async with self.uow() as uow:
            refund = await uow.refunds.get(refund_id)
            assert refund is not None, "a refund is never deleted"
            if refund.state is RefundState.APPROVED:
                refund.fail(failure, self._now())
                await uow.refunds.save(refund)
                await uow.commit()
        log.warning("stripe refused a refund", extra={"refund_id": refund_id, "error": failure})
        return refund
