"""The service's copy of orders, kept current from the order events (or read through from the
orders service when its OrderCreated has not come yet): who may pay for what, in which currency,
with which fees (fixed here, when the copy is first stored, under the fee schedule of that
moment: the settings with the order's event's own fees, `event_fees`), and which succeeded
charges must be refunded because their order was cancelled meanwhile."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Awaitable, Callable, Iterable
from decimal import Decimal

from common.clock import Clock, SystemClock, stored_precision
from common.delivery import Delivery
from common.errors import NotFound, NotYet
from common.money import MINOR_DIGITS
from common.retries import retry_transient
from svc_payments.domain.currency import currency_or_default
from svc_payments.domain.fees import FeeSchedule
from svc_payments.domain.model import Order, PaymentStatus
from svc_payments.service_layer.payouts import cancel_payout
from svc_payments.service_layer.ports import OrderSource, StripeGateway
from svc_payments.service_layer.unit_of_work import PaymentsUnitOfWork
from ticketing.events.v1 import orders_pb2

log = logging.getLogger(__name__)


async def event_fees(
    uow: PaymentsUnitOfWork, settings: FeeSchedule, event_ids: Iterable[str]
) -> dict[str, FeeSchedule]:
    """The fee schedule of each of those events: the settings with the event's own fees as
    payments last heard them from event.changed (an event not heard of yet, or "": the
    settings'). The one place an event's fees meet the settings, for quotes and orders alike."""
    schedules = {}
    for event_id in dict.fromkeys(event_ids):
        event = await uow.event_schedules.get(event_id) if event_id else None
        override = None if event is None else event.fee_override
        schedules[event_id] = settings.with_override(override)
    return schedules


class OrderCopy:
    def __init__(
        self,
        uow: Callable[[], PaymentsUnitOfWork],
        stripe: StripeGateway,
        orders: OrderSource,
        fees: FeeSchedule,
        clock: Clock | None = None,
    ) -> None:
        self.uow = uow
        self.stripe = stripe
        self.orders = orders
        self.fees = fees
        self.clock = clock or SystemClock()

    async def _with_fees(self, uow: PaymentsUnitOfWork, order: Order) -> Order:
        """`order` (its prices, quantity and currency as placed) with its fees fixed now, under
        its event's schedule. An order in a currency payments cannot charge keeps none: paying
        it is refused."""
        if order.currency_code not in MINOR_DIGITS:
            return dataclasses.replace(order, events=[])
        fees = (await event_fees(uow, self.fees, [order.event_id]))[order.event_id]
        try:
            quote = fees.quote(order.unit_price, order.currency_code, order.quantity)
        except ValueError:
            # A price the currency cannot charge exactly (tickets lists none): kept, and paying
            # it charges its prices as they round; never a message retried for ever.
            log.error("an order's fees cannot be computed", extra={"order_id": order.id})
            return dataclasses.replace(order, events=[])
        return dataclasses.replace(order, fees=quote, events=[])

    async def read(self, order_id: str, token: str | None) -> Order:
        """Our copy of the order. A buyer may pay right after ordering, before OrderCreated has
        reached us (or while the broker is down): the order is then read from the orders
        service, the authority, with the buyer's own token (it shows a user only their own
        orders), and stored as our copy; its events apply on top of it when they come."""
        async with self.uow() as uow:
            order = await uow.orders.get(order_id)
        if order is None:
            order = await self.read_through(order_id, token)
        if order is None:
            raise NotFound("Order not found", field="orderId")
        return order

    async def get_many(self, order_ids: list[str]) -> dict[str, Order]:
        """Our copies of those orders there are, by id."""
        async with self.uow() as uow:
            return {o.id: o for o in await uow.orders.get_many(order_ids)}

    async def read_through(self, order_id: str, token: str | None) -> Order | None:
        """The order read from the orders service with the caller's token and stored as our
        copy (its fees fixed now); None when it is not the token's user's or does not exist."""
        fetched = await self.orders.get_order(order_id, token)
        if fetched is None:
            return None
        log.info("order read through from the orders service", extra={"order_id": order_id})
        return await self._store_copy(fetched)

    @retry_transient()
    async def _store_copy(self, fetched: Order) -> Order:
        async with self.uow() as uow:
            order = await uow.orders.get(fetched.id)
            if order is None:  # OrderCreated may have stored it meanwhile
                order = await self._with_fees(uow, fetched)
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
                # The price per ticket times the seats (an older producer's event names no
                # quantity: one ticket), and the fees on them. An older producer's names no
                # seller or event either: "" (no payout is scheduled).
                quantity = event.ticket.quantity or 1
                subtotal = Decimal(event.ticket.price) * quantity
                placed = Order(
                    event.id,
                    event.user_id,
                    subtotal,
                    currency_code=currency,
                    quantity=quantity,
                    seller_id=event.ticket.seller_id,
                    event_id=event.ticket.event_id,
                    ticket_id=event.ticket.id,
                )
                await uow.orders.add(await self._with_fees(uow, placed))
            await uow.commit()

    @retry_transient()
    async def on_order_cancelled(
        self, event: orders_pb2.OrderCancelled, delivery: Delivery
    ) -> None:
        """The order will never complete: a charge that succeeded for it is refunded (the order
        service cancels only orders it has not completed, and then ignores ChargeCreated)."""
        refunded: dict[str, str] = {}  # PaymentIntent -> its refund (re_...)
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
                        refund_id = refunded[payment.stripe_id]
                        await cancel_payout(uow, order.id, refund_id, now)
                    if order.cancel():
                        await uow.orders.save(order)
                    await uow.commit()
                    return
            assert payment is not None
            # Unavailable: the event is retried (and Stripe answers the same refund).
            refunded[payment.stripe_id] = await self.stripe.refund(payment.stripe_id)
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
