"""Recording what Stripe says of a charge: the outcome of CreatePayment's charge, and
SettlePayment (the Stripe webhook), which settles an intent whether or not a request of ours is
still waiting for it. A charge that cannot stand (its order cancelled meanwhile, or another
charge recorded first) is refused by a refund at Stripe before its payment is stored; a charge
that stands schedules the seller's payout in the same transaction (service_layer/payouts.py)."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from datetime import datetime

from common.errors import Conflict, InvalidInput, NotFound, Unavailable
from common.retries import retry_transient
from svc_payments.domain.events import ChargeCreated
from svc_payments.domain.idempotency import KeyUse
from svc_payments.domain.model import Intent, Payment, PaymentStatus, must_refund
from svc_payments.service_layer.idempotency import ClientKeys
from svc_payments.service_layer.payouts import PayoutTerms, book_refused_charge, schedule_payout
from svc_payments.service_layer.ports import StripeGateway, StripeUnavailable
from svc_payments.service_layer.unit_of_work import PaymentsUnitOfWork

log = logging.getLogger(__name__)

# A PaymentIntent id as Stripe makes them (object ids are at most 255 characters); anything else
# is not looked up at Stripe (the gateway's webhook refuses it first, with the same rule).
INTENT_ID = re.compile(r"pi_[A-Za-z0-9_]{1,252}")


async def release_lease_in(
    uow: PaymentsUnitOfWork, order_id: str, holder: str | None, charged_nothing: bool = False
) -> None:
    """The order's charge lease let go by `holder` (None: a webhook, which holds none)."""
    if holder is None:
        return
    lease = await uow.leases.get(order_id)
    if lease.release(holder, charged_nothing):
        await uow.leases.save(lease)


class Settlement:
    def __init__(
        self,
        uow: Callable[[], PaymentsUnitOfWork],
        stripe: StripeGateway,
        keys: ClientKeys,
        now: Callable[[], datetime],
        new_id: Callable[[], str],
        payout_terms: PayoutTerms,
    ) -> None:
        self.uow = uow
        self.stripe = stripe
        self.keys = keys
        self._now = now
        self.new_id = new_id
        self.payout_terms = payout_terms

    async def settle_intent(
        self, order_id: str, intent: Intent, holder: str | None, use: KeyUse | None = None
    ) -> Payment:
        """Records `intent` as the order's payment, or refunds it when it cannot stand (the
        refund is a Stripe call, made outside the transaction; then the transaction runs again
        knowing it was made). Returns the order's payment, which is another intent's when this
        one was a stray duplicate."""
        refund_id = ""  # Stripe's refund (re_...), once made
        while True:
            payment = await self._apply_intent(order_id, intent, holder, refund_id, use)
            if payment is not None:
                return payment
            refund_id = await self.stripe.refund(intent.id)
            log.warning(
                "refunded a charge that cannot stand",
                extra={"order_id": order_id, "stripe_id": intent.id},
            )

    @retry_transient()
    async def _apply_intent(
        self,
        order_id: str,
        intent: Intent,
        holder: str | None,
        refund_id: str,
        use: KeyUse | None,
    ) -> Payment | None:
        """None: the intent's charge must be refunded first (`refund_id`: the refund made)."""
        async with self.uow() as uow:
            order = await uow.orders.get(order_id)
            assert order is not None, "an order copy is never deleted"
            order_version = order.version
            recorded = await uow.payments.for_order(order_id)
            if (
                recorded is not None
                and recorded.stripe_id == intent.id
                and recorded.settled_against(intent)
            ):
                pass  # settled before (a webhook delivered again, or late): nothing changes
            elif must_refund(order, recorded, intent):
                if not refund_id:
                    return None
                await book_refused_charge(uow, order, intent, refund_id, self._now())
                if recorded is None:
                    recorded = Payment.refunded(self.new_id(), order, intent, self._now())
                    await uow.payments.add(recorded)
                elif recorded.stripe_id == intent.id:
                    recorded.refund()
                    await uow.payments.save(recorded)
            elif recorded is None:
                recorded = Payment.of_intent(self.new_id(), order, intent, self._now())
                await uow.payments.add(recorded)
            else:
                if recorded.stripe_id == intent.id and recorded.settle(intent, order):
                    await uow.payments.save(recorded)
            if recorded is not None and any(isinstance(e, ChargeCreated) for e in recorded.events):
                # Paid just now: the seller's payout and the ledger's charge, in this transaction.
                terms, now = self.payout_terms, self._now()
                await schedule_payout(uow, order, intent, terms, now, self.new_id)
            if order.version != order_version:
                await uow.orders.save(order)
            if use is not None and holder is not None and recorded is not None:
                await self.keys.settle_in(uow, use, holder, recorded, intent)
            await release_lease_in(uow, order_id, holder)
            await uow.commit()
            return recorded

    async def settle_payment(self, stripe_id: str) -> Payment:
        if not stripe_id:
            raise InvalidInput("stripeId is required", field="stripeId")
        if not INTENT_ID.fullmatch(stripe_id):
            raise InvalidInput("stripeId is not a PaymentIntent id", field="stripeId")
        try:
            intent = await self.stripe.retrieve(stripe_id)
        except StripeUnavailable as exc:
            raise Unavailable(exc.message) from None
        if intent is None:
            raise NotFound("Payment not found", field="stripeId")
        async with self.uow() as uow:
            payment = await uow.payments.get_by_stripe_id(stripe_id)
        if payment is not None and payment.settled_against(intent):
            return payment
        order_id = payment.order_id if payment is not None else await self._adoptable(intent)
        try:
            recorded = await self.settle_intent(order_id, intent, holder=None)
        except StripeUnavailable as exc:
            raise Unavailable(exc.message) from None
        if recorded.stripe_id != intent.id:
            raise Conflict("The order was paid by another payment; this charge was refunded")
        return recorded

    async def _adoptable(self, intent: Intent) -> str:
        """A PaymentIntent of ours that no payment records: its charge was made but its outcome
        never stored (Stripe answered after we gave up, or we stopped). Its order id is in the
        metadata we set; a success is recorded (or refunded) like any other."""
        async with self.uow() as uow:
            order = await uow.orders.get(intent.order_id) if intent.order_id else None
            if order is None:
                raise NotFound("Payment not found", field="stripeId")
            recorded = await uow.payments.for_order(order.id)
            lease = await uow.leases.get(order.id)
        if lease.held(self._now()):
            # A CreatePayment is between its Stripe call and recording the outcome.
            raise Unavailable("The payment is being recorded; try again shortly")
        failed = intent.payment_status is PaymentStatus.FAILED
        if failed or (recorded is not None and not intent.succeeded):
            raise NotFound("Payment not found", field="stripeId")  # nothing charged to settle
        return order.id
