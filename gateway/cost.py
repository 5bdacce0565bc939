"""What each field of the schema costs, declared in the schema itself (docs/api.md, COST-1).

IBM's GraphQL Cost Directives (https://ibm.github.io/graphql-specs/cost-spec.html), as Apollo's
demand control uses them: `@cost(weight:)` on a field or a type, `@listSize(...)` on a list or a
connection. They are printed in schema.graphql, so clients read the costs there.
"""

from __future__ import annotations

import strawberry
from strawberry.schema_directive import Location


@strawberry.schema_directive(
    locations=[Location.FIELD_DEFINITION, Location.OBJECT, Location.ARGUMENT_DEFINITION],
    name="cost",
    description="What resolving this field (or any field of this type) weighs.",
)
class Cost:
    weight: int


@strawberry.schema_directive(
    locations=[Location.FIELD_DEFINITION],
    name="listSize",
    description=(
        "How many items a list field returns: the value of one of its slicing arguments, "
        "else assumedSize; sizedFields name the connection's lists the size applies to."
    ),
)
class ListSize:
    assumed_size: int | None = None
    slicing_arguments: list[str] | None = None
    sized_fields: list[str] | None = None
    require_one_slicing_argument: bool = False
