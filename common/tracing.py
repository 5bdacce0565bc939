"""OpenTelemetry traces: one trace from a GraphQL request through gRPC, MongoDB, the outbox and
RabbitMQ to every consumer, and on through the events those consumers record.

Every process installs the SDK's tracer provider at start (`configure_tracing`), so a trace id
exists for every request and every consumed event, and every log line of that work carries it
(common/logging.py). Spans are only recorded and exported when OTEL_EXPORTER_OTLP_ENDPOINT is
set: without it the sampler drops every span, and a dropped span costs an id and a context
switch, no attributes, no export. MongoDB commands get spans of their own only when exporting.

How the context travels:
- gateway -> services: gRPC metadata (`traceparent`, `tracestate`): a CLIENT span around each
  call (`outgoing_call`) and a SERVER span around each call served (`incoming_call`);
- a command -> its events: the unit of work stores the current context in each outbox document
  (`trace`, the W3C headers) in the committing transaction;
- outbox -> RabbitMQ: the publisher starts a PRODUCER span per message, a child of the context
  stored with it, and puts that span's context in the AMQP message headers;
- RabbitMQ -> consumer: the consumer's span is a CHILD of the message's publish span (not a
  link): a purchase stays one trace from the request to the last event it caused. Retries and
  redeliveries of a message are children of the same publish span;
- expiration: the context an OrderCreated arrived with is kept beside the schedule in Redis,
  and the OrderExpired published when the order falls due (up to ORDER_EXPIRATION_SECONDS
  later) continues that trace.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import socket
from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from opentelemetry import context as otel_context
from opentelemetry import propagate, trace
from opentelemetry.trace import SpanKind, Status, StatusCode

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider

    from common.config import CommonSettings

log = logging.getLogger(__name__)

# The API's proxy until a provider is installed; it follows the provider installed later.
tracer = trace.get_tracer("ticketing")


def exporting(settings: CommonSettings) -> bool:
    return bool(settings.otel_exporter_otlp_endpoint)


def build_provider(service: str, settings: CommonSettings) -> TracerProvider:
    """The SDK provider of this process: `service` names it (OTEL_SERVICE_NAME overrides);
    with an OTLP endpoint it samples as OTEL_TRACES_SAMPLER says (parent-based, always on by
    default) and exports in batches over OTLP/gRPC, without one it samples nothing."""
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.sampling import ALWAYS_OFF

    resource = Resource.create(
        {
            "service.name": settings.otel_service_name or service,
            "service.namespace": settings.namespace,
            "service.instance.id": f"{socket.gethostname()}-{os.getpid()}",
        }
    )
    if not exporting(settings):
        return TracerProvider(resource=resource, sampler=ALWAYS_OFF)
    from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    provider = TracerProvider(resource=resource)  # sampler: OTEL_TRACES_SAMPLER
    # The other OTEL_EXPORTER_OTLP_* (headers, certificate, timeout) are read by the exporter.
    exporter = OTLPSpanExporter(endpoint=settings.otel_exporter_otlp_endpoint)
    provider.add_span_processor(BatchSpanProcessor(exporter))
    return provider


def install(provider: TracerProvider, *, trace_mongo: bool) -> None:
    """Makes `provider` the process's (once per process: OpenTelemetry refuses a second one)."""
    trace.set_tracer_provider(provider)
    if trace_mongo:
        from opentelemetry.instrumentation.pymongo import PymongoInstrumentor

        # A command listener for every MongoClient made after this (Infrastructure makes them).
        PymongoInstrumentor().instrument(tracer_provider=provider)


def configure_tracing(service: str, settings: CommonSettings) -> None:
    """Called once at the start of a process (`ticketing serve`, a gateway worker)."""
    install(build_provider(service, settings), trace_mongo=exporting(settings))
    if exporting(settings):
        log.info("exporting traces over OTLP", extra={"service_name": service})


# -- gRPC ----------------------------------------------------------------------------------------
#
# Spans made here rather than by opentelemetry-instrumentation-grpc's aio interceptors: those
# cost twice as much per call (a grpc.aio client interceptor wraps every call in a task of its
# own), and their server side does not see `abort_with_status`, which every error of ours goes
# through (failed calls showed as OK, each with an AbortError event). Our interceptor and our
# two `call` methods already hold the method, the metadata and the outcome.


def _rpc_attributes(method: str) -> dict[str, str]:
    service, _, name = method.lstrip("/").partition("/")
    return {"rpc.system": "grpc", "rpc.service": service, "rpc.method": name}


@contextlib.contextmanager
def outgoing_call(
    method: Any, metadata: tuple[tuple[str, str], ...]
) -> Iterator[tuple[tuple[str, str], ...]]:
    """A CLIENT span around one call of `method` (a grpc.aio multicallable); yields `metadata`
    with the span's context added, for the callee to continue the trace."""
    path = getattr(method, "_method", b"")  # where grpc.aio's multicallable keeps its path
    name = path.decode() if isinstance(path, bytes) else str(path or "grpc")
    with tracer.start_as_current_span(
        name, kind=SpanKind.CLIENT, record_exception=False, set_status_on_exception=False
    ) as span:
        if span.is_recording():
            span.set_attributes(_rpc_attributes(name))
        carrier: dict[str, str] = {}
        propagate.inject(carrier)
        yield (*metadata, *carrier.items())


def call_failed(grpc_code: Any) -> None:
    """The call of the current CLIENT span failed with `grpc_code`."""
    span = trace.get_current_span()
    if span.is_recording():
        span.set_attribute("rpc.grpc.status_code", grpc_code.value[0])
        span.set_status(Status(StatusCode.ERROR, grpc_code.name))


# The parent of a call that brings no context: a trace of its own (a Context is immutable).
_NO_PARENT = otel_context.Context()


class incoming_call:  # used as a function: `with incoming_call(...)`
    """The SERVER span of one call, current while it is served: a child of the caller's
    context from the metadata.

    A class rather than a `start_as_current_span` block: that nests three generator-based
    context managers (the proxy tracer's, the SDK's, `use_span`), which cost the catalogue
    ~8 % of its CPU per search call with sampling off. This does what they do (start, make
    current, then restore the context and end the span, an exception neither recorded nor
    setting the status: rpc_failed says what failed), with two calls and no generator."""

    __slots__ = ("_span", "_token")

    def __init__(self, method: str, metadata: Mapping[str, Any]) -> None:
        parent = context_of(metadata) if "traceparent" in metadata else _NO_PARENT
        self._span = tracer.start_span(
            method,
            context=parent,
            kind=SpanKind.SERVER,
            record_exception=False,
            set_status_on_exception=False,
        )
        if self._span.is_recording():
            self._span.set_attributes(_rpc_attributes(method))

    def __enter__(self) -> None:
        self._token = otel_context.attach(trace.set_span_in_context(self._span))

    def __exit__(self, *exc_info: object) -> None:
        otel_context.detach(self._token)
        self._span.end()


def rpc_failed(grpc_code: Any, *, server_fault: bool) -> None:
    """Notes a call's failure on the current SERVER span; per the semantic conventions only a
    failure of ours (INTERNAL, UNAVAILABLE...) makes it an error."""
    span = trace.get_current_span()
    if not span.is_recording():
        return
    span.set_attribute("rpc.grpc.status_code", grpc_code.value[0])
    if server_fault:
        span.set_status(Status(StatusCode.ERROR, grpc_code.name))


# -- events --------------------------------------------------------------------------------------


def current_carrier() -> dict[str, str]:
    """The current context as W3C headers (`traceparent`, `tracestate`); empty without one."""
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    return carrier


def context_of(carrier: Mapping[str, Any] | None) -> otel_context.Context:
    """The context `carrier` (W3C headers) holds, from an empty one: a message without them
    starts a trace of its own rather than joining whatever happens to be current."""
    if not carrier:
        return otel_context.Context()
    headers = {k: v for k, v in carrier.items() if isinstance(v, str)}
    return propagate.extract(headers, context=otel_context.Context())


def outbox_trace_fields() -> dict[str, Any]:
    """What a unit of work writes on its outbox documents: the context they were recorded in."""
    carrier = current_carrier()
    return {"trace": carrier} if carrier else {}


def start_publish_spans(
    docs: Sequence[Mapping[str, Any]], exchange: str
) -> list[tuple[trace.Span, dict[str, str]]]:
    """A PRODUCER span per outbox document, each a child of the context stored with it, and the
    AMQP headers that carry it on."""
    started = []
    for doc in docs:
        routing_key = doc["routing_key"]
        span = tracer.start_span(
            f"publish {routing_key}", context=context_of(doc.get("trace")), kind=SpanKind.PRODUCER
        )
        if span.is_recording():
            span.set_attributes(
                {
                    "messaging.system": "rabbitmq",
                    "messaging.operation.type": "send",
                    "messaging.destination.name": exchange,
                    "messaging.rabbitmq.destination.routing_key": routing_key,
                    "messaging.message.id": doc["_id"],
                }
            )
        headers: dict[str, str] = {}
        propagate.inject(headers, context=trace.set_span_in_context(span))
        started.append((span, headers))
    return started


def end_publish_spans(
    started: Sequence[tuple[trace.Span, dict[str, str]]], outcomes: Sequence[object] | None
) -> None:
    """Ends the spans with each message's outcome: its confirm, or the exception it failed with
    (`outcomes` None: the batch failed as a whole)."""
    for i, (span, _) in enumerate(started):
        outcome = outcomes[i] if outcomes is not None else None
        if span.is_recording() and (outcomes is None or isinstance(outcome, BaseException)):
            cause = f"{type(outcome).__name__}: {outcome}" if outcome else "not confirmed"
            span.set_status(Status(StatusCode.ERROR, cause))
        span.end()


@contextlib.contextmanager
def consuming(
    headers: Mapping[str, Any] | None,
    *,
    routing_key: str,
    message_id: str | None,
    queue: str,
    attempt: int,
) -> Iterator[trace.Span]:
    """The CONSUMER span of one delivery, current while it is handled: a child of the span that
    published it, so what the handler does and records joins the publisher's trace."""
    with tracer.start_as_current_span(
        f"process {routing_key}",
        context=context_of(headers),
        kind=SpanKind.CONSUMER,
        record_exception=False,
        set_status_on_exception=False,
    ) as span:
        if span.is_recording():
            span.set_attributes(
                {
                    "messaging.system": "rabbitmq",
                    "messaging.operation.type": "process",
                    "messaging.rabbitmq.destination.routing_key": routing_key,
                    "messaging.message.id": message_id or "",
                    "messaging.consumer.group.name": queue,
                    "messaging.delivery.attempt": attempt,
                }
            )
        yield span


def handling_failed(span: trace.Span, exc: BaseException, *, waiting: bool) -> None:
    """A handler's failure on its span: one that waits for a predecessor is no error."""
    if not span.is_recording():
        return
    span.set_attribute("error.type", type(exc).__name__)
    if not waiting:
        span.set_status(Status(StatusCode.ERROR, f"{type(exc).__name__}: {exc}"[:200]))


def serialize_carrier(carrier: Mapping[str, str]) -> str:
    """A carrier as one string, for storage outside a document (Redis); '' when empty."""
    return json.dumps(dict(carrier), separators=(",", ":")) if carrier else ""


def parse_carrier(text: str | bytes | None) -> dict[str, str]:
    """What `serialize_carrier` wrote; anything unreadable is no context at all."""
    if not text:
        return {}
    try:
        carrier = json.loads(text)
    except ValueError:
        return {}
    if not isinstance(carrier, dict):
        return {}
    return {k: v for k, v in carrier.items() if isinstance(k, str) and isinstance(v, str)}
