"""The GraphQL schema: Query, Mutation and Subscription assembled from the resolver modules."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import strawberry
from graphql.error import GraphQLError
from strawberry.extensions import ParserCache, SchemaExtension
from strawberry.extensions.runner import SchemaExtensionsRunner
from strawberry.schema.config import StrawberryConfig
from strawberry.schema.schema import validate_document
from strawberry.types import ExecutionContext

from gateway.access import OperationNames
from gateway.errors import ErrorCodes
from gateway.extension_hooks import CachedHooksRunner
from gateway.metrics import OperationMetrics
from gateway.plain_fields import PlainFieldsExecutor
from gateway.query_limits import QueryLimits, limit_extensions
from gateway.rate_limits.graphql import RetryAfterHeader
from gateway.resolvers.analytics import AnalyticsQuery
from gateway.resolvers.deliveries import DeliveryMutation, DeliveryQuery
from gateway.resolvers.disputes import DisputeMutation, DisputeQuery
from gateway.resolvers.entry import EntryMutation, EntryQuery
from gateway.resolvers.event_fees import EventFeesMutation
from gateway.resolvers.event_recommendations import EventRecommendationQuery
from gateway.resolvers.event_reports import EventReportQuery
from gateway.resolvers.events import EventMutation, EventQuery
from gateway.resolvers.listings import ListingMutation, ListingQuery
from gateway.resolvers.nodes import NodeQuery
from gateway.resolvers.orders import OrderMutation, OrderQuery
from gateway.resolvers.passes import PassMutation, PassQuery
from gateway.resolvers.payouts import PayoutQuery
from gateway.resolvers.recommendations import RecommendationQuery
from gateway.resolvers.refunds import RefundMutation, RefundQuery
from gateway.resolvers.sellers import SellerMutation
from gateway.resolvers.subscriptions import Subscription
from gateway.resolvers.tickets import TicketMutation, TicketQuery
from gateway.resolvers.users import UserMutation, UserQuery
from gateway.subscriptions.transport import OperationTransport
from gateway.types.disputes import Dispute
from gateway.types.events import Event
from gateway.types.orders import Order, Payment
from gateway.types.payouts import Payout
from gateway.types.refunds import Refund
from gateway.types.scalars import SCALARS
from gateway.types.tickets import Ticket
from gateway.types.user import User

# Clients send the same few query texts again and again: each is parsed and validated once, then
# served from these LRU caches (shared by every request of the process: Strawberry keeps them at
# module level, keyed by size). A cached document costs ~130 bytes per character of its text (the
# AST keeps its tokens for error positions), so only texts up to CACHED_QUERY_MAX_CHARS are kept:
# at most ~35 MB however many distinct texts a client makes up. Longer ones are parsed and
# validated every time, as before.
DOCUMENT_CACHE_SIZE = 128
CACHED_QUERY_MAX_CHARS = 2_048


def _cacheable(execution_context: ExecutionContext) -> bool:
    return len(execution_context.query or "") <= CACHED_QUERY_MAX_CHARS


class DocumentParserCache(ParserCache):
    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        if _cacheable(context):
            try:
                context.graphql_document = self.cached_parse_document(
                    context.query, **context.parse_options
                )
            except GraphQLError:
                # A syntax error raised here would escape the operation, and ErrorCodes with it
                # (no `code`): Strawberry parses the text again and reports it as its own.
                pass
        yield  # a document not set here is parsed by Strawberry


@dataclass(frozen=True, slots=True)
class _Verdict:
    document: Any  # held, so that its id stays its own
    schema: Any
    errors: list[GraphQLError]


class DocumentValidationCache(SchemaExtension):
    """A document's verdict, kept for the next request of the same text. The parser cache hands
    every request of a text the same document object, so the verdict is found by the document's
    identity (with the schema's and the rules'): Strawberry's ValidationCache keys its LRU by the
    document itself, whose hash walks every node of the AST on every request (~3 % of a search's
    gateway CPU). Each entry holds its document, so an id is never another's while it is kept."""

    _verdicts: OrderedDict[tuple[int, int, tuple[type, ...]], _Verdict] = OrderedDict()

    def __init__(self, maxsize: int = DOCUMENT_CACHE_SIZE) -> None:
        super().__init__()
        self.maxsize = maxsize

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        if _cacheable(context):
            context.pre_execution_errors = self._verdict(
                context.schema._schema, context.graphql_document, context.validation_rules
            )
        yield  # a document not validated here is validated by Strawberry

    def _verdict(self, schema: Any, document: Any, rules: tuple[type, ...]) -> list[GraphQLError]:
        verdicts = self._verdicts
        key = (id(document), id(schema), rules)
        kept = verdicts.get(key)
        if kept is not None and kept.document is document and kept.schema is schema:
            verdicts.move_to_end(key)
            return kept.errors
        errors = validate_document(schema, document, rules)
        verdicts[key] = _Verdict(document, schema, errors)
        while len(verdicts) > self.maxsize:
            verdicts.popitem(last=False)
        return errors


@strawberry.type(description="What a client can read.")
class Query(
    UserQuery,
    NodeQuery,
    TicketQuery,
    OrderQuery,
    PayoutQuery,
    RecommendationQuery,
    EventRecommendationQuery,
    AnalyticsQuery,
    EventReportQuery,
    EventQuery,
    ListingQuery,
    RefundQuery,
    DisputeQuery,
    DeliveryQuery,
    PassQuery,
    EntryQuery,
):
    pass


@strawberry.type(
    description="What a client can do. Each mutation takes one input and answers a payload: its "
    "result, or userErrors (check them first). Every one but signUp and signIn needs a signed-in "
    "caller (top-level UNAUTHENTICATED otherwise)."
)
class Mutation(
    UserMutation,
    TicketMutation,
    OrderMutation,
    EventMutation,
    EventFeesMutation,
    ListingMutation,
    SellerMutation,
    RefundMutation,
    DisputeMutation,
    DeliveryMutation,
    PassMutation,
    EntryMutation,
):
    pass


class TicketingSchema(strawberry.Schema):
    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        # ErrorCodes has already logged what deserves a log line; client mistakes are not ours.
        return None

    def create_extensions_runner(
        self, execution_context: ExecutionContext, extensions: list[SchemaExtension]
    ) -> SchemaExtensionsRunner:
        return CachedHooksRunner(execution_context=execution_context, extensions=extensions)


def build_schema(limits: QueryLimits | None = None, **kwargs: Any) -> strawberry.Schema:
    return TicketingSchema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        # Factories, not instances: every request gets extensions of its own (the caches they
        # use are shared). The limits come first: the token limit is a parse option, and their
        # validation rules (made once here, so the validation cache's key is stable) join the
        # rules before validation, from the cache or not.
        extensions=[
            # First: it times the whole operation and, exiting last, sees the codes ErrorCodes set.
            OperationMetrics,
            OperationNames,  # reads the error codes ErrorCodes gives
            *limit_extensions(limits or QueryLimits()),
            lambda: DocumentParserCache(maxsize=DOCUMENT_CACHE_SIZE),
            DocumentValidationCache,
            OperationTransport,  # before ErrorCodes: its refusal gets a code like any error
            ErrorCodes,
            RetryAfterHeader,  # after ErrorCodes: it reads the errors before they are masked
        ],
        config=StrawberryConfig(scalar_map=SCALARS),
        types=[
            User,
            Ticket,
            Order,
            Payment,
            Event,
            Payout,
            Refund,
            Dispute,
        ],  # every Node, reachable through node(id:)
        execution_context_class=PlainFieldsExecutor,
        **kwargs,
    )
