"""The service's copy of orders, kept current from the order events (or read through from the
orders service when its OrderCreated has not come yet): who may pay for what, in which currency,
and which succeeded charges must be refunded because their order was cancelled meanwhile."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Awaitable, Callable
from decimal import Decimal

from common.clock import Clock, SystemClock, stored_precision
from common.delivery import Delivery
from common.errors import NotFound, NotYet
from common.retries import retry_transient
from svc_payments.domain.currency import currency_or_default
from svc_payments.domain.model import Order, PaymentStatus
from svc_payments.service_layer.payouts import cancel_payout
from svc_payments.service_layer.ports import OrderSource, StripeGateway
from svc_payments.service_layer.unit_of_work import PaymentsUnitOfWork
from ticketing.events.v1 import orders_pb2

log = logging.getLogger(__name__)


class OrderCopy:
    def __init__(
        self,
        uow: Callable[[], PaymentsUnitOfWork],
        stripe: StripeGateway,
        orders: OrderSource,
        clock: Clock | None = None,
    ) -> None:
        self.uow = uow
        self.stripe = stripe
        self.orders = orders
        self.clock = clock or SystemClock()

    async def read(self, order_id: str, token: str | None) -> Order:
        """Our copy of the order. A buyer may pay right after ordering, before OrderCreated has
        reached us (or while the broker is down): the order is then read from the orders
        service, the authority, with the buyer's own token (it shows a user only their own
        orders), and stored as our copy; its events apply on top of it when they come."""
        async with self.uow() as uow:
            order = await uow.orders.get(order_id)
        if order is not None:
            return order
        fetched = await self.orders.get_order(order_id, token)
        if fetched is None:
            raise NotFound("Order not found", field="orderId")
        log.info("order read through from the orders service", extra={"order_id": order_id})
        return await self._store_copy(fetched)

    @retry_transient()
    async def _store_copy(self, fetched: Order) -> Order:
        async with self.uow() as uow:
            order = await uow.orders.get(fetched.id)
            if order is None:  # OrderCreated may have stored it meanwhile
                order = dataclasses.replace(fetched, events=[])
                await uow.orders.add(order)
                await uow.commit()
            return order

    @retry_transient()
    async def on_order_created(self, event: orders_pb2.OrderCreated, delivery: Delivery) -> None:
        async with self.uow() as uow:
            if await uow.already_processed(delivery.event_id):
                return
            if await uow.orders.get(event.id) is None:
                # An OrderCreated from before v1 names no currency: it was USD, as all were.
                currency = currency_or_default(event.ticket.currency_code)
                # What the buyer pays in all: the price per ticket times the seats (an older
                # producer's event names no quantity: one ticket).
                total = Decimal(event.ticket.price) * (event.ticket.quantity or 1)
                # An older producer's names no seller or event: "" (no payout is scheduled).
                order = Order(
                    event.id,
                    event.user_id,
                    total,
                    currency_code=currency,
                    seller_id=event.ticket.seller_id,
                    event_id=event.ticket.event_id,
                    ticket_id=event.ticket.id,
                )
                await uow.orders.add(order)
            await uow.commit()

    @retry_transient()
    async def on_order_cancelled(
        self, event: orders_pb2.OrderCancelled, delivery: Delivery
    ) -> None:
        """The order will never complete: a charge that succeeded for it is refunded (the order
        service cancels only orders it has not completed, and then ignores ChargeCreated)."""
        refunded: set[str] = set()
        while True:
            async with self.uow() as uow:
                if await uow.already_processed(delivery.event_id):
                    return
                order = await uow.orders.get(event.id)
                if order is None and event.never_placed:
                    await uow.commit()  # never placed, never payable: nothing to cancel here
                    return
                if order is None:
                    raise NotYet(f"OrderCancelled for order {event.id} before its OrderCreated")
                payment = await uow.payments.for_order(order.id)
                refund_first = (
                    payment is not None
                    and payment.status is PaymentStatus.SUCCEEDED
                    and payment.stripe_id not in refunded
                )
                if not refund_first:
                    if payment is not None and payment.status is PaymentStatus.SUCCEEDED:
                        payment.refund()
                        await uow.payments.save(payment)
                        now = stored_precision(self.clock.now())
                        await cancel_payout(uow, order.id, payment.stripe_id, now)
                    if order.cancel():
                        await uow.orders.save(order)
                    await uow.commit()
                    return
            assert payment is not None
            await self.stripe.refund(payment.stripe_id)  # unavailable: the event is retried
            refunded.add(payment.stripe_id)
            log.warning(
                "refunded the payment of an order cancelled before it completed",
                extra={"order_id": order.id, "stripe_id": payment.stripe_id},
            )

    @property
    def event_handlers(self) -> dict[type, Callable[..., Awaitable[None]]]:
        return {
            orders_pb2.OrderCreated: self.on_order_created,
            orders_pb2.OrderCancelled: self.on_order_cancelled,
        }
