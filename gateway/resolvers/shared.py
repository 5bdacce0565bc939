"""What the mutations and connections of every resolver module declare alike."""

from __future__ import annotations

from typing import Any

import strawberry

from gateway.context import Context
from gateway.cost import Cost
from gateway.types.common import UserError, list_size
from ticketing.tickets.v1 import tickets_pb2

# Each mutation root field: a command, a write and its events (COST-1).
MUTATION = [Cost(weight=10)]
# A connection's size is its first or last, for its edges and its nodes.
CONNECTION = list_size(slicing_arguments=["first", "last"], sized_fields=["edges", "nodes"])

INPUT = strawberry.argument(description="What to do; see the input type's fields.")

IDEMPOTENCY_KEY = (
    "The client's key for this action: 1-64 of [A-Za-z0-9_-], a random UUID recommended, made "
    "when the person starts it and kept until it succeeds. The same key and input within 24 h "
    "return the first result; another input: IDEMPOTENCY_KEY_REUSED. BAD_USER_INPUT when "
    "malformed."
)


def user_errors_field() -> list[UserError]:
    return strawberry.field(  # type: ignore[no-any-return]
        description="Why it was refused; empty when it succeeded (then the result is non-null).",
        # One expected failure per refusal (gateway/user_errors.py): PAGE-7's bound, for its cost.
        directives=[list_size(assumed_size=1)],
    )


async def write_ticket(ctx: Context, method: Any, request: Any) -> tickets_pb2.Ticket:
    """A write of the tickets service on the caller's behalf (CreateTicket, UpdateTicket,
    WithdrawTicket: a ticket's or a listing's, the same record), and the ticket it answers
    cached, so the caller's next read shows it as written."""
    reply = await ctx.call(method, request)
    await ctx.ticket_reads.wrote(reply.ticket)
    return reply.ticket  # type: ignore[no-any-return]
