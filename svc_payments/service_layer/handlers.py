"""Payment commands, and the order events that keep the service's copy of orders current.

How an order is never charged twice:
1. The claim (one transaction): the order is payable by the caller, has no payment yet, and no
   other request holds its charge lease; the lease is taken. Two requests claiming at once
   write the same lease document, so one of them loses and answers CONFLICT.
2. Stripe is asked to charge, outside any transaction, with the lease's idempotency key.
3. The outcome (one transaction, service_layer/settlement.py): the payment is stored (at most
   one per order: a unique index), the order copy completed, the lease released, the event
   written to the outbox.
   A charge that succeeded for an order cancelled meanwhile is refunded first and stored as
   refunded; the order service hears nothing that would complete the order.
Once step 2 has started, the request runs to its end even if the caller goes away, so a charge
is never left unrecorded because a client hit its deadline.

The client's idempotency key (service_layer/idempotency.py) rides along: claimed in step 1 (a
repeat with the key waits for the outcome, another input is refused before any charge), settled
in step 3 with the payment or the decline; a request with no outcome lets it go.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

from common.clock import Clock, stored_precision
from common.errors import (
    AppError,
    Conflict,
    InvalidInput,
    NotFound,
    PaymentDeclined,
    Unavailable,
)
from common.idempotency import check_key, fingerprint
from common.retries import retry_transient
from svc_payments.domain.currency import check_chargeable
from svc_payments.domain.fees import FeeQuote, FeeSchedule, QuoteLine
from svc_payments.domain.idempotency import KeyUse
from svc_payments.domain.model import (
    IN_PROGRESS,
    ChargeLease,
    Order,
    Payment,
    PaymentStatus,
    declined_message,
)
from svc_payments.service_layer.event_copy import EventCopy
from svc_payments.service_layer.fee_quotes import order_charges, quote_fees
from svc_payments.service_layer.idempotency import (
    KEY_POLL_SECONDS,
    ClientKeys,
    KeyInFlight,
    LookAgain,
)
from svc_payments.service_layer.order_copy import OrderCopy
from svc_payments.service_layer.payment_reads import batch_get_payments
from svc_payments.service_layer.payouts import (
    DEFAULT_TERMS,
    PayoutTerms,
)
from svc_payments.service_layer.ports import (
    CardDeclined,
    ChargeRequest,
    IdempotencyMismatch,
    InvalidPaymentMethod,
    OrderSource,
    StripeGateway,
    StripeUnavailable,
)
from svc_payments.service_layer.settlement import Settlement, release_lease_in
from svc_payments.service_layer.unit_of_work import PaymentsUnitOfWork

log = logging.getLogger(__name__)

T = TypeVar("T")

REFUNDED_LATE = "The order was cancelled before the payment completed; the charge was refunded"
REFUND_DUE = "The order was cancelled before the payment completed; the charge will be refunded"
ALREADY_PAID = "Order already paid"


@dataclass(frozen=True)
class CreatePayment:
    user_id: str
    order_id: str
    payment_method: str
    idempotency_key: str
    token: str | None = None  # the buyer's own, to read the order from the orders service


def _already(recorded: Payment) -> Conflict:
    if recorded.status is PaymentStatus.SUCCEEDED:
        return Conflict(ALREADY_PAID)
    if recorded.status is PaymentStatus.FAILED:
        return Conflict("The payment for this order failed; the order is cancelled")
    if recorded.status is PaymentStatus.REFUNDED:
        return Conflict("Cannot pay for a cancelled order")
    return Conflict(IN_PROGRESS)


async def run_to_completion(coro: Coroutine[Any, Any, T]) -> T:
    """Awaits `coro` in a task of its own that a cancelled caller does not cancel."""
    task = asyncio.ensure_future(coro)

    def settle(done: asyncio.Future[T]) -> None:
        if not done.cancelled() and (exc := done.exception()) is not None:
            if not isinstance(exc, AppError):
                log.error("payment task failed", exc_info=exc)

    task.add_done_callback(settle)
    return await asyncio.shield(task)


class PaymentHandlers:
    def __init__(
        self,
        uow: Callable[[], PaymentsUnitOfWork],
        stripe: StripeGateway,
        orders: OrderSource,
        clock: Clock,
        lease_for: timedelta,
        new_id: Callable[[], str] = lambda: str(uuid.uuid4()),
        fees: FeeSchedule | None = None,
        payout_terms: PayoutTerms = DEFAULT_TERMS,
    ) -> None:
        self.uow = uow
        self.stripe = stripe
        self.orders = orders
        self.clock = clock
        self.lease_for = lease_for
        self.new_id = new_id
        self.fees = fees or FeeSchedule()  # none: no fees
        self.payout_terms = payout_terms
        self.order_copy = OrderCopy(uow, stripe, orders, self.fees, clock)
        self.event_copy = EventCopy(uow, clock, payout_terms)
        self.keys = ClientKeys(uow, self._now)
        self.settlement = Settlement(uow, stripe, self.keys, self._now, new_id, payout_terms)

    def _now(self) -> datetime:
        return stored_precision(self.clock.now())  # as MongoDB keeps it (milliseconds)

    # -- CreatePayment ------------------------------------------------------------------------

    async def create_payment(self, cmd: CreatePayment) -> Payment:
        if not cmd.order_id:
            raise InvalidInput("orderId is required", field="orderId")
        payment_method = (cmd.payment_method or "").strip()
        if not payment_method:
            raise InvalidInput("paymentMethod is required", field="paymentMethod")
        key = check_key(cmd.idempotency_key)
        use = KeyUse(cmd.user_id, key, fingerprint(cmd.order_id, payment_method))
        # A request charging under the key holds it for at most a lease: waiting longer means
        # something is wrong, which the caller hears as a retryable refusal.
        waited, patience = 0.0, self.lease_for.total_seconds()
        while True:
            try:
                replayed = await self.keys.replay(use)
                if replayed is not None:
                    return replayed
                return await self._pay(cmd, payment_method, use)
            except LookAgain:
                continue
            except KeyInFlight:
                if waited >= patience:
                    raise Unavailable("A payment with this key is in progress; try again") from None
                await asyncio.sleep(KEY_POLL_SECONDS)
                waited += KEY_POLL_SECONDS

    async def _pay(self, cmd: CreatePayment, payment_method: str, use: KeyUse) -> Payment:
        order = await self.order_copy.read(cmd.order_id, cmd.token)
        check_chargeable(order.currency_code)  # who may pay it, and whether: the claim says
        holder = self.new_id()
        lease = await self._claim(cmd.user_id, order.id, holder, use)
        request = ChargeRequest(
            order.id,
            order.user_id,
            order.amount_minor,
            order.currency_code,
            payment_method,
            lease.idempotency_key,
        )
        return await run_to_completion(self._charge(request, holder, use))

    @retry_transient()
    async def _claim(self, user_id: str, order_id: str, holder: str, use: KeyUse) -> ChargeLease:
        async with self.uow() as uow:
            now = self._now()
            # The key first: a request with it that got this far since we read it means that
            # one's outcome is ours (LookAgain), whatever the order's state now.
            resumed = await self.keys.claim_in(uow, use, holder, until=now + self.lease_for)
            order = await uow.orders.get(order_id)
            if order is None:
                raise NotFound("Order not found", field="orderId")
            recorded = await uow.payments.for_order(order_id)
            if (
                resumed
                and recorded is not None
                and recorded.user_id == user_id
                and recorded.status is not PaymentStatus.REFUNDED
            ):
                # Our earlier attempt's charge, recorded since (the webhook): our outcome.
                await self.keys.adopt_in(uow, use, holder, recorded)
                await uow.commit()
                raise LookAgain()
            order.check_payable_by(user_id)
            if recorded is not None:
                raise _already(recorded)
            lease = await uow.leases.get(order_id)
            lease.claim(holder, now, self.lease_for)  # the key's claim runs out with it
            await uow.leases.save(lease)
            await uow.commit()
            return lease

    async def _charge(self, request: ChargeRequest, holder: str, use: KeyUse) -> Payment:
        order_id = request.order_id
        try:
            intent = await self.stripe.charge(request)
        except CardDeclined as exc:
            await self._record_decline(order_id, holder, exc, use)
            raise PaymentDeclined(exc.message) from None
        except InvalidPaymentMethod as exc:
            await self._release(order_id, holder, use, charged_nothing=True)
            raise InvalidInput(exc.message, field="paymentMethod") from None
        except IdempotencyMismatch:
            await self._release(order_id, holder, use)
            raise Conflict(
                "An earlier attempt to pay this order with another payment method has an unknown"
                " outcome; try again with that payment method"
            ) from None
        except StripeUnavailable as exc:
            await self._release(order_id, holder, use, unknown=True)
            raise Unavailable(exc.message) from None
        except Exception:
            # Unknown outcome: the next attempt reuses the idempotency key, which is safe.
            await self._release(order_id, holder, use, unknown=True)
            raise
        try:
            payment = await self.settlement.settle_intent(order_id, intent, holder, use)
        except StripeUnavailable:
            # The webhook for this intent settles it later (SettlePayment refunds it then).
            log.error(
                "a charge for a cancelled order could not be refunded yet",
                extra={"order_id": order_id, "stripe_id": intent.id},
            )
            await self._release(order_id, holder, use)
            raise Conflict(REFUND_DUE) from None
        if payment.stripe_id != intent.id:  # another request's payment was recorded first
            raise _already(payment)
        if payment.status is PaymentStatus.REFUNDED:
            raise Conflict(REFUNDED_LATE)
        if payment.status is PaymentStatus.FAILED:
            raise PaymentDeclined(declined_message(intent))
        return payment

    @retry_transient()
    async def _record_decline(
        self, order_id: str, holder: str, declined: CardDeclined, use: KeyUse
    ) -> None:
        async with self.uow() as uow:
            order = await uow.orders.get(order_id)
            assert order is not None, "an order copy is never deleted"
            payment_id = ""
            if await uow.payments.for_order(order_id) is None:
                payment = Payment.declined(
                    self.new_id(), order, declined.stripe_id, declined.message, self._now()
                )
                await uow.payments.add(payment)
                payment_id = payment.id
            await self.keys.decline_in(uow, use, holder, payment_id, declined.message)
            await release_lease_in(uow, order_id, holder)
            await uow.commit()

    @retry_transient()
    async def _release(
        self,
        order_id: str,
        holder: str,
        use: KeyUse,
        charged_nothing: bool = False,
        unknown: bool = False,
    ) -> None:
        async with self.uow() as uow:
            await self.keys.release_in(uow, use, holder, unknown)
            await release_lease_in(uow, order_id, holder, charged_nothing)
            await uow.commit()

    # -- SettlePayment (the Stripe webhook): service_layer/settlement.py ----------------------

    async def settle_payment(self, stripe_id: str) -> Payment:
        return await self.settlement.settle_payment(stripe_id)

    # -- BatchGetPayments (service_layer/payment_reads.py) --------------------------------------

    async def batch_get_payments(
        self, user_id: str, order_ids: Sequence[str], ids: Sequence[str] = ()
    ) -> list[Payment]:
        return await batch_get_payments(self.uow, user_id, order_ids, ids)

    # -- QuoteFees and BatchGetOrderCharges (service_layer/fee_quotes.py) ------------------------

    async def quote_fees(self, lines: Sequence[QuoteLine]) -> list[FeeQuote]:
        return await quote_fees(self.uow, self.fees, lines)

    async def order_charges(
        self, user_id: str, order_ids: Sequence[str], token: str | None
    ) -> list[Order]:
        return await order_charges(self.order_copy, user_id, order_ids, token)

    # -- the order copy (service_layer/order_copy.py) --------------------------------------------

    @property
    def event_handlers(self) -> dict[type, Callable[..., Awaitable[None]]]:
        return {**self.order_copy.event_handlers, **self.event_copy.event_handlers}
