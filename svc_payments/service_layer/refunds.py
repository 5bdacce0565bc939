"""Refund commands: a buyer's request, an admin's decision on it, an admin's refund, the lists;
and carrying out an approved refund, which a cancelled event's run does too
(service_layer/refund_runs.py). The policy and the split are the domain's (domain/refunds.py).

How a refund is made once, like CreatePayment's charge (service_layer/handlers.py):
1. The claim (one transaction): the refund APPROVED and nobody else's, the seller's payout not
   being transferred right now; the split fixed (the seller's proceeds first, the fees the
   rest); a lease taken.
2. Stripe refunds, outside any transaction, with the key `refund_<id>`; if the seller's share
   comes out of a transfer made already, Stripe reverses that much of it (`reversal_<id>`).
3. The record (one transaction): the refund SUCCEEDED, the ledger's entries (the reversal's,
   then the refund's), the payout reduced or REVERSED, RefundIssued in the outbox.
Stripe unreachable between 1 and 3 leaves the refund APPROVED (its Stripe refund id kept when
Stripe made it): carrying it out again asks with the same keys, so Stripe makes nothing twice.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from common.clock import Clock, stored_precision
from common.errors import (
    Conflict,
    Forbidden,
    IdempotencyKeyReused,
    InvalidInput,
    NotFound,
    Unavailable,
)
from common.idempotency import check_key, fingerprint
from common.retries import retry_transient
from svc_payments.domain.currency import from_minor
from svc_payments.domain.model import Order, Payment, PaymentStatus
from svc_payments.domain.payouts import Payout, PayoutStatus
from svc_payments.domain.refunds import (
    NOT_PAID,
    NOTHING_LEFT,
    REQUEST_OPEN,
    Refund,
    RefundOrigin,
    RefundState,
    check_reason,
    check_requestable,
    left_to_refund,
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

LIST_DEFAULT, LIST_MOST = 50, 200
ORDER_IDS_MOST = 500
PAYOUT_BUSY = "The seller's payout is being transferred right now; try again shortly"


@dataclass(frozen=True)
class Caller:
    user_id: str
    is_admin: bool = False

    def check_admin(self) -> None:
        if not self.is_admin:
            raise Forbidden("Only an admin may do this")


@dataclass(frozen=True)
class RefundOrder:
    order_id: str
    amount_minor: int | None  # None: all that is left
    currency_code: str
    reason: str
    idempotency_key: str


@dataclass(frozen=True)
class _Reversal:
    """The record found the seller paid: this much of their transfer is to be reversed first."""

    transfer_id: str
    amount_minor: int


def _paid(order: Order | None, payment: Payment | None) -> Payment:
    if order is None:
        raise NotFound("Order not found", field="orderId")
    if payment is None or payment.status is not PaymentStatus.SUCCEEDED:
        raise Conflict(NOT_PAID)
    return payment


def _seller_left(payout: Payout | None) -> tuple[int, str]:
    """What is left of the seller's proceeds of the order, and the transfer that paid them."""
    if payout is None or payout.status is PayoutStatus.REVERSED:
        return 0, ""
    paid = payout.status is PayoutStatus.PAID
    return payout.payable_minor, payout.transfer_id if paid else ""


class RefundHandlers:
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

    # -- RequestRefund (the buyer) ---------------------------------------------------------

    @retry_transient()
    async def request_refund(self, caller: Caller, order_id: str, reason: str) -> Refund:
        if not order_id:
            raise InvalidInput("orderId is required", field="orderId")
        reason = check_reason(reason)
        async with self.uow() as uow:
            now = self._now()
            order = await uow.orders.get(order_id)
            if order is None or order.user_id != caller.user_id:
                raise NotFound("Order not found", field="orderId")
            payment = _paid(order, await uow.payments.for_order(order_id))
            refunds = await uow.refunds.of_order(order_id)
            for open_one in (r for r in refunds if r.state.open):
                if (
                    open_one.origin is RefundOrigin.BUYER
                    and open_one.requested_by == caller.user_id
                ):
                    return open_one  # asked again: the request stands
                raise Conflict(REQUEST_OPEN)
            left = left_to_refund(payment.amount_minor, refunds)
            if left <= 0:
                raise Conflict(NOTHING_LEFT)
            check_requestable(await uow.event_schedules.get(order.event_id), now)
            refund = self.new_refund(order, payment, left, reason, RefundOrigin.BUYER, caller, now)
            refund.state = RefundState.REQUESTED
            await uow.refunds.add(refund)
            await uow.commit()
        log.info("refund requested", extra={"refund_id": refund.id, "order_id": order_id})
        return refund

    def new_refund(
        self,
        order: Order,
        payment: Payment,
        amount_minor: int,
        reason: str,
        origin: RefundOrigin,
        caller: Caller | None,
        now: datetime,
        id: str | None = None,
    ) -> Refund:
        return Refund(
            id=id or self.new_id(),
            order_id=order.id,
            buyer_id=order.user_id,
            seller_id=order.seller_id,
            amount_minor=amount_minor,
            currency_code=payment.currency_code,
            reason=reason,
            origin=origin,
            requested_by=caller.user_id if caller else "",
            created_at=now,
            payment_intent=payment.stripe_id,
            event_id=order.event_id,
        )

    # -- DecideRefundRequest (an admin) ----------------------------------------------------

    async def decide_refund_request(
        self, caller: Caller, refund_id: str, approve: bool, reason: str
    ) -> Refund:
        caller.check_admin()
        if not refund_id:
            raise InvalidInput("refundId is required", field="refundId")
        if not approve:
            reason = check_reason(reason)
        refund = await self._decide(caller, refund_id, approve, reason)
        if refund.state is RefundState.APPROVED:
            return await self.carry_out(refund.id)
        return refund

    @retry_transient()
    async def _decide(self, caller: Caller, refund_id: str, approve: bool, reason: str) -> Refund:
        async with self.uow() as uow:
            refund = await uow.refunds.get(refund_id)
            if refund is None or refund.origin is not RefundOrigin.BUYER:
                raise NotFound("Refund request not found", field="refundId")
            now = self._now()
            if approve:
                changed = refund.approve(caller.user_id, now)
            else:
                changed = refund.decline(caller.user_id, reason, now)
            if changed:
                await uow.refunds.save(refund)
                await uow.commit()
            return refund

    # -- RefundOrder (an admin) ------------------------------------------------------------

    async def refund_order(self, caller: Caller, cmd: RefundOrder) -> Refund:
        caller.check_admin()
        if not cmd.order_id:
            raise InvalidInput("orderId is required", field="orderId")
        key = check_key(cmd.idempotency_key)
        reason = check_reason(cmd.reason)
        if cmd.amount_minor is not None and cmd.amount_minor <= 0:
            raise InvalidInput("The amount must be more than zero", field="amount")
        amount = "" if cmd.amount_minor is None else f"{cmd.amount_minor} {cmd.currency_code}"
        print_ = fingerprint(cmd.order_id, amount, reason)
        refund = await self._create(caller, cmd, f"{caller.user_id}/{key}", print_, reason)
        if refund.state is RefundState.APPROVED:
            return await self.carry_out(refund.id)
        return refund

    @retry_transient()
    async def _create(
        self, caller: Caller, cmd: RefundOrder, client_key: str, print_: str, reason: str
    ) -> Refund:
        async with self.uow() as uow:
            earlier = await uow.refunds.by_client_key(client_key)
            if earlier is not None:
                if earlier.fingerprint != print_:
                    raise IdempotencyKeyReused(
                        "This idempotency key was used for another refund",
                        field="idempotencyKey",
                    )
                return earlier  # the first refund (resumed if it was cut off)
            now = self._now()
            order = await uow.orders.get(cmd.order_id)
            payment = _paid(order, await uow.payments.for_order(cmd.order_id))
            assert order is not None
            refunds = await uow.refunds.of_order(order.id)
            if any(r.state.open for r in refunds):
                raise Conflict(REQUEST_OPEN)
            left = left_to_refund(payment.amount_minor, refunds)
            if left <= 0:
                raise Conflict(NOTHING_LEFT)
            amount = left if cmd.amount_minor is None else cmd.amount_minor
            if cmd.amount_minor is not None and cmd.currency_code != payment.currency_code:
                raise InvalidInput(f"The order was paid in {payment.currency_code}", field="amount")
            if amount > left:
                most = from_minor(left, payment.currency_code)
                raise InvalidInput(
                    f"At most {most} {payment.currency_code} is left to refund", field="amount"
                )
            refund = self.new_refund(
                order, payment, amount, reason, RefundOrigin.ADMIN, caller, now
            )
            refund.client_key, refund.fingerprint = client_key, print_
            await uow.refunds.add(refund)
            await uow.commit()
            return refund

    # -- ListRefunds -------------------------------------------------------------------------

    async def list_refunds(
        self, caller: Caller, state: str, order_ids: list[str], limit: int, ids: Sequence[str] = ()
    ) -> list[Refund]:
        wanted: RefundState | None = None
        if state:
            try:
                wanted = RefundState(state)
            except ValueError:
                raise InvalidInput(f"No refund state {state!r}", field="state") from None
        if len(order_ids) > ORDER_IDS_MOST or len(ids) > ORDER_IDS_MOST:
            raise InvalidInput(f"At most {ORDER_IDS_MOST} orders at once", field="orderIds")
        if limit < 0 or limit > LIST_MOST:
            raise InvalidInput(f"limit is 1 to {LIST_MOST}", field="limit")
        buyer = None if caller.is_admin else caller.user_id
        async with self.uow() as uow:
            return await uow.refunds.listed(
                wanted, buyer, order_ids, limit or LIST_DEFAULT, list(ids)
            )

    # -- carrying out an approved refund -------------------------------------------------------

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
