"""The GraphQL schema: Query and Mutation assembled from the resolver modules."""

from __future__ import annotations

from typing import Any

import strawberry
from graphql.error import GraphQLError
from strawberry.extensions import QueryDepthLimiter
from strawberry.schema.config import StrawberryConfig
from strawberry.types import ExecutionContext

from gateway.errors import ErrorCodes
from gateway.resolvers.market import MarketMutation, MarketQuery
from gateway.resolvers.users import UserMutation, UserQuery
from gateway.types.scalars import SCALARS


@strawberry.type
class Query(UserQuery, MarketQuery):
    pass


@strawberry.type
class Mutation(UserMutation, MarketMutation):
    pass


class TicketingSchema(strawberry.Schema):
    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        # ErrorCodes has already logged what deserves a log line; client mistakes are not ours.
        return None


def build_schema(max_depth: int = 10, **kwargs: Any) -> strawberry.Schema:
    return TicketingSchema(
        query=Query,
        mutation=Mutation,
        # Factories, not instances: every request gets extensions of its own.
        extensions=[lambda: QueryDepthLimiter(max_depth=max_depth), ErrorCodes],
        config=StrawberryConfig(scalar_map=SCALARS),
        **kwargs,
    )
