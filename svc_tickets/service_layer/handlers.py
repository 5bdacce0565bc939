"""Listing commands, the holds orders ask for, and the order events that release and sell."""

from __future__ import annotations

import dataclasses
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from common.clock import Clock, stored_precision
from common.delivery import Delivery
from common.errors import InvalidInput, NotFound
from common.idempotency import IdempotencyRecord, check_key, fingerprint, replayed_object
from common.money import format_money, parse_currency, parse_price
from common.pagination import Page, page_request
from common.retries import retry_transient
from svc_tickets.domain.delivery_terms import DeliveryTerms, check_own_deadline
from svc_tickets.domain.listing import ListingDetails
from svc_tickets.domain.model import OrderEnded, SeatHold, Ticket, check_title
from svc_tickets.domain.sales_window import SalesWindow
from svc_tickets.domain.split import SplitRule, check_listed_quantity
from svc_tickets.service_layer.unit_of_work import TicketsUnitOfWork
from ticketing.events.v1 import orders_pb2
from ticketing.orders.v1 import orders_pb2 as orders_v1_pb2

log = logging.getLogger(__name__)

MAX_BATCH = 500


@dataclass(frozen=True)
class CreateTicket:
    seller: str
    title: str
    price: str
    currency_code: str
    idempotency_key: str
    quantity: int = 1
    split_rule: SplitRule = SplitRule.ANY
    event_id: str = ""  # a listing for a catalogue event; empty: a v1 ticket
    details: ListingDetails | None = None  # checked (ListingDetails.of)


@dataclass(frozen=True)
class HoldSeats:
    ticket_id: str
    quantity: int
    order_id: str
    buyer: str


@dataclass(frozen=True)
class UpdateTicket:
    user_id: str
    ticket_id: str
    title: str | None  # None: unchanged
    price: str | None  # None: unchanged
    expected_version: int
    currency_code: str | None = None  # with price: must be the ticket's
    quantity: int | None = None  # None: unchanged
    deliver_by: datetime | None = None  # None: unchanged


@dataclass(frozen=True)
class WithdrawTicket:
    user_id: str
    ticket_id: str
    expected_version: int


async def _window(uow: TicketsUnitOfWork, event_id: str) -> SalesWindow:
    window = await uow.tickets.window_of(event_id)
    if window is None:  # unknown to the catalogue, or its EventChanged not here yet
        raise NotFound("Event not found", field="event_id")
    return window


class TicketHandlers:
    def __init__(
        self,
        uow: Callable[[], TicketsUnitOfWork],
        clock: Clock,
        new_id: Callable[[], str] = lambda: str(uuid.uuid4()),
        terms: DeliveryTerms | None = None,
    ) -> None:
        self.uow = uow
        self.clock = clock
        self.new_id = new_id
        self.terms = terms or DeliveryTerms()

    async def create_ticket(self, cmd: CreateTicket) -> Ticket:
        """Idempotent by the seller's key (docs/api.md §6): the same key and input within 24 h
        return the ticket it first created, as it is now; another input is refused."""
        key = check_key(cmd.idempotency_key)
        # A listing for an event may leave its title to its seats' place (ListingDetails.title).
        title = cmd.title.strip() if cmd.event_id and not cmd.title.strip() else cmd.title
        title = title if cmd.event_id and not title else check_title(title)
        price = parse_price(cmd.price)
        currency = parse_currency(cmd.currency_code)
        check_listed_quantity(cmd.split_rule, cmd.quantity)
        # A one-seat listing's fingerprint is the v1 ticket's, so keys recorded before still match
        # their requests.
        v1 = (cmd.quantity, cmd.split_rule, cmd.event_id, cmd.details) == (
            1,
            SplitRule.ANY,
            "",
            None,
        )
        listing = (
            ()
            if v1
            else (
                str(cmd.quantity),
                cmd.split_rule.value,
                cmd.event_id,
                repr(cmd.details),
            )
        )
        request = fingerprint(title, format_money(price), currency, *listing)
        return await self._create(cmd, key, request, title, price, currency)

    @retry_transient(attempts=30)
    async def _create(
        self, cmd: CreateTicket, key: str, request: str, title: str, price: Decimal, currency: str
    ) -> Ticket:
        seller = cmd.seller
        async with self.uow() as uow:
            now = stored_precision(self.clock.now())
            record = await uow.idempotency.find(seller, key, now)
            if record is not None:
                return await self._get(uow, replayed_object(record, request))
            window = await _window(uow, cmd.event_id) if cmd.event_id else None
            if window is not None:
                window.check_open(now)
            if cmd.details is not None and cmd.details.deliver_by is not None:
                check_own_deadline(
                    cmd.details.deliver_by, window.starts_at if window else None, now
                )
            ticket = Ticket.list(
                self.new_id(),
                title,
                price,
                currency,
                seller,
                now,
                cmd.quantity,
                cmd.split_rule,
                cmd.event_id,
                cmd.details,
            )
            await uow.tickets.add(ticket)
            # A duplicate running at once claims the same key: one of the two transactions
            # fails here or at commit, runs again (retry_transient) and finds the other's.
            await uow.idempotency.claim(IdempotencyRecord(seller, key, request, ticket.id, now))
            await uow.commit()
            return ticket

    async def update_ticket(self, cmd: UpdateTicket) -> Ticket:
        """The seller's edit, decided here in one transaction on the listing, which holds are
        also written in: seats already held keep the price their order took them at."""
        if (cmd.title, cmd.price, cmd.quantity, cmd.deliver_by) == (None, None, None, None):
            raise InvalidInput("Give a new title, price, quantity or deadline", field="title")
        title = None if cmd.title is None else check_title(cmd.title)
        price = None if cmd.price is None else parse_price(cmd.price)

        def edit(ticket: Ticket) -> bool:
            if cmd.currency_code and cmd.currency_code != ticket.currency_code:
                raise InvalidInput(
                    f"The ticket is priced in {ticket.currency_code}; its currency never changes",
                    field="currency_code",
                )
            done = ticket.is_edited_as(title, price, cmd.quantity) and (
                cmd.deliver_by is None or cmd.deliver_by == ticket.details.deliver_by
            )
            if not ticket.check_version(cmd.expected_version, done):
                return False  # our own edit, asked again
            if cmd.deliver_by is not None:
                # Held seats keep the deadline their hold fixed; new holds take this one.
                ticket.details = dataclasses.replace(ticket.details, deliver_by=cmd.deliver_by)
            ticket.update(cmd.user_id, title, price, cmd.quantity)
            return True

        return await self._change(cmd.user_id, cmd.ticket_id, edit, deliver_by=cmd.deliver_by)

    async def withdraw_ticket(self, cmd: WithdrawTicket) -> Ticket:
        """The seats for sale are off sale for good (refused when none are)."""

        def withdraw(ticket: Ticket) -> bool:
            if not ticket.check_version(cmd.expected_version, ticket.withdrawn):
                return False  # our own withdrawal, asked again
            ticket.withdraw(cmd.user_id)
            return True

        return await self._change(cmd.user_id, cmd.ticket_id, withdraw)

    @retry_transient()
    async def _change(
        self,
        user_id: str,
        ticket_id: str,
        change: Callable[[Ticket], bool],
        deliver_by: datetime | None = None,
    ) -> Ticket:
        """Of an edit and a hold racing on the listing, both transactions write its document:
        one loses the write conflict and runs again (retry_transient), seeing the other. A new
        delivery deadline is checked against the listing's event."""
        async with self.uow() as uow:
            ticket = await self._get(uow, ticket_id)
            ticket.check_seller(user_id)
            if deliver_by is not None:
                window = await _window(uow, ticket.event_id) if ticket.event_id else None
                now = stored_precision(self.clock.now())
                check_own_deadline(deliver_by, window.starts_at if window else None, now)
            if change(ticket):
                await uow.tickets.save(ticket)
                await uow.commit()
            return ticket

    async def hold_seats(self, cmd: HoldSeats) -> tuple[Ticket, SeatHold]:
        """Seats of the listing for the order (asked by the orders service as it places it),
        decided in one transaction on the listing's document: of buyers racing for the last
        seats, the losers' transactions conflict, run again and find fewer (or none) left.
        Idempotent on the order: a retry gets the seats it got."""
        if not cmd.order_id:
            raise InvalidInput("order_id is required", field="order_id")
        if cmd.quantity < 1:
            raise InvalidInput("Quantity must be at least 1", field="quantity")
        return await self._hold(cmd)

    @retry_transient(attempts=30)
    async def _hold(self, cmd: HoldSeats) -> tuple[Ticket, SeatHold]:
        async with self.uow() as uow:
            ticket = await self._get(uow, cmd.ticket_id)
            existing = ticket.hold_of(cmd.order_id)
            if existing is not None:
                return ticket, existing
            if await uow.tickets.remember_hold(cmd.order_id):
                raise OrderEnded()
            now = stored_precision(self.clock.now())
            window = await _window(uow, ticket.event_id) if ticket.event_id else None
            if window is not None:  # stops selling at the event's start, or when called off
                window.check_open(now)
            deliver_by = self.terms.deadline(
                ticket.details.deliver_by, window.starts_at if window else None, now
            )
            hold, _ = ticket.hold(cmd.order_id, cmd.quantity, cmd.buyer, deliver_by)
            await uow.tickets.save(ticket)
            await uow.commit()
            return ticket, hold

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

    @retry_transient()  # a read: safe to run again on a fresh connection
    async def listings_of_event(
        self, event_id: str, size: int, after: tuple[int, str] | None
    ) -> list[Ticket]:
        """An event's listings with seats for sale, cheapest first; `size` + 1 of them, so that
        the caller knows whether more follow."""
        if not event_id:
            raise InvalidInput("event_id is required", field="event_id")
        async with self.uow() as uow:
            return await uow.tickets.of_event(event_id, size + 1, after)

    @retry_transient()  # a read: safe to run again on a fresh connection
    async def listings_of_seller(
        self, seller: str, size: int, token: str, before_token: str = "", backward: bool = False
    ) -> Page[Ticket]:
        """The caller's own listings, withdrawn and sold ones too, newest first."""
        request = page_request(size, token, before_token, backward)
        async with self.uow() as uow:
            return await uow.tickets.page_of_seller(seller, request)

    async def _get(self, uow: TicketsUnitOfWork, ticket_id: str) -> Ticket:
        ticket = await uow.tickets.get(ticket_id) if ticket_id else None
        if ticket is None:
            raise NotFound("Ticket not found", field="id")
        return ticket

    # -- events ---------------------------------------------------------------------------

    @retry_transient()
    async def on_order_cancelled(
        self, event: orders_pb2.OrderCancelled, delivery: Delivery
    ) -> None:
        """The order's seats are for sale again; an order holding nothing here (refused, or
        its HoldSeats still on the way) is remembered, so that no hold is taken for it."""
        async with self.uow() as uow:
            if await uow.already_processed(delivery.event_id):
                return
            await uow.tickets.remember_ended(event.id)
            ticket = await uow.tickets.holding(event.id)
            if ticket is not None and ticket.release(event.id):
                await uow.tickets.save(ticket)
            await uow.commit()

    @retry_transient()
    async def on_order_updated(self, event: orders_pb2.OrderUpdated, delivery: Delivery) -> None:
        """A paid order's seats are sold."""
        if event.status != orders_v1_pb2.ORDER_STATUS_COMPLETE:
            return
        async with self.uow() as uow:
            if await uow.already_processed(delivery.event_id):
                return
            ticket = await uow.tickets.holding(event.id)
            if ticket is None:
                # Every order is placed on a hold it got first, so this is a bug or lost data.
                log.error("a paid order holds no seats here", extra={"order_id": event.id})
            elif ticket.sell(event.id):
                await uow.tickets.save(ticket)
            await uow.commit()
