"""Ticket commands and the order events that reserve and release tickets."""

from __future__ import annotations

import dataclasses
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from common.clock import Clock, stored_precision
from common.delivery import Delivery
from common.errors import AppError, Conflict, InvalidInput, NotFound, NotYet
from common.idempotency import IdempotencyRecord, check_key, fingerprint, replayed_object
from common.money import format_money, parse_currency, parse_price
from common.pagination import Page, page_request
from common.retries import ConcurrentUpdate, retry_transient
from svc_tickets.domain.model import HeldByAnotherOrder, Ticket, check_title
from svc_tickets.service_layer.ports import HoldAuthority, TicketEdit
from svc_tickets.service_layer.unit_of_work import TicketsUnitOfWork
from ticketing.events.v1 import orders_pb2

log = logging.getLogger(__name__)

MAX_BATCH = 500
# Reserves and releases landing between an edit's settlement and its commit (each one asks
# orders again at the new version): more than this in a row means something is wrong.
EDIT_ROUNDS = 8


@dataclass(frozen=True)
class CreateTicket:
    seller: str
    title: str
    price: str
    currency_code: str
    idempotency_key: str


@dataclass(frozen=True)
class UpdateTicket:
    user_id: str
    ticket_id: str
    title: str | None  # None: unchanged
    price: str | None  # None: unchanged
    expected_version: int
    currency_code: str | None = None  # with price: must be the ticket's
    token: str | None = None  # the seller's own, forwarded to the orders service


@dataclass(frozen=True)
class WithdrawTicket:
    user_id: str
    ticket_id: str
    expected_version: int
    token: str | None = None


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
        """Idempotent by the seller's key (docs/api.md §6): the same key and input within 24 h
        return the ticket it first created, as it is now; another input is refused."""
        key = check_key(cmd.idempotency_key)
        title, price = check_title(cmd.title), parse_price(cmd.price)
        currency = parse_currency(cmd.currency_code)
        request = fingerprint(title, format_money(price), currency)
        return await self._create(cmd.seller, key, request, title, price, currency)

    @retry_transient(attempts=30)
    async def _create(
        self, seller: str, key: str, request: str, title: str, price: Decimal, currency: str
    ) -> Ticket:
        async with self.uow() as uow:
            now = stored_precision(self.clock.now())
            record = await uow.idempotency.find(seller, key, now)
            if record is not None:
                return await self._get(uow, replayed_object(record, request))
            ticket = Ticket.list(self.new_id(), title, price, currency, seller, now)
            await uow.tickets.add(ticket)
            # A duplicate running at once claims the same key: one of the two transactions
            # fails here or at commit, runs again (retry_transient) and finds the other's.
            await uow.idempotency.claim(IdempotencyRecord(seller, key, request, ticket.id, now))
            await uow.commit()
            return ticket

    async def update_ticket(self, cmd: UpdateTicket) -> Ticket:
        """The edit is settled first by the orders service, in the transaction order placements
        on this ticket also write: either an order got there first (CONFLICT, nothing changes)
        or every order placed afterwards carries the new price. Then it is committed here."""
        if cmd.title is None and cmd.price is None:
            raise InvalidInput("Give a new title, a new price or both", field="title")
        title = None if cmd.title is None else check_title(cmd.title)
        price = None if cmd.price is None else parse_price(cmd.price)
        ticket = await self.get_ticket(cmd.ticket_id)
        ticket.check_seller(cmd.user_id)
        if cmd.currency_code and cmd.currency_code != ticket.currency_code:
            raise InvalidInput(
                f"The ticket is priced in {ticket.currency_code}; its currency never changes",
                field="currency_code",
            )
        if not ticket.check_version(cmd.expected_version, ticket.is_edited_as(title, price)):
            return ticket  # our own edit, asked again
        return await self._edit(ticket, cmd.token, lambda t: t.update(cmd.user_id, title, price))

    async def withdraw_ticket(self, cmd: WithdrawTicket) -> Ticket:
        """Off sale for good, settled by the orders service like an edit (refused while an
        order holds the ticket)."""
        ticket = await self.get_ticket(cmd.ticket_id)
        ticket.check_seller(cmd.user_id)
        if not ticket.check_version(cmd.expected_version, ticket.withdrawn):
            return ticket  # our own withdrawal, asked again
        return await self._edit(ticket, cmd.token, lambda t: t.withdraw(cmd.user_id))

    async def _edit(
        self, read: Ticket, token: str | None, change: Callable[[Ticket], None]
    ) -> Ticket:
        """Settles `change` of the ticket `read` with the orders service, then commits it.

        Should the ticket change between the two (an order's reserve or release), the commit
        does not happen and the edit is asked again at the new version; should the seller
        have edited it meanwhile (another tab), the orders service is given the ticket as it
        now is again and the request is stale (CONFLICT on expected_version). Should the
        commit not happen because this process stops, the orders service has the edit and we
        do not: an order placed meanwhile is for the edited price, which the ticket takes on
        when the order's OrderCreated reserves it (`Ticket.reserve`)."""
        for _ in range(EDIT_ROUNDS):
            edited = dataclasses.replace(read, events=[])
            change(edited)  # checks seller and state before orders is asked
            await self._settle(edited, token)
            committed, current = await self._commit_edit(read.version, edited.id, change)
            if committed:
                return current
            if current.moved_by_another_edit(read):
                await self._resettle(current, token)
                raise Conflict(
                    "The ticket was changed meanwhile; read it again", field="expected_version"
                )
            read = current
        raise ConcurrentUpdate(f"ticket {read.id} kept changing during an edit")

    async def _settle(self, ticket: Ticket, token: str | None) -> None:
        edit = TicketEdit(ticket.id, ticket.version, ticket.title, ticket.price, ticket.withdrawn)
        try:
            await self.holds.apply_edit(edit, token)
        except Conflict as exc:  # an order holds it (or it is withdrawn): the request's ticket
            raise Conflict(exc.message, field="id") from None

    async def _resettle(self, current: Ticket, token: str | None) -> None:
        """The orders service took an edit that lost to another one here: it is given the
        ticket as committed (the same version again takes its values). Should that fail, the
        next edit or order sets it right; the request is refused either way."""
        try:
            await self._settle(current, token)
        except AppError as exc:
            log.warning(
                "orders could not take the ticket back after a lost edit",
                extra={"ticket_id": current.id, "error": exc.message},
            )

    @retry_transient()
    async def _commit_edit(
        self, read_version: int, ticket_id: str, change: Callable[[Ticket], None]
    ) -> tuple[bool, Ticket]:
        """(True, the edited ticket), or (False, the ticket as it is) when it is no longer at
        `read_version`."""
        async with self.uow() as uow:
            ticket = await self._get(uow, ticket_id)
            if ticket.version != read_version:
                return False, ticket
            change(ticket)
            await uow.tickets.save(ticket)
            await uow.commit()
            return True, ticket

    @retry_transient()  # a read: safe to run again on a fresh connection
    async def get_ticket(self, ticket_id: str) -> Ticket:
        async with self.uow() as uow:
            return await self._get(uow, ticket_id)

    @retry_transient()  # a read: safe to run again on a fresh connection
    async def list_tickets(
        self,
        size: int,
        token: str,
        include_reserved: bool,
        before_token: str = "",
        backward: bool = False,
    ) -> Page[Ticket]:
        """Newest first; withdrawn tickets never, reserved ones only if asked."""
        request = page_request(size, token, before_token, backward)
        async with self.uow() as uow:
            return await uow.tickets.page(request, include_reserved)

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
