"""How a trace's context travels: into outbox documents, onto AMQP headers, out of them into a
consumer's span, and through Redis for an expiry; and what a process without an OTLP endpoint
records (nothing) and still has (trace ids for its logs)."""

from __future__ import annotations

from concurrent import futures

import grpc
from opentelemetry import trace
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2, trace_service_pb2_grpc
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.trace import SpanKind, StatusCode

from common import tracing
from common.config import CommonSettings
from tests.support.tracing import parent_of


def test_outbox_documents_carry_the_context_they_were_recorded_in(spans):
    assert tracing.outbox_trace_fields() == {}  # no request, no event: nothing to continue
    with tracing.tracer.start_as_current_span("CreateOrder") as span:
        fields = tracing.outbox_trace_fields()
    ids = span.get_span_context()
    traceparent = fields["trace"]["traceparent"]
    assert traceparent.startswith(f"00-{ids.trace_id:032x}-{ids.span_id:016x}-")


def test_a_published_message_continues_its_events_trace_and_its_consumer_is_a_child(spans):
    with tracing.tracer.start_as_current_span("CreateOrder"):
        stored = tracing.outbox_trace_fields()
    doc = {"_id": "e1", "routing_key": "order.created", **stored}
    [(publish, headers)] = tracing.start_publish_spans([doc], "ns.events")
    tracing.end_publish_spans([(publish, headers)], [None])
    with tracing.consuming(
        headers, routing_key="order.created", message_id="e1", queue="ns.tickets", attempt=1
    ):
        with tracing.tracer.start_as_current_span("handler"):
            carried_on = tracing.outbox_trace_fields()

    finished = spans.get_finished_spans()
    by_name = {s.name: s for s in finished}
    request, sent = by_name["CreateOrder"], by_name["publish order.created"]
    process = by_name["process order.created"]
    assert {s.context.trace_id for s in finished} == {request.context.trace_id}
    assert parent_of(sent, finished) is request and sent.kind is SpanKind.PRODUCER
    assert parent_of(process, finished) is sent and process.kind is SpanKind.CONSUMER
    assert process.attributes["messaging.message.id"] == "e1"
    assert process.attributes["messaging.consumer.group.name"] == "ns.tickets"
    # The events the handler records go on in the same trace.
    assert f"{request.context.trace_id:032x}" in carried_on["trace"]["traceparent"]


def test_a_message_without_a_context_starts_a_trace_of_its_own(spans):
    with tracing.tracer.start_as_current_span("unrelated") as ambient:
        with tracing.consuming(
            {}, routing_key="order.expired", message_id="e2", queue="q", attempt=1
        ) as span:
            pass
    assert span.get_span_context().trace_id != ambient.get_span_context().trace_id
    [doc_span] = [s for s in spans.get_finished_spans() if s.name == "process order.expired"]
    assert doc_span.parent is None


def test_a_waiting_event_is_no_error_and_a_failure_is(spans):
    for waiting in (True, False):
        with tracing.consuming(
            {}, routing_key="ticket.updated", message_id="e", queue="q", attempt=2
        ) as span:
            tracing.handling_failed(span, LookupError("version 3 first"), waiting=waiting)
    waited, failed = spans.get_finished_spans()
    assert waited.status.is_ok and waited.attributes["error.type"] == "LookupError"
    assert not failed.status.is_ok


def test_a_carrier_survives_redis_and_garbage_is_no_context():
    carrier = {"traceparent": "00-" + "a" * 32 + "-" + "b" * 16 + "-01", "tracestate": "k=v"}
    assert tracing.parse_carrier(tracing.serialize_carrier(carrier)) == carrier
    assert tracing.parse_carrier(tracing.serialize_carrier(carrier).encode()) == carrier
    assert tracing.serialize_carrier({}) == ""
    for garbage in ("", None, "not json", "[1]", '{"traceparent": 5}'):
        assert tracing.parse_carrier(garbage) == {}


def test_a_served_calls_span_continues_the_caller_is_current_inside_and_ends_after(spans):
    with tracing.tracer.start_as_current_span("caller") as caller:
        carrier = tracing.current_carrier()
    outside = trace.get_current_span()
    method = "/ticketing.catalogue.v1.CatalogueService/SearchEvents"
    with tracing.incoming_call(method, carrier):
        inside = trace.get_current_span()
        assert inside.get_span_context().trace_id == caller.get_span_context().trace_id
    assert trace.get_current_span() is outside
    (served,) = [s for s in spans.get_finished_spans() if s.kind is SpanKind.SERVER]
    assert served.context.span_id == inside.get_span_context().span_id
    assert served.parent.span_id == caller.get_span_context().span_id
    assert served.attributes["rpc.method"] == "SearchEvents"


def test_a_served_call_that_raises_still_ends_its_span_and_restores_the_context(spans):
    outside = trace.get_current_span()
    try:
        with tracing.incoming_call("/a.B/C", {}):
            raise ValueError("boom")
    except ValueError:
        pass
    assert trace.get_current_span() is outside
    (served,) = spans.get_finished_spans()
    assert served.parent is None  # no traceparent: a trace of its own
    assert served.status.status_code is StatusCode.UNSET  # rpc_failed says what failed
    assert not served.events  # the exception is not recorded


def test_without_an_endpoint_nothing_is_recorded_but_ids_exist():
    settings = CommonSettings.from_env({})
    provider = tracing.build_provider("orders", settings)
    span = provider.get_tracer("t").start_span("CreateOrder")
    assert not span.is_recording()
    assert span.get_span_context().is_valid  # a trace id for the logs, and to pass on
    assert provider.resource.attributes["service.name"] == "orders"
    assert not tracing.exporting(settings)


def test_with_an_endpoint_spans_are_recorded_and_the_service_name_can_be_set():
    settings = CommonSettings.from_env(
        {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4317", "OTEL_SERVICE_NAME": "orders-eu"}
    )
    provider: TracerProvider = tracing.build_provider("orders", settings)
    try:
        span = provider.get_tracer("t").start_span("CreateOrder")
        assert span.is_recording()
        assert provider.resource.attributes["service.name"] == "orders-eu"
    finally:
        provider.shutdown()


class Collector(trace_service_pb2_grpc.TraceServiceServicer):
    """An OTLP/gRPC trace receiver, as a collector runs one on port 4317."""

    def __init__(self) -> None:
        self.received: list[trace_service_pb2.ExportTraceServiceRequest] = []

    def Export(self, request, context):
        self.received.append(request)
        return trace_service_pb2.ExportTraceServiceResponse()


def test_with_an_endpoint_spans_reach_the_collector():
    collector = Collector()
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    trace_service_pb2_grpc.add_TraceServiceServicer_to_server(collector, server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    settings = CommonSettings.from_env({"OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{port}"})
    provider = tracing.build_provider("orders", settings)
    try:
        provider.get_tracer("t").start_span("CreateOrder").end()
        assert provider.force_flush(10_000)
    finally:
        provider.shutdown()
        server.stop(None)
    [request] = collector.received
    [resource_spans] = request.resource_spans
    attributes = {a.key: a.value.string_value for a in resource_spans.resource.attributes}
    assert attributes["service.name"] == "orders"
    assert [s.name for s in resource_spans.scope_spans[0].spans] == ["CreateOrder"]
