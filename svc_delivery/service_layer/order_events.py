"""Deliveries follow their orders (orders' events): opened when the order is placed
(OrderCreated), due when it is paid (OrderUpdated COMPLETE), cancelled when it ends unpaid
(OrderCancelled). Each event is applied once (the inbox), and in the order's version order: an
event older than the last one applied changes nothing, and one that comes before the order's
OrderCreated is retried until it has come (NotYet)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from common.clock import Clock, stored_precision
from common.delivery import Delivery as Message
from common.errors import NotYet
from common.retries import retry_transient
from svc_delivery.domain.deliveries import Delivery
from svc_delivery.service_layer.commands import OpenDelivery
from svc_delivery.service_layer.unit_of_work import DeliveryUnitOfWork


class OrderEvents:
    def __init__(
        self,
        uow: Callable[[], DeliveryUnitOfWork],
        clock: Clock,
        remind_before: timedelta,
        deadline_without_terms: timedelta,
    ) -> None:
        self.uow = uow
        self.clock = clock
        self.remind_before = remind_before
        # An older producer's OrderCreated carries no deadline: this long after it is applied.
        self.deadline_without_terms = deadline_without_terms

    @retry_transient()
    async def open(self, command: OpenDelivery, message: Message) -> None:
        async with self.uow() as uow:
            if await uow.already_processed(message.event_id):
                return
            if await uow.deliveries.get(command.order_id) is None:
                created = stored_precision(command.created_at or self.clock.now())
                deliver_by = command.deliver_by or created + self.deadline_without_terms
                await uow.deliveries.add(
                    Delivery(
                        order_id=command.order_id,
                        seller_id=command.seller_id,
                        buyer_id=command.buyer_id,
                        listing_id=command.listing_id,
                        event_id=command.event_id,
                        method=command.method,
                        deliver_by=stored_precision(deliver_by),
                        quantity=max(command.quantity, 1),
                        seat_labels=command.seat_labels,
                        created_at=created,
                        order_version=command.order_version,
                    )
                )
            await uow.commit()

    @retry_transient()
    async def paid(self, order_id: str, order_version: int, message: Message) -> None:
        await self._apply(
            order_id, message, lambda d: d.paid(order_version, self.remind_before), never=False
        )

    @retry_transient()
    async def cancelled(
        self, order_id: str, order_version: int, never_placed: bool, message: Message
    ) -> None:
        await self._apply(
            order_id, message, lambda d: d.order_cancelled(order_version), never=never_placed
        )

    async def _apply(
        self, order_id: str, message: Message, change: Callable[[Delivery], bool], never: bool
    ) -> None:
        async with self.uow() as uow:
            if await uow.already_processed(message.event_id):
                return
            delivery = await uow.deliveries.get(order_id)
            if delivery is None:
                if never:  # the order was never placed: there is nothing to deliver or cancel
                    await uow.commit()
                    return
                raise NotYet(f"an event of order {order_id} before its OrderCreated")
            if change(delivery):
                await uow.deliveries.save(delivery)
            await uow.commit()
