"""What the mutations and connections of every resolver module declare alike."""

from __future__ import annotations

import strawberry

from gateway.cost import Cost
from gateway.types.common import UserError, list_size

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
