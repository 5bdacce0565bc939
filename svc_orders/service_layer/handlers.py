"""Order commands, and the events that keep the ticket copies and order statuses current."""

from __future__ import annotations

import dataclasses
import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from common.clock import Clock, stored_precision
from common.delivery import Delivery
from common.errors import InvalidInput, NotFound, NotYet
from common.idempotency import IdempotencyRecord, check_key, fingerprint, replayed_object
from common.money import LEGACY_CURRENCY, parse_price
from common.pagination import Page, page_request
from common.retries import retry_transient
from svc_orders.domain.model import Order, OrderStatus, TicketCopy, TicketState
from svc_orders.service_layer.metrics import order_changed
from svc_orders.service_layer.ports import TicketSource
from svc_orders.service_layer.unit_of_work import OrdersUnitOfWork
from ticketing.events.v1 import orders_pb2, payments_pb2, tickets_pb2

log = logging.getLogger(__name__)

MAX_STATES = 100


@dataclass(frozen=True)
class CreateOrder:
    buyer: str
    ticket_id: str
    idempotency_key: str


@dataclass(frozen=True)
class CancelOrder:
    user_id: str
    order_id: str


@dataclass(frozen=True)
class ApplyTicketEdit:
    """A seller's edit the tickets service is about to commit; `version` is the ticket's
    version once it has."""

    user_id: str
    ticket_id: str
    version: int
    title: str
    price: str
    withdraw: bool = False


@dataclass(frozen=True)
class OrdersPage:
    page: Page[Order]
    total_count: int | None  # the caller's orders, when asked


class _NoCopy(Exception):
    """This service has no copy of the ticket: its TicketCreated has not arrived yet."""


async def release_ticket(uow: OrdersUnitOfWork, order: Order) -> None:
    """Frees the ticket copy an order that just ended was holding (in the order's transaction)."""
    ticket = await uow.tickets.get(order.ticket_id)
    if ticket is not None and ticket.held_by == order.id:
        order.release(ticket)
        await uow.tickets.save(ticket)


class OrderHandlers:
    def __init__(
        self,
        uow: Callable[[], OrdersUnitOfWork],
        clock: Clock,
        hold_for: timedelta,
        tickets: TicketSource,
        new_id: Callable[[], str] = lambda: str(uuid.uuid4()),
    ) -> None:
        self.uow = uow
        self.clock = clock
        self.hold_for = hold_for
        self.tickets = tickets
        self.new_id = new_id

    # -- commands -------------------------------------------------------------------------

    async def create_order(self, cmd: CreateOrder) -> Order:
        """Idempotent by the buyer's key (docs/api.md §6): the same key and ticket within 24 h
        return the order it first placed, as it is now (never CONFLICT with itself, even while
        the first is still running); another ticket is refused (IDEMPOTENCY_KEY_REUSED)."""
        if not cmd.ticket_id:
            raise InvalidInput("ticketId is required", field="ticketId")
        check_key(cmd.idempotency_key)
        request = fingerprint(cmd.ticket_id)
        try:
            return await self._place(cmd, request, fetched=None)
        except _NoCopy:
            fetched = await self._read_through(cmd.ticket_id, field="ticketId")
            return await self._place(cmd, request, fetched=fetched)

    async def _read_through(self, ticket_id: str, field: str) -> TicketCopy:
        """A ticket just created (or whose events are held up, e.g. by a broker outage) is
        read from the tickets service, the authority on ticket data, rather than reported
        missing; the copy is stored at that version and later events apply on top as usual."""
        fetched = await self.tickets.get_ticket(ticket_id)
        if fetched is None:
            raise NotFound("Ticket not found", field=field)
        log.info(
            "ticket read through from the tickets service",
            extra={"ticket_id": ticket_id, "version": fetched.version},
        )
        return fetched

    async def _copy_in(
        self, uow: OrdersUnitOfWork, ticket_id: str, fetched: TicketCopy | None
    ) -> TicketCopy:
        """The copy of the ticket, stored from `fetched` when there is none yet; _NoCopy when
        there is none and nothing was fetched."""
        ticket = await uow.tickets.get(ticket_id)
        if ticket is not None:
            return ticket
        if fetched is None:
            raise _NoCopy(ticket_id)
        # A fresh object per attempt: a transaction run again must not see the last one's edits.
        ticket = dataclasses.replace(fetched, held_by=None, events=[])
        # TicketCreated landing meanwhile makes this insert conflict: the whole transaction
        # runs again (retry_transient) and finds that copy.
        await uow.tickets.add(ticket)
        return ticket

    @retry_transient(attempts=30)
    async def _place(self, cmd: CreateOrder, request: str, fetched: TicketCopy | None) -> Order:
        async with self.uow() as uow:
            now = stored_precision(self.clock.now())
            record = await uow.idempotency.find(cmd.buyer, cmd.idempotency_key, now)
            if record is not None:
                return await self._own_order(uow, cmd.buyer, replayed_object(record, request))
            ticket = await self._copy_in(uow, cmd.ticket_id, fetched)
            holder = await uow.orders.get(ticket.held_by) if ticket.held_by else None
            order = Order.place(self.new_id(), cmd.buyer, ticket, holder, now, self.hold_for)
            await uow.orders.add(order)
            # The same request running at once claims the same key: one of the two transactions
            # fails (a duplicate key or a write conflict), runs again and finds the other's.
            await uow.idempotency.claim(
                IdempotencyRecord(cmd.buyer, cmd.idempotency_key, request, order.id, now)
            )
            # Two buyers racing: both transactions write this document, one of them loses the
            # write conflict, runs again (retry_transient) and finds the ticket held.
            await uow.tickets.save(ticket)
            await uow.commit()
            order_changed(order, self.clock.now())
            return order

    async def apply_ticket_edit(self, cmd: ApplyTicketEdit) -> TicketCopy:
        if not cmd.ticket_id:
            raise InvalidInput("ticketId is required", field="ticketId")
        if cmd.version < 1:
            raise InvalidInput("version must be the edited ticket's version", field="version")
        price = parse_price(cmd.price)
        try:
            return await self._edit(cmd, price, fetched=None)
        except _NoCopy:
            fetched = await self._read_through(cmd.ticket_id, field="ticketId")
            return await self._edit(cmd, price, fetched=fetched)

    @retry_transient(attempts=30)
    async def _edit(
        self, cmd: ApplyTicketEdit, price: Decimal, fetched: TicketCopy | None
    ) -> TicketCopy:
        async with self.uow() as uow:
            ticket = await self._copy_in(uow, cmd.ticket_id, fetched)
            holder = await uow.orders.get(ticket.held_by) if ticket.held_by else None
            ticket.edit(cmd.user_id, cmd.version, cmd.title, price, holder, cmd.withdraw)
            # The same document an order placement writes: of an edit and an order racing, one
            # transaction loses the write conflict and runs again, seeing the other's outcome.
            await uow.tickets.save(ticket)
            await uow.commit()
            return ticket

    @retry_transient()
    async def cancel_order(self, cmd: CancelOrder) -> Order:
        async with self.uow() as uow:
            order = await self._own_order(uow, cmd.user_id, cmd.order_id)
            if not order.cancel(by=cmd.user_id):
                return order  # already cancelled: nothing to write, no event
            await release_ticket(uow, order)
            await uow.orders.save(order)
            await uow.commit()
            order_changed(order, self.clock.now())
            return order

    @retry_transient()  # a read: safe to run again on a fresh connection
    async def get_order(self, user_id: str, order_id: str) -> Order:
        async with self.uow() as uow:
            return await self._own_order(uow, user_id, order_id)

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

    @retry_transient()  # a read: safe to run again on a fresh connection
    async def ticket_states(self, ticket_ids: list[str]) -> list[tuple[str, TicketState]]:
        """Each asked ticket's state, in the order asked, from the copies and the orders
        holding them (two queries); a ticket with no copy here yet is FOR_SALE."""
        if len(ticket_ids) > MAX_STATES:
            raise InvalidInput(f"At most {MAX_STATES} ids at once", field="ticket_ids")
        wanted = list(dict.fromkeys(t for t in ticket_ids if t))
        if not wanted:
            return [(t, TicketState.FOR_SALE) for t in ticket_ids]
        async with self.uow() as uow:
            copies = {c.id: c for c in await uow.tickets.many(wanted)}
            holding = [c.held_by for c in copies.values() if c.held_by]
            holders = {o.id: o for o in await uow.orders.many(holding)} if holding else {}
        states = []
        for ticket_id in ticket_ids:
            copy = copies.get(ticket_id)
            if copy is None:
                states.append((ticket_id, TicketState.FOR_SALE))
            else:
                held_by = holders.get(copy.held_by) if copy.held_by else None
                states.append((ticket_id, copy.state(held_by)))
        return states

    async def _own_order(self, uow: OrdersUnitOfWork, user_id: str, order_id: str) -> Order:
        order = await uow.orders.get(order_id) if order_id else None
        if order is None or order.user_id != user_id:  # another's order is not even shown
            raise NotFound("Order not found", field="id")
        return order

    # -- ticket copies ----------------------------------------------------------------------

    @retry_transient()
    async def on_ticket_created(self, event: tickets_pb2.TicketCreated, delivery: Delivery) -> None:
        async with self.uow() as uow:
            if await uow.already_processed(delivery.event_id):
                return
            if await uow.tickets.get(event.id) is None:
                copy = TicketCopy(
                    event.id,
                    event.version,
                    event.title,
                    Decimal(event.price),
                    event.user_id,
                    # Events from before currencies were recorded: those tickets were in USD.
                    currency_code=event.currency_code or LEGACY_CURRENCY,
                )
                await uow.tickets.add(copy)
            await uow.commit()

    @retry_transient()
    async def on_ticket_updated(self, event: tickets_pb2.TicketUpdated, delivery: Delivery) -> None:
        async with self.uow() as uow:
            if await uow.already_processed(delivery.event_id):
                return
            copy = await uow.tickets.get(event.id)
            if copy is None:
                raise NotYet(f"ticket {event.id} v{event.version} arrived before its creation")
            if copy.apply(
                event.version,
                event.title,
                Decimal(event.price),
                event.user_id,
                event.currency_code,
                event.withdrawn,
            ):
                await uow.tickets.save(copy)
            await uow.commit()

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
                if order.status is OrderStatus.CANCELLED:
                    await release_ticket(uow, order)
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
            tickets_pb2.TicketCreated: self.on_ticket_created,
            tickets_pb2.TicketUpdated: self.on_ticket_updated,
            orders_pb2.OrderExpired: self._on(Order.expire),
            payments_pb2.ChargeCreated: self._on(Order.complete),
            payments_pb2.ChargeFailed: self._on(Order.payment_failed),
            payments_pb2.ChargePending: self._on(Order.await_payment),
        }
