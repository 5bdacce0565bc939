"""Ticket commands and the order events that reserve and release tickets."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from common.bus import Delivery
from common.clock import Clock
from common.errors import InvalidInput, NotFound, NotYet
from common.mongo import ConcurrentUpdate, retry_transient
from common.pagination import Page, decode_token, page_size, paginate
from svc_tickets.domain.model import HeldByAnotherOrder, Ticket
from svc_tickets.service_layer.ports import HoldAuthority, TicketEdit
from svc_tickets.service_layer.unit_of_work import TicketsUnitOfWork
from ticketing.events.v1 import orders_pb2

MAX_BATCH = 500


@dataclass(frozen=True)
class CreateTicket:
    seller: str
    title: str
    price: str


@dataclass(frozen=True)
class UpdateTicket:
    user_id: str
    ticket_id: str
    title: str
    price: str
    token: str | None = None  # the seller's own, forwarded to the orders service


class TicketHandlers:
    def __init__(
        self,
        uow: Callable[[], TicketsUnitOfWork],
        clock: Clock,
        holds: HoldAuthority,
        new_id: Callable[[], str] = lambda: str(uuid.uuid4()),
    ) -> None:
        self.uow = uow
        self.clock = clock
        self.holds = holds
        self.new_id = new_id

    async def create_ticket(self, cmd: CreateTicket) -> Ticket:
        async with self.uow() as uow:
            ticket = Ticket.list(self.new_id(), cmd.title, cmd.price, cmd.seller, self.clock.now())
            await uow.tickets.add(ticket)
            await uow.commit()
            return ticket

    @retry_transient()
    async def update_ticket(self, cmd: UpdateTicket) -> Ticket:
        """The edit is settled first by the orders service, in the transaction order placements
        on this ticket also write: either an order got there first (CONFLICT, nothing changes)
        or every order placed afterwards carries the new price. Then it is committed here.

        Should that commit not happen (another change to the ticket meanwhile, or this process
        stopping), the orders service has the edit and we do not: a retry asks again at our
        new version; an order placed meanwhile is for the edited price, which the ticket takes
        on when the order's OrderCreated reserves it (`Ticket.reserve`)."""
        async with self.uow() as uow:
            ticket = await self._get(uow, cmd.ticket_id)
        ticket.update(cmd.user_id, cmd.title, cmd.price)  # checks seller and input first
        await self.holds.apply_edit(
            TicketEdit(ticket.id, ticket.version, ticket.title, ticket.price), cmd.token
        )
        return await self._commit_edit(cmd, ticket.version, ticket.title, ticket.price)

    async def _commit_edit(
        self, cmd: UpdateTicket, version: int, title: str, price: Decimal
    ) -> Ticket:
        async with self.uow() as uow:
            ticket = await self._get(uow, cmd.ticket_id)
            if ticket.version != version - 1:
                # Reserved or released meanwhile: the whole edit runs again (retry_transient),
                # asking the orders service at the new version.
                raise ConcurrentUpdate(f"ticket {ticket.id} changed during an edit")
            ticket.update(cmd.user_id, title, price)
            await uow.tickets.save(ticket)
            await uow.commit()
            return ticket

    @retry_transient()  # a read: safe to run again on a fresh connection
    async def get_ticket(self, ticket_id: str) -> Ticket:
        async with self.uow() as uow:
            return await self._get(uow, ticket_id)

    @retry_transient()  # a read: safe to run again on a fresh connection
    async def list_tickets(self, size: int, token: str, include_reserved: bool) -> Page[Ticket]:
        limit = page_size(size)
        after = decode_token(token)
        async with self.uow() as uow:
            found = await uow.tickets.page(limit + 1, after, include_reserved)
        return paginate(found, limit)

    @retry_transient()  # a read: safe to run again on a fresh connection
    async def batch_get(self, ids: list[str]) -> list[Ticket]:
        if len(ids) > MAX_BATCH:
            raise InvalidInput(f"At most {MAX_BATCH} ids at once", field="ids")
        if not ids:
            return []
        async with self.uow() as uow:
            return await uow.tickets.many(list(dict.fromkeys(ids)))

    async def _get(self, uow: TicketsUnitOfWork, ticket_id: str) -> Ticket:
        ticket = await uow.tickets.get(ticket_id) if ticket_id else None
        if ticket is None:
            raise NotFound("Ticket not found", field="id")
        return ticket

    # -- events ---------------------------------------------------------------------------

    @retry_transient()
    async def on_order_created(self, event: orders_pb2.OrderCreated, delivery: Delivery) -> None:
        async with self.uow() as uow:
            if await uow.already_processed(delivery.event_id):
                return
            if await uow.tickets.remember_created(event.id):
                await uow.commit()  # cancelled before its creation reached us: nothing to hold
                return
            ticket = await uow.tickets.get(event.ticket.id)
            if ticket is None:
                raise NotYet(f"ticket {event.ticket.id} of order {event.id} is unknown here")
            paid = Decimal(event.ticket.price) if event.ticket.price else None
            try:
                ticket.reserve(event.id, paid)
            except HeldByAnotherOrder as exc:
                # The previous order's OrderCancelled is still on its way: wait for it.
                raise NotYet(str(exc)) from None
            await uow.tickets.save(ticket)
            await uow.commit()

    @retry_transient()
    async def on_order_cancelled(
        self, event: orders_pb2.OrderCancelled, delivery: Delivery
    ) -> None:
        async with self.uow() as uow:
            if await uow.already_processed(delivery.event_id):
                return
            ticket = await uow.tickets.get(event.ticket.id)
            if ticket is not None and ticket.release(event.id):
                await uow.tickets.save(ticket)
            else:
                # Its OrderCreated may still be on the way (events can overtake each other on
                # retries): remember, so that it never reserves the ticket.
                await uow.tickets.remember_cancelled(event.id)
            await uow.commit()
