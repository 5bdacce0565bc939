"""Listings (issue 20): one by id, the caller's own, an event's for sale (Event.listings), and
the seller's mutations. The tickets service decides; reads go through the ticket cache as a
ticket's do (a listing is the same record)."""

from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry import UNSET

from common.errors import InvalidInput
from common.pagination import DEFAULT_PAGE_SIZE
from common.protos import timestamp
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
from gateway.types.common import Money, MoneyInput, UserError, plain_amount
from gateway.types.events import DeliveryMethod, Listing, ListingConnection, SplitRule
from gateway.types.fees import FeeQuote, quote
from gateway.types.scalars import DateTime
from gateway.user_errors import expected_failures
from ticketing.tickets.v1 import tickets_pb2

_ID = "The listing's id; NOT_FOUND when unknown, FORBIDDEN when another seller's."
_EXPECTED_VERSION = (
    "The `version` last read; CONFLICT when the listing has moved on (unless it already is what "
    "this input asks, at expectedVersion + 1: then it is returned)."
)


@strawberry.input(description="Seats to sell for an event.")
class CreateListingInput:
    event_id: strawberry.ID = strawberry.field(
        description="The event; NOT_FOUND when unknown, CONFLICT when cancelled, postponed or "
        "started."
    )
    quantity: int = strawberry.field(description="Seats, 1 to 100; even under EVEN.")
    price: MoneyInput = strawberry.field(
        description="What a buyer pays per ticket; its currency is the listing's for good."
    )
    face_value: MoneyInput | None = strawberry.field(
        default=None, description="What a ticket cost at the box office, in the same currency."
    )
    section: str | None = strawberry.field(default=None, description="Up to 20 characters.")
    row: str | None = strawberry.field(default=None, description="Up to 20 characters.")
    seats: list[str] | None = strawberry.field(
        default=None,
        description="One number per seat (quantity of them), or none: unnumbered.",
    )
    split_rule: SplitRule = strawberry.field(
        default=SplitRule.ANY, description="How its seats may be split."
    )
    delivery_method: DeliveryMethod = strawberry.field(
        default=DeliveryMethod.E_TICKET, description="How the seats reach the buyer."
    )
    notes: str | None = strawberry.field(default=None, description="Up to 500 characters.")
    deliver_by: DateTime | None = strawberry.field(
        default=None,
        description="When the seller will deliver a paid order's seats by (issue 22): a buyer "
        "whose seats are not delivered by then is refunded. Null: the delivery service's "
        "default (before the event). BAD_USER_INPUT when it is not in the future.",
    )
    idempotency_key: str = strawberry.field(description=IDEMPOTENCY_KEY)


@strawberry.type(description="The listing created.")
class CreateListingPayload:
    listing: Listing | None = strawberry.field(description="The new listing; null when refused.")
    user_errors: list[UserError] = user_errors_field()


@strawberry.input(
    description="Changes to one of the caller's listings: price, quantity and/or deliverBy "
    "(BAD_USER_INPUT when none)."
)
class UpdateListingInput:
    id: strawberry.ID = strawberry.field(description=_ID)
    expected_version: int = strawberry.field(description=_EXPECTED_VERSION)
    price: MoneyInput | None = strawberry.field(
        default=UNSET, description="The new price per ticket, in the listing's currency."
    )
    quantity: int | None = strawberry.field(
        default=UNSET,
        description="Seats listed: up, or down to those held or sold (CONFLICT below that).",
    )
    deliver_by: DateTime | None = strawberry.field(
        default=UNSET,
        description="The delivery deadline for orders placed from now on (those placed keep "
        "theirs); BAD_USER_INPUT when it is not in the future.",
    )


@strawberry.type(description="The listing as changed.")
class UpdateListingPayload:
    listing: Listing | None = strawberry.field(description="The listing; null when refused.")
    user_errors: list[UserError] = user_errors_field()


@strawberry.input(description="One of the caller's listings to take off sale.")
class WithdrawListingInput:
    id: strawberry.ID = strawberry.field(description=_ID)
    expected_version: int = strawberry.field(description=_EXPECTED_VERSION)


@strawberry.type(description="The listing withdrawn.")
class WithdrawListingPayload:
    listing: Listing | None = strawberry.field(
        description="The listing: its seats for sale withdrawn; null when refused."
    )
    user_errors: list[UserError] = user_errors_field()


@strawberry.type
class ListingQuery:
    @strawberry.field(
        description="A listing by id; null with NOT_FOUND for an unknown one.",
        directives=[Cost(weight=1)],
    )
    async def listing(
        self,
        info: Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="The listing's id.")],
    ) -> Listing | None:
        raw_id = global_ids.decode(id, "Listing")
        return Listing.from_proto(await info.context.ticket_reads.get(raw_id))

    @strawberry.field(
        description="The caller's own listings, newest first, withdrawn and sold ones too (see "
        "each one's quantity, available and state). Forwards only: last/before are "
        "BAD_USER_INPUT. Top-level UNAUTHENTICATED when signed out.",
        directives=[Cost(weight=1), CONNECTION],
    )
    async def my_listings(
        self,
        info: Info,
        first: Annotated[int | None, first_argument(DEFAULT_PAGE_SIZE)] = DEFAULT_PAGE_SIZE,
        after: After = UNSET,
        last: Last = UNSET,
        before: Before = UNSET,
    ) -> ListingConnection | None:
        asked = window(info, first, after, last, before, default=DEFAULT_PAGE_SIZE)
        if asked.backward:
            raise InvalidInput("My listings page forwards only: use first/after", field="last")
        check_keyset_cursor(asked)
        ctx = info.context
        request = tickets_pb2.ListMyTicketsRequest(page_size=asked.size, page_token=asked.after)
        reply = await ctx.call(ctx.clients.tickets.ListMyTickets, request)
        listings = [Listing.from_proto(t) for t in reply.tickets]
        return ListingConnection.of(
            listings, has_next=reply.has_next_page, has_previous=bool(asked.after)
        )

    @strawberry.field(
        description="What tickets at a price would cost a buyer and pay their seller under the "
        "fees now: the sell form's \"you receive\" (sellerProceeds), a buyer's all-in price. "
        "Public. A price out of range or with too many decimals is BAD_USER_INPUT on "
        '"price.amount", a quantity out of 1 to 1000 on "quantity". Null with UNAVAILABLE '
        "when payments cannot be reached.",
        directives=[Cost(weight=1)],
    )
    async def fee_quote(
        self,
        info: Info,
        price: Annotated[
            MoneyInput, strawberry.argument(description="The seller's price per ticket.")
        ],
        quantity: Annotated[
            int, strawberry.argument(description="How many tickets at that price (1 to 1000).")
        ] = 1,
        event_id: Annotated[
            strawberry.ID | None,
            strawberry.argument(
                description="The event the tickets are for: its own fees apply, as an order of "
                "it would be charged (NOT_FOUND when the id is not an Event's; an event payments "
                "has not heard of yet has the standard fees). Null: the standard fees."
            ),
        ] = None,
    ) -> FeeQuote | None:
        amount = Money(amount=price.amount, currency_code=price.currency_code)
        event = global_ids.decode(event_id, "Event", field="eventId") if event_id else ""
        return await quote(info, amount, quantity, event)


@strawberry.type
class ListingMutation:
    @strawberry.mutation(
        description="Lists seats for an event, sold by the caller. userErrors: BAD_USER_INPUT "
        "(quantity, seats, price, faceValue, notes...), NOT_FOUND (eventId), CONFLICT (the "
        "event cancelled, postponed or started), IDEMPOTENCY_KEY_REUSED. Top-level "
        "UNAUTHENTICATED when signed out.",
        directives=MUTATION,
    )
    async def create_listing(
        self, info: Info, input: Annotated[CreateListingInput, INPUT]
    ) -> CreateListingPayload | None:
        ctx = info.context
        await ctx.require_user()
        with expected_failures(subject="eventId") as outcome:
            currency = input.price.currency_code.value
            if input.face_value and input.face_value.currency_code.value != currency:
                raise InvalidInput("The face value is in the price's currency", field="faceValue")
            request = tickets_pb2.CreateTicketRequest(
                title="",
                price=plain_amount(input.price.amount),
                currency_code=currency,
                idempotency_key=input.idempotency_key,
                quantity=input.quantity,
                split_rule=input.split_rule.to_proto(),
                event_id=global_ids.decode(input.event_id, "Event", field="eventId"),
                section=input.section or "",
                row=input.row or "",
                seat_labels=input.seats or [],
                face_value=plain_amount(input.face_value.amount) if input.face_value else "",
                delivery_method=input.delivery_method.to_proto(),
                notes=input.notes or "",
            )
            if input.deliver_by is not None:
                request.deliver_by.CopyFrom(timestamp(input.deliver_by))
            if not 1 <= input.quantity <= 100:
                raise InvalidInput("Quantity must be 1 to 100", field="quantity")
            ticket = await write_ticket(ctx, ctx.clients.tickets.CreateTicket, request)
            return CreateListingPayload(listing=Listing.from_proto(ticket), user_errors=[])
        return CreateListingPayload(listing=None, user_errors=outcome.user_errors)

    @strawberry.mutation(
        description="The seller changes a listing's price and/or quantity. Seats already held "
        "keep their price. userErrors: BAD_USER_INPUT, NOT_FOUND, FORBIDDEN, CONFLICT (nothing "
        "left for sale: field id; a quantity below the seats taken; stale expectedVersion). "
        "Top-level UNAUTHENTICATED when signed out.",
        directives=MUTATION,
    )
    async def update_listing(
        self, info: Info, input: Annotated[UpdateListingInput, INPUT]
    ) -> UpdateListingPayload | None:
        ctx = info.context
        await ctx.require_user()
        with expected_failures(subject="id") as outcome:
            request = tickets_pb2.UpdateTicketRequest(
                id=global_ids.decode(input.id, "Listing", field="id"),
                expected_version=input.expected_version,
            )
            if input.price is not None and input.price is not UNSET:
                request.price = plain_amount(input.price.amount)
                request.currency_code = input.price.currency_code.value
            if input.quantity is not None and input.quantity is not UNSET:
                request.quantity = input.quantity
            if input.deliver_by is not None and input.deliver_by is not UNSET:
                request.deliver_by.CopyFrom(timestamp(input.deliver_by))
            if not any(request.HasField(f) for f in ("price", "quantity", "deliver_by")):
                raise InvalidInput("Give a new price, quantity or deliverBy", field="price")
            ticket = await write_ticket(ctx, ctx.clients.tickets.UpdateTicket, request)
            return UpdateListingPayload(listing=Listing.from_proto(ticket), user_errors=[])
        return UpdateListingPayload(listing=None, user_errors=outcome.user_errors)

    @strawberry.mutation(
        description="The seller takes a listing's seats for sale off sale for good (held and "
        "sold ones are not affected). userErrors: NOT_FOUND, FORBIDDEN, CONFLICT (none for "
        "sale: field id; stale expectedVersion). Top-level UNAUTHENTICATED when signed out.",
        directives=MUTATION,
    )
    async def withdraw_listing(
        self, info: Info, input: Annotated[WithdrawListingInput, INPUT]
    ) -> WithdrawListingPayload | None:
        ctx = info.context
        await ctx.require_user()
        with expected_failures(subject="id") as outcome:
            request = tickets_pb2.WithdrawTicketRequest(
                id=global_ids.decode(input.id, "Listing", field="id"),
                expected_version=input.expected_version,
            )
            ticket = await write_ticket(ctx, ctx.clients.tickets.WithdrawTicket, request)
            return WithdrawListingPayload(listing=Listing.from_proto(ticket), user_errors=[])
        return WithdrawListingPayload(listing=None, user_errors=outcome.user_errors)
