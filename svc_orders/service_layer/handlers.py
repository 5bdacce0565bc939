"""Order commands, and the events that move orders on (paid, failed, expired)."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta

from common.clock import Clock, stored_precision
from common.delivery import Delivery
from common.errors import AppError, ErrorCode, InvalidInput, NotFound, NotYet
from common.idempotency import IdempotencyRecord, check_key, fingerprint, replayed_object
from common.pagination import Page, page_request
from common.retries import retry_transient
from svc_orders.domain.model import Order
from svc_orders.service_layer.metrics import order_changed
from svc_orders.service_layer.ports import HeldSeats, SeatHolder
from svc_orders.service_layer.unit_of_work import OrdersUnitOfWork
from ticketing.events.v1 import orders_pb2, payments_pb2

log = logging.getLogger(__name__)

MAX_QUANTITY = 100
MAX_BATCH = 500
# What the tickets service answers when it refuses seats (the request, not an outage).
REFUSALS = frozenset(
    {ErrorCode.BAD_USER_INPUT, ErrorCode.FORBIDDEN, ErrorCode.NOT_FOUND, ErrorCode.CONFLICT}
)


@dataclass(frozen=True)
class CreateOrder:
    buyer: str
    ticket_id: str
    idempotency_key: str
    quantity: int = 1


@dataclass(frozen=True)
class PlacedOrder:
    order: Order
    # The listing after this request's hold, serialized as the tickets service answered it
    # (HeldSeats.listing); empty when this request held nothing (an order placed before).
    held_listing: bytes = b""


@dataclass(frozen=True)
class CancelOrder:
    user_id: str
    order_id: str


@dataclass(frozen=True)
class OrdersPage:
    page: Page[Order]
    total_count: int | None  # the caller's orders, when asked


class OrderHandlers:
    def __init__(
        self,
        uow: Callable[[], OrdersUnitOfWork],
        clock: Clock,
        hold_for: timedelta,
        tickets: SeatHolder,
        new_id: Callable[[], str] = lambda: str(uuid.uuid4()),
    ) -> None:
        self.uow = uow
        self.clock = clock
        self.hold_for = hold_for
        self.tickets = tickets
        self.new_id = new_id

    # -- commands -------------------------------------------------------------------------

    async def create_order(self, cmd: CreateOrder) -> PlacedOrder:
        """Idempotent by the buyer's key (docs/api.md §6): the same key and input within 24 h
        return the order it first placed, as it is now (never CONFLICT with itself, even while
        the first is still running); another input is refused (IDEMPOTENCY_KEY_REUSED).

        Three steps (docs/design/marketplace.md, decision 2): the order is committed pending;
        its seats are held by the tickets service (the authority on availability, idempotent on
        the order's id); the order is placed with those seats (OrderCreated). Refused seats
        delete the pending order and its key, so nothing of it remains; a process stopping in
        between leaves a pending order that a retry with the same key carries on, or that the
        expiry sweep ends (its OrderCancelled releases whatever was held)."""
        if not cmd.ticket_id:
            raise InvalidInput("ticketId is required", field="ticketId")
        if not 1 <= cmd.quantity <= MAX_QUANTITY:
            raise InvalidInput(f"Quantity must be 1 to {MAX_QUANTITY}", field="quantity")
        check_key(cmd.idempotency_key)
        # A one-seat order's fingerprint is the v1 one, so keys recorded before still match.
        extra = () if cmd.quantity == 1 else (str(cmd.quantity),)
        request = fingerprint(cmd.ticket_id, *extra)
        order = await self._open(cmd, request)
        if not order.pending:
            return PlacedOrder(order)
        try:
            held = await self.tickets.hold_seats(
                order.ticket_id, order.quantity, order.id, cmd.buyer
            )
        except AppError as exc:
            if exc.code not in REFUSALS:
                raise  # the order stays pending: retried with its key, or swept
            await self._refused(cmd, order.id)
            if isinstance(exc, NotFound):
                raise NotFound("Ticket not found", field="ticketId") from None
            raise
        return PlacedOrder(await self._place(order.id, held), held.listing)

    @retry_transient(attempts=30)
    async def _open(self, cmd: CreateOrder, request: str) -> Order:
        async with self.uow() as uow:
            now = stored_precision(self.clock.now())
            record = await uow.idempotency.find(cmd.buyer, cmd.idempotency_key, now)
            if record is not None:
                order_id = replayed_object(record, request)
                order = await uow.orders.get(order_id)
                if order is None or order.user_id != cmd.buyer:
                    raise NotFound("Order not found", field="id")
                if not order.ended_unplaced:
                    return order
                # The first attempt never got its seats (tickets unreachable) and the sweep
                # ended it: this retry is the buyer's next attempt, under the same key.
                await uow.orders.delete(order)
                await uow.idempotency.forget(cmd.buyer, cmd.idempotency_key)
            order = Order.open(
                self.new_id(), cmd.buyer, cmd.ticket_id, cmd.quantity, now, self.hold_for
            )
            await uow.orders.add(order)
            # The same request running at once claims the same key: one of the two transactions
            # fails (a duplicate key or a write conflict), runs again and finds the other's.
            await uow.idempotency.claim(
                IdempotencyRecord(cmd.buyer, cmd.idempotency_key, request, order.id, now)
            )
            await uow.commit()
            return order

    @retry_transient()
    async def _place(self, order_id: str, held: HeldSeats) -> Order:
        async with self.uow() as uow:
            order = await uow.orders.get(order_id)
            if order is None:
                raise NotFound("Order not found", field="id")
            if order.placed(
                held.seats,
                held.price,
                held.currency_code,
                held.seat_labels,
                held.event_id,
                held.seller_id,
                held.delivery_method,
                held.deliver_by,
            ):
                await uow.orders.save(order)
                await uow.commit()
                order_changed(order, self.clock.now())
            return order

    @retry_transient()
    async def _refused(self, cmd: CreateOrder, order_id: str) -> None:
        """The seats were refused: the pending order ends unplaced (no one was shown it) and
        the key that made it is forgotten, so it may be used again, for this or another
        request. Ended rather than deleted: its OrderCancelled (never placed) reaches tickets,
        which then refuses, or releases, a hold for it that a concurrent request with the same
        key may still be asking for."""
        async with self.uow() as uow:
            order = await uow.orders.get(order_id)
            if order is not None and order.pending and order.refused():
                await uow.orders.save(order)
                await uow.idempotency.forget(cmd.buyer, cmd.idempotency_key)
                await uow.commit()

    @retry_transient()
    async def cancel_order(self, cmd: CancelOrder) -> Order:
        async with self.uow() as uow:
            order = await self._own_order(uow, cmd.user_id, cmd.order_id)
            if not order.cancel(by=cmd.user_id):
                return order  # already cancelled: nothing to write, no event
            await uow.orders.save(order)
            await uow.commit()
            order_changed(order, self.clock.now())
            return order

    @retry_transient()  # a read: safe to run again on a fresh connection
    async def get_order(self, user_id: str, order_id: str) -> Order:
        async with self.uow() as uow:
            return await self._own_order(uow, user_id, order_id)

    @retry_transient()  # a read: safe to run again on a fresh connection
    async def batch_get(self, ids: list[str]) -> list[Order]:
        """Anyone's orders among `ids` (for operators' tools: the caller is `cli`)."""
        if len(ids) > MAX_BATCH:
            raise InvalidInput(f"At most {MAX_BATCH} ids at once", field="ids")
        if not ids:
            return []
        async with self.uow() as uow:
            return await uow.orders.many(list(dict.fromkeys(ids)))

    @retry_transient()  # a read: safe to run again on a fresh connection
    async def list_orders(
        self,
        user_id: str,
        size: int,
        token: str,
        before_token: str = "",
        backward: bool = False,
        include_total_count: bool = False,
    ) -> OrdersPage:
        """The caller's orders, newest first; their count only when asked (one count on the
        (user_id, created_at) index)."""
        request = page_request(size, token, before_token, backward)
        async with self.uow() as uow:
            page = await uow.orders.page_of(user_id, request)
            total = await uow.orders.count_of(user_id) if include_total_count else None
        return OrdersPage(page, total)

    async def _own_order(self, uow: OrdersUnitOfWork, user_id: str, order_id: str) -> Order:
        order = await uow.orders.get(order_id) if order_id else None
        # Another's order is not even shown, nor one still pending (its seats not held yet).
        if order is None or order.user_id != user_id or order.pending:
            raise NotFound("Order not found", field="id")
        return order

    # -- how orders end -----------------------------------------------------------------------

    async def _transition(
        self, order_id: str, delivery: Delivery, change: Callable[[Order], bool]
    ) -> None:
        async with self.uow() as uow:
            if await uow.already_processed(delivery.event_id):
                return
            order = await uow.orders.get(order_id)
            if order is None:
                raise NotYet(f"{delivery.type} for order {order_id} that is unknown here")
            changed = change(order)
            if changed:
                await uow.orders.save(order)
            else:
                log.info(
                    "event does not change the order",
                    extra={
                        "order_id": order_id,
                        "status": order.status.value,
                        "type": delivery.type,
                    },
                )
            await uow.commit()
            if changed:
                order_changed(order, self.clock.now(), expired_by="order_expired")

    def _on(self, change: Callable[[Order], bool]):
        """A handler for an event that names its order in `order_id`."""

        @retry_transient()
        async def handle(event, delivery: Delivery) -> None:
            await self._transition(event.order_id, delivery, change)

        return handle

    @property
    def event_handlers(self) -> dict[type, Callable[..., Awaitable[None]]]:
        return {
            orders_pb2.OrderExpired: self._on(Order.expire),
            payments_pb2.ChargeCreated: self._on(Order.complete),
            payments_pb2.ChargeFailed: self._on(Order.payment_failed),
            payments_pb2.ChargePending: self._on(Order.await_payment),
        }
