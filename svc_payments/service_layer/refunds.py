"""Refund commands: a buyer's request, an admin's decision on it, an admin's refund, the lists.
The policy and the split are the domain's (domain/refunds.py); an approved refund is carried out
by service_layer/refund_making.py, which a cancelled event's run (service_layer/refund_runs.py)
uses too. An order whose payment is disputed (a chargeback open or lost) is not refunded: asked,
FAILED_PRECONDITION with the reason, Stripe not asked (it refuses a disputed charge's refund).
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
)
from common.idempotency import check_key, fingerprint
from common.retries import retry_transient
from svc_payments.domain.currency import from_minor
from svc_payments.domain.model import Order, Payment, PaymentStatus
from svc_payments.domain.refunds import (
    NOT_PAID,
    NOTHING_LEFT,
    REQUEST_OPEN,
    Refund,
    RefundOrigin,
    RefundState,
    check_reason,
    check_requestable,
    check_undisputed,
    left_to_refund,
)
from svc_payments.service_layer.ports import StripeGateway
from svc_payments.service_layer.refund_making import RefundMaker
from svc_payments.service_layer.unit_of_work import PaymentsUnitOfWork

log = logging.getLogger(__name__)

LIST_DEFAULT, LIST_MOST = 50, 200
ORDER_IDS_MOST = 500


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


def _paid(order: Order | None, payment: Payment | None) -> Payment:
    if order is None:
        raise NotFound("Order not found", field="orderId")
    if payment is None or payment.status is not PaymentStatus.SUCCEEDED:
        raise Conflict(NOT_PAID)
    return payment


async def _check_undisputed(uow: PaymentsUnitOfWork, order_id: str) -> None:
    check_undisputed((await uow.disputes.statuses_of_orders([order_id])).get(order_id))


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
        self.maker = RefundMaker(uow, stripe, clock, lease_for, new_id)

    async def carry_out(self, refund_id: str) -> Refund:
        """Makes an APPROVED refund at Stripe and records it (service_layer/refund_making.py)."""
        return await self.maker.carry_out(refund_id)

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
            await _check_undisputed(uow, order_id)
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
            if approve and refund.state is RefundState.REQUESTED:
                await _check_undisputed(uow, refund.order_id)
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
            await _check_undisputed(uow, order.id)
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
