"""What the gateway records of every HTTP request: a span that roots its trace, and one JSON
access line when it is answered.

The line (logger `gateway.access`, message `request`) holds the method, the path (never the
query string: a GraphQL GET carries its arguments there), for GraphQL the operation's type, name
and top-level fields and the error codes of the answer, the status, the duration, the signed-in
user's id, the client's address, the request id and the trace id. Every other line logged while
the request is served carries the same request id and trace id.

The request id is the client's `X-Request-Id` when it is a sane one (1-128 letters, digits and
`._:-`), otherwise a new one; either way it is sent back in the response's `X-Request-Id`.

Each request starts a trace of its own, whatever `traceparent` the client sent: the public edge
does not let a client choose our trace ids or whether we sample. A well-formed one the client
sent is kept as a link, so a client's own trace can still be joined to ours.

Probes and scrapes (the admin port's `/healthz`, `/readyz`, `/healthz/deps` and `/metrics`, asked
every few seconds: gateway/admin.py) get no span, and their line is logged at DEBUG.
"""

from __future__ import annotations

import contextvars
import itertools
import logging
import re
import time
import uuid
from collections.abc import Collection, Iterator
from dataclasses import dataclass, field
from typing import Any

from graphql.language import FieldNode, OperationDefinitionNode
from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.trace import Link, SpanKind, Status, StatusCode
from strawberry.extensions import SchemaExtension

from common import tracing
from common.logging import bind_context, unbind_context

log = logging.getLogger("gateway.access")

REQUEST_ID_HEADER = "x-request-id"
_SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
_GRAPHQL_NAME = re.compile(r"[_A-Za-z][_0-9A-Za-z]{0,99}")
# Top-level fields named in the line at most (a query of 5,000 aliases is one line, not 5,000),
# and the longest name kept.
MAX_FIELDS = 5
MAX_NAME = 64


@dataclass
class Access:
    """What the request's handling learns about it, for its access line and span."""

    request_id: str
    user_id: str | None = None
    operation_type: str | None = None
    operation: str | None = None
    fields: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


_current: contextvars.ContextVar[Access | None] = contextvars.ContextVar("access", default=None)


def note_user(user_id: str) -> None:
    """The request is signed in as `user_id` (its token checked out)."""
    access = _current.get()
    if access is not None:
        access.user_id = user_id


def _header(scope: dict[str, Any], name: bytes) -> str | None:
    for key, value in scope.get("headers") or ():
        if key == name:
            return value.decode("latin-1")
    return None


def _client_link(scope: dict[str, Any]) -> list[Link]:
    traceparent = _header(scope, b"traceparent")
    if traceparent is None:
        return []
    carrier = {"traceparent": traceparent}
    tracestate = _header(scope, b"tracestate")
    if tracestate is not None:
        carrier["tracestate"] = tracestate
    remote = trace.get_current_span(tracing.context_of(carrier)).get_span_context()
    return [Link(remote)] if remote.is_valid else []


class AccessLog:
    """ASGI middleware around the whole app: the request's span, id and access line."""

    def __init__(self, app: Any, routes: Collection[str], probes: Collection[str]) -> None:
        self.app = app
        self.routes = frozenset(routes)
        self.probes = frozenset(probes)

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        method, path = scope["method"], scope["path"]
        given = _header(scope, b"x-request-id")
        request_id = given if given and _SANE_REQUEST_ID.fullmatch(given) else uuid.uuid4().hex
        access = Access(request_id)
        probe = path in self.probes
        span = None
        if not probe:
            span = tracing.tracer.start_span(
                f"{method} {path if path in self.routes else '(other)'}",
                context=otel_context.Context(),
                kind=SpanKind.SERVER,
                links=_client_link(scope),
                attributes={"http.request.method": method, "url.path": path[:200]},
            )
        span_token = otel_context.attach(trace.set_span_in_context(span)) if span else None
        log_token = bind_context(request_id=request_id)
        access_token = _current.set(access)
        status = 500  # unless a response starts

        async def send_observed(message: dict[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = [*message.get("headers", ()), (b"x-request-id", request_id.encode())]
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_observed)
        except BaseException as exc:
            if span is not None and span.is_recording():
                span.record_exception(exc)
            raise
        finally:
            try:
                ms = round((time.perf_counter() - started) * 1000, 1)
                self._log(scope, access, status, ms, probe=probe)
                if span is not None:
                    _finish(span, access, status)
            finally:
                _current.reset(access_token)
                unbind_context(log_token)
                if span_token is not None:
                    otel_context.detach(span_token)

    @staticmethod
    def _log(scope: dict[str, Any], access: Access, status: int, ms: float, *, probe: bool) -> None:
        client = scope.get("client")
        line: dict[str, Any] = {
            "method": scope["method"],
            "path": scope["path"][:200],
            "status": status,
            "duration_ms": ms,
            "user_id": access.user_id,
            "client": client[0] if client else None,
        }
        if access.operation_type is not None:
            line.update(
                operation_type=access.operation_type,
                operation=access.operation,
                fields=access.fields,
            )
        if access.errors:
            line["errors"] = access.errors
        level = logging.DEBUG if probe else logging.INFO
        if log.isEnabledFor(level):
            # Handed over directly: Logger.log would walk the stack for the caller's file and
            # line (a third of the line's cost), which the JSON line does not show.
            log.handle(log.makeRecord(log.name, level, "", 0, "request", None, None, extra=line))


def _finish(span: trace.Span, access: Access, status: int) -> None:
    if span.is_recording():
        span.set_attribute("http.response.status_code", status)
        if access.user_id:
            span.set_attribute("enduser.id", access.user_id)
        if access.operation_type is not None:
            span.set_attribute("graphql.operation.type", access.operation_type)
            span.set_attribute("graphql.operation.name", access.operation or "")
            span.set_attribute("graphql.fields", access.fields)
        if access.errors:
            span.set_attribute("graphql.error.codes", access.errors)
        if status >= 500:
            span.set_status(Status(StatusCode.ERROR))
    span.end()


def _operation(document: Any, name: str | None) -> OperationDefinitionNode | None:
    for definition in getattr(document, "definitions", ()):
        if isinstance(definition, OperationDefinitionNode) and (
            name is None or (definition.name is not None and definition.name.value == name)
        ):
            return definition
    return None


class OperationNames(SchemaExtension):
    """Tells the request's access line which GraphQL operation it was and which error codes it
    answered. First in the schema's extensions, so it sees the codes ErrorCodes gave."""

    def on_operation(self) -> Iterator[None]:
        yield
        access = _current.get()
        if access is None:
            return
        context = self.execution_context
        asked = context.operation_name  # the client's operationName, else the first's name
        definition = _operation(context.graphql_document, asked)
        access.operation_type = definition.operation.value if definition else "unknown"
        access.operation = asked if asked and _GRAPHQL_NAME.fullmatch(asked) else None
        if definition is not None:
            # Names from the client's text (a query that failed validation names fields of its
            # own invention): a few, each cut short.
            fields = (
                s.name.value[:MAX_NAME]
                for s in definition.selection_set.selections
                if isinstance(s, FieldNode)
            )
            access.fields = list(itertools.islice(dict.fromkeys(fields), MAX_FIELDS))
        errors = getattr(context.result, "errors", None) or ()
        codes = [(e.extensions or {}).get("code") for e in errors]
        access.errors = sorted({c for c in codes if isinstance(c, str)})
