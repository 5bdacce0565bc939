"""The gateway's metrics: every GraphQL operation counted and timed (`OperationMetrics`, a schema
extension), and GET /metrics, which in multiprocess mode adds up every worker's values."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

from graphql import FieldNode
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from strawberry.extensions import SchemaExtension
from strawberry.utils.operation import get_first_operation

from common.errors import ErrorCode
from common.metrics import CONTENT_TYPE, exposition
from common.metrics.series import (
    GRAPHQL_DURATION,
    GRAPHQL_IN_FLIGHT,
    GRAPHQL_REQUESTS,
    operation_label,
)

OK = "ok"
SUBSCRIPTION = "subscription"


class OperationMetrics(SchemaExtension):
    """Counts each operation by name, type and outcome, and times it. Listed before ErrorCodes, so
    it sees the codes clients see. An anonymous operation is named by its first root field
    (`{ tickets { … } }` counts as `tickets`): the clients' usual queries have no name."""

    def on_operation(self) -> Iterator[None]:
        started = time.perf_counter()
        GRAPHQL_IN_FLIGHT.inc()
        self._in_flight = True
        status = ErrorCode.BAD_USER_INPUT.value  # what Strawberry raises out of here: no query,
        try:  # an unknown operation name, a mutation over GET
            yield
            status = self._status()
        except (GeneratorExit, asyncio.CancelledError):
            status = self._status()  # a subscription its client ended: as its last message
            raise
        finally:
            self._done()
            name, kind = self._operation()
            GRAPHQL_REQUESTS.labels(name, kind, status).inc()
            if kind != SUBSCRIPTION:  # how long one stays open is no response time
                GRAPHQL_DURATION.labels(name, kind).observe(time.perf_counter() - started)

    def on_execute(self) -> Iterator[None]:
        # A subscription is in flight until it starts; then it is an open subscription
        # (ticketing_graphql_subscriptions_open), for as long as the client keeps it.
        if self.execution_context.operation_type.value == SUBSCRIPTION:
            self._done()
        yield

    def _done(self) -> None:
        if self._in_flight:
            self._in_flight = False
            GRAPHQL_IN_FLIGHT.dec()

    def _status(self) -> str:
        result = self.execution_context.result
        for error in getattr(result, "errors", None) or ():
            code = (error.extensions or {}).get("code")
            return code if code in _CODES else ErrorCode.INTERNAL.value
        return OK

    def _operation(self) -> tuple[str, str]:
        context = self.execution_context
        document = context.graphql_document
        if document is None:  # not even parsed
            return operation_label(context.operation_name), "unknown"
        try:
            kind = context.operation_type.value
        except Exception:  # an operation name the document does not have
            kind = "unknown"
        name = context.operation_name
        if name is None:
            operation = get_first_operation(document)
            first = operation.selection_set.selections[0] if operation else None
            name = first.name.value if isinstance(first, FieldNode) else None
        return operation_label(name), kind


_CODES = frozenset(code.value for code in ErrorCode)


async def metrics(request: Request) -> Response:
    # Reading every worker's file is file I/O: off the event loop.
    return Response(await run_in_threadpool(exposition), media_type=CONTENT_TYPE)


def metrics_route() -> Route:
    return Route("/metrics", metrics, methods=["GET"])
