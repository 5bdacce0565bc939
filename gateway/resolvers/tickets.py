"""Tickets: reading them (through the ticket cache) and the seller's mutations."""

from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry import UNSET

from common.errors import InvalidInput
from common.pagination import DEFAULT_PAGE_SIZE
from gateway import global_ids
from gateway.context import Info
from gateway.cost import Cost
from gateway.paging import After, Before, Last, check_keyset_cursor, first_argument, window
from gateway.resolvers.shared import (
    CONNECTION,
    IDEMPOTENCY_KEY,
    INPUT,
    MUTATION,
    user_errors_field,
    write_ticket,
)
from gateway.types.common import MoneyInput, UserError, plain_amount
from gateway.types.tickets import Ticket, TicketConnection
from gateway.user_errors import expected_failures
from ticketing.tickets.v1 import tickets_pb2

_ID = "The ticket's id; NOT_FOUND when unknown, FORBIDDEN when another seller's."
_EXPECTED_VERSION = (
    "The `version` last read; CONFLICT when the ticket has moved on (unless it already is what "
    "this input asks, at expectedVersion + 1: then it is returned)."
)


@strawberry.input(description="A ticket to list for sale.")
class CreateTicketInput:
    title: str = strawberry.field(description="1 to 200 characters (BAD_USER_INPUT).")
    price: MoneyInput = strawberry.field(
        description="What a buyer pays; its currency is the listing's for good."
    )
    idempotency_key: str = strawberry.field(description=IDEMPOTENCY_KEY)


@strawberry.type(description="The ticket listed.")
class CreateTicketPayload:
    ticket: Ticket | None = strawberry.field(description="The new ticket; null when refused.")
    user_errors: list[UserError] = user_errors_field()


@strawberry.input(
    description="Changes to one of the caller's tickets; at least one of title "
    "and price (BAD_USER_INPUT otherwise)."
)
class UpdateTicketInput:
    id: strawberry.ID = strawberry.field(description=_ID)
    expected_version: int = strawberry.field(description=_EXPECTED_VERSION)
    title: str | None = strawberry.field(
        default=UNSET, description="The new title (1 to 200 characters); unchanged when absent."
    )
    price: MoneyInput | None = strawberry.field(
        default=UNSET,
        description="The new price, in the ticket's currency; unchanged when absent.",
    )


@strawberry.type(description="The ticket as changed.")
class UpdateTicketPayload:
    ticket: Ticket | None = strawberry.field(description="The ticket; null when refused.")
    user_errors: list[UserError] = user_errors_field()


@strawberry.input(description="One of the caller's tickets to take off sale.")
class WithdrawTicketInput:
    id: strawberry.ID = strawberry.field(description=_ID)
    expected_version: int = strawberry.field(description=_EXPECTED_VERSION)


@strawberry.type(description="The ticket withdrawn.")
class WithdrawTicketPayload:
    ticket: Ticket | None = strawberry.field(
        description="The ticket, now WITHDRAWN; null when refused."
    )
    user_errors: list[UserError] = user_errors_field()


@strawberry.type
class TicketQuery:
    @strawberry.field(
        description="A ticket by id; null with NOT_FOUND for an unknown one (or an id that does "
        "not decode or is not a Ticket's).",
        directives=[Cost(weight=1)],
    )
    async def ticket(
        self,
        info: Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="The ticket's id.")],
    ) -> Ticket | None:
        raw_id = global_ids.decode(id, "Ticket")
        ticket = await info.context.ticket_reads.get(raw_id)
        await info.context.behaviour.ticket_viewed(ticket.id)
        return Ticket.from_proto(ticket)

    @strawberry.field(
        description="Tickets for sale, newest first (then by id). first/last 1-100, default "
        f"{DEFAULT_PAGE_SIZE}; BAD_USER_INPUT (extensions.field) for a size out of range, a mix "
        "of forwards and backwards arguments, or a cursor that does not decode. No totalCount: "
        "a count over the whole marketplace on every page view.",
        directives=[Cost(weight=1), CONNECTION],
    )
    async def tickets(
        self,
        info: Info,
        first: Annotated[int | None, first_argument(DEFAULT_PAGE_SIZE)] = DEFAULT_PAGE_SIZE,
        after: After = UNSET,
        last: Last = UNSET,
        before: Before = UNSET,
        include_unavailable: Annotated[
            bool | None,
            strawberry.argument(
                description="Also HELD and SOLD tickets (never WITHDRAWN ones); null means false."
            ),
        ] = False,
    ) -> TicketConnection | None:
        asked = window(info, first, after, last, before, default=DEFAULT_PAGE_SIZE)
        check_keyset_cursor(asked)
        include = bool(include_unavailable)
        page = await info.context.ticket_reads.page(asked, include_reserved=include)
        await info.context.behaviour.tickets_browsed(
            first=asked.size,
            after=asked.after,
            include_reserved=include,
            ticket_ids=[t.id for t in page.tickets],
        )
        tickets = [Ticket.from_proto(t) for t in page.tickets]
        return TicketConnection.of(
            [(t.cursor, t) for t in tickets], has_next=page.has_next, has_previous=page.has_previous
        )


@strawberry.type
class TicketMutation:
    @strawberry.mutation(
        description="Lists a ticket for sale by the caller. userErrors: BAD_USER_INPUT, "
        "IDEMPOTENCY_KEY_REUSED. Top-level UNAUTHENTICATED when signed out.",
        directives=MUTATION,
    )
    async def create_ticket(
        self, info: Info, input: Annotated[CreateTicketInput, INPUT]
    ) -> CreateTicketPayload | None:
        ctx = info.context
        await ctx.require_user()
        request = tickets_pb2.CreateTicketRequest(
            title=input.title,
            price=plain_amount(input.price.amount),
            currency_code=input.price.currency_code.value,
            idempotency_key=input.idempotency_key,
        )
        with expected_failures() as outcome:
            ticket = await write_ticket(ctx, ctx.clients.tickets.CreateTicket, request)
            return CreateTicketPayload(ticket=Ticket.from_proto(ticket), user_errors=[])
        return CreateTicketPayload(ticket=None, user_errors=outcome.user_errors)

    @strawberry.mutation(
        description="The seller changes the title and/or price of a ticket no order holds. "
        "userErrors: BAD_USER_INPUT, NOT_FOUND, FORBIDDEN (another seller's), CONFLICT (held, "
        "sold or withdrawn: field id; stale expectedVersion). Top-level UNAUTHENTICATED when "
        "signed out.",
        directives=MUTATION,
    )
    async def update_ticket(
        self, info: Info, input: Annotated[UpdateTicketInput, INPUT]
    ) -> UpdateTicketPayload | None:
        ctx = info.context
        await ctx.require_user()
        with expected_failures(subject="id") as outcome:
            request = tickets_pb2.UpdateTicketRequest(
                id=global_ids.decode(input.id, "Ticket", field="id"),
                expected_version=input.expected_version,
            )
            # Absent (UNSET) or null: unchanged.
            if input.title is not None and input.title is not UNSET:
                request.title = input.title
            if input.price is not None and input.price is not UNSET:
                request.price = plain_amount(input.price.amount)
                request.currency_code = input.price.currency_code.value
            if not (request.HasField("title") or request.HasField("price")):
                raise InvalidInput("Give a new title or a new price")  # before any call
            ticket = await write_ticket(ctx, ctx.clients.tickets.UpdateTicket, request)
            return UpdateTicketPayload(ticket=Ticket.from_proto(ticket), user_errors=[])
        return UpdateTicketPayload(ticket=None, user_errors=outcome.user_errors)

    @strawberry.mutation(
        description="The seller takes a FOR_SALE ticket off sale for good (state WITHDRAWN). "
        "userErrors: NOT_FOUND, FORBIDDEN (another seller's), CONFLICT (held or sold: field id; "
        "stale expectedVersion). Top-level UNAUTHENTICATED when signed out.",
        directives=MUTATION,
    )
    async def withdraw_ticket(
        self, info: Info, input: Annotated[WithdrawTicketInput, INPUT]
    ) -> WithdrawTicketPayload | None:
        ctx = info.context
        await ctx.require_user()
        with expected_failures(subject="id") as outcome:
            request = tickets_pb2.WithdrawTicketRequest(
                id=global_ids.decode(input.id, "Ticket", field="id"),
                expected_version=input.expected_version,
            )
            ticket = await write_ticket(ctx, ctx.clients.tickets.WithdrawTicket, request)
            return WithdrawTicketPayload(ticket=Ticket.from_proto(ticket), user_errors=[])
        return WithdrawTicketPayload(ticket=None, user_errors=outcome.user_errors)
