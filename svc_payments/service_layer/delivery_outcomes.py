"""What a delivery's end means for the money (issue 22, docs/design/money.md §4).

- `delivery.missed`: the seller did not deliver a paid order by its deadline. The order is
  refunded in full (origin DELIVERY_MISSED) through the refund machinery
  (service_layer/refunds.py `carry_out`): one refund per order, its id derived from the order so
  that the event heard again finds it, the Stripe idempotency key `refund_<order>_delivery_missed`
  (domain/refunds.py). Its seller's payout is reversed as a full refund reverses it (never paid,
  or its transfer reversed). A buyer's open request is declined: this refund gives back all.
- `delivery.completed`: the order's copy records when and how it was delivered (a dispute's
  staged evidence cites it); under PAYOUT_POLICY=after_delivery the order's payout falls due now
  (the sweep pays it); under after_event nothing changes. A payout under after_delivery is
  scheduled with no due time (service_layer/payouts.py), so an order never delivered is never
  paid out, and a missed one is refunded instead.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime

from common.clock import Clock, stored_precision
from common.delivery import Delivery
from common.errors import Unavailable
from common.protos import from_timestamp
from common.retries import retry_transient
from svc_payments.domain.model import PaymentStatus
from svc_payments.domain.payouts import PayoutPolicy
from svc_payments.domain.refunds import (
    RefundBeingMade,
    RefundOrigin,
    RefundState,
    left_to_refund,
)
from svc_payments.service_layer.payouts import PayoutTerms
from svc_payments.service_layer.refunds import RefundHandlers
from svc_payments.service_layer.unit_of_work import PaymentsUnitOfWork
from ticketing.events.v1 import delivery_pb2
from ticketing.tickets.v1 import tickets_pb2

log = logging.getLogger(__name__)

MISSED_REASON = "The seller did not deliver the tickets by the deadline"
# Who declined a buyer's open request made moot by the full refund.
DECLINED_BY = "delivery"
_MISSED_REFUNDS = uuid.UUID("5b0f6a4e-9a77-4c84-8f53-22d0e1c0de22")


def missed_refund_id(order_id: str) -> str:
    """The refund of an order whose delivery was missed: the same id however often it is heard."""
    return str(uuid.uuid5(_MISSED_REFUNDS, order_id))


class DeliveryOutcomes:
    def __init__(
        self,
        uow: Callable[[], PaymentsUnitOfWork],
        refunds: RefundHandlers,
        clock: Clock,
        terms: PayoutTerms,
    ) -> None:
        self.uow = uow
        self.refunds = refunds
        self.clock = clock
        self.terms = terms

    def _now(self) -> datetime:
        return stored_precision(self.clock.now())

    async def on_delivery_missed(
        self, event: delivery_pb2.DeliveryMissed, delivery: Delivery
    ) -> None:
        refund_id = await self._missed_refund(event.order_id)
        if refund_id is not None:
            # Stripe unreachable: Unavailable, and the event is delivered again; the refund
            # made already is found by its id, and Stripe answers the same refund by its key.
            try:
                await self.refunds.carry_out(refund_id)
            except RefundBeingMade:
                # A worker that stopped mid-way (killed, or its lease running) holds it: the
                # event waits, delivered again until the lease ends and this one makes it.
                raise Unavailable(
                    "The missed delivery's refund is being made by another worker"
                ) from None

    @retry_transient()
    async def _missed_refund(self, order_id: str) -> str | None:
        """The order's DELIVERY_MISSED refund, made now (APPROVED) or found; None when there is
        nothing to give back (unpaid, unknown, refunded already)."""
        async with self.uow() as uow:
            refund_id = missed_refund_id(order_id)
            made = await uow.refunds.get(refund_id)
            if made is not None:
                return refund_id if made.state is RefundState.APPROVED else None
            order = await uow.orders.get(order_id)
            payment = await uow.payments.for_order(order_id)
            if order is None or payment is None or payment.status is not PaymentStatus.SUCCEEDED:
                log.warning("a missed delivery of an order not paid", extra={"order_id": order_id})
                return None
            now = self._now()
            refunds = await uow.refunds.of_order(order_id)
            for open_request in (r for r in refunds if r.state is RefundState.REQUESTED):
                if open_request.decline(DECLINED_BY, MISSED_REASON + ": refunded in full", now):
                    await uow.refunds.save(open_request)
            # Refunds approved already are being made: this one gives back the rest.
            being_made = sum(r.amount_minor for r in refunds if r.state is RefundState.APPROVED)
            amount = left_to_refund(payment.amount_minor, refunds) - being_made
            if amount <= 0:
                await uow.commit()
                return None
            refund = self.refunds.new_refund(
                order,
                payment,
                amount,
                MISSED_REASON,
                RefundOrigin.DELIVERY_MISSED,
                None,
                now,
                id=refund_id,
            )
            await uow.refunds.add(refund)
            await uow.commit()
        log.info("delivery missed: order refunded", extra={"order_id": order_id})
        return refund_id

    @retry_transient()
    async def on_delivery_completed(
        self, event: delivery_pb2.DeliveryCompleted, delivery: Delivery
    ) -> None:
        """The order's copy records the delivery (a dispute's evidence cites it); under
        after_delivery its payout falls due now."""
        async with self.uow() as uow:
            at = from_timestamp(event.delivered_at) if event.HasField("delivered_at") else None
            await uow.orders.record_delivery(
                event.order_id,
                stored_precision(at or self.clock.now()),
                tickets_pb2.DeliveryMethod.Name(event.method),
            )
            if self.terms.policy is PayoutPolicy.AFTER_DELIVERY:
                payout = await uow.payouts.for_order(event.order_id)
                if payout is None:
                    log.warning(
                        "a delivered order has no payout", extra={"order_id": event.order_id}
                    )
                # Due once: the delivery heard again does not move it.
                elif payout.due_at is None and payout.reschedule(self._now(), self._now()):
                    await uow.payouts.save(payout)
            await uow.commit()

    @property
    def event_handlers(self) -> dict[type, Callable[..., Awaitable[None]]]:
        return {
            delivery_pb2.DeliveryMissed: self.on_delivery_missed,
            delivery_pb2.DeliveryCompleted: self.on_delivery_completed,
        }
