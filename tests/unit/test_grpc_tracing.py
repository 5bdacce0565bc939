"""A gRPC call's spans: the caller's CLIENT span is the parent of the callee's SERVER span, in
which the callee's log lines are written; a failure is marked on each side as its own."""

from __future__ import annotations

import asyncio
import logging

import grpc
import pytest
from opentelemetry import trace
from opentelemetry.trace import SpanKind

from common.errors import NotFound
from common.grpc_client import ServiceChannel
from common.grpc_server import GrpcServer
from tests.support.tracing import parent_of

ECHO = "/bench.Echo/Echo"


@pytest.fixture
async def echo_channel():
    async def echo(request: bytes, context) -> bytes:
        if request == b"missing":
            raise NotFound("No such thing")
        if request == b"bug":
            raise RuntimeError("a bug")
        return request

    server = GrpcServer(verifier=None, grace_seconds=0)
    server.server.add_generic_rpc_handlers(
        (
            grpc.method_handlers_generic_handler(
                "bench.Echo", {"Echo": grpc.unary_unary_rpc_method_handler(echo)}
            ),
        )
    )
    port = await server.start("127.0.0.1", 0)
    channel = ServiceChannel(f"127.0.0.1:{port}")
    try:
        yield channel
    finally:
        await channel.close()
        await server.stop()


async def client_and_server(spans) -> tuple:
    """The call's CLIENT and SERVER spans, once both have ended. The callee ends its span after
    it has sent the status, so the caller can hold its answer a moment before the callee's span
    is finished: wait for it (at most 5 s) rather than read the spans too early."""
    async with asyncio.timeout(5):
        while True:
            finished = spans.get_finished_spans()
            found = {s.kind: s for s in finished if s.kind in (SpanKind.CLIENT, SpanKind.SERVER)}
            if len(found) == 2:
                return found[SpanKind.CLIENT], found[SpanKind.SERVER]
            await asyncio.sleep(0.01)


class SpanOfLines(logging.Handler):
    """The span current when each line was logged."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.spans: dict[str, int] = {}

    def emit(self, record: logging.LogRecord) -> None:
        self.spans[record.getMessage()] = trace.get_current_span().get_span_context().span_id


async def test_the_callee_continues_the_callers_trace(echo_channel, spans):
    method = echo_channel.channel.unary_unary(ECHO)
    lines = SpanOfLines()
    logger = logging.getLogger("common.grpc_server")
    level = logger.level
    logger.addHandler(lines)
    logger.setLevel(logging.INFO)
    try:
        assert await echo_channel.call(method, b"hi") == b"hi"
    finally:
        logger.removeHandler(lines)
        logger.setLevel(level)
    client, server = await client_and_server(spans)
    finished = spans.get_finished_spans()
    assert client.name == server.name == ECHO
    assert parent_of(server, finished) is client
    assert server.attributes["rpc.service"] == "bench.Echo"
    assert client.status.is_ok and server.status.is_ok
    assert lines.spans["rpc"] == server.context.span_id  # the callee's line of the call


async def test_a_callers_mistake_is_an_error_to_the_caller_only(echo_channel, spans):
    method = echo_channel.channel.unary_unary(ECHO)
    with pytest.raises(NotFound):
        await echo_channel.call(method, b"missing")
    client, server = await client_and_server(spans)
    code = grpc.StatusCode.NOT_FOUND.value[0]
    assert server.attributes["rpc.grpc.status_code"] == code and server.status.is_ok
    assert client.attributes["rpc.grpc.status_code"] == code and not client.status.is_ok
    assert not server.events  # no exception event for an answer given on purpose


async def test_a_bug_is_an_error_on_both_sides(echo_channel, spans):
    method = echo_channel.channel.unary_unary(ECHO)
    with pytest.raises(Exception):  # noqa: B017 (INTERNAL, as the caller sees it)
        await echo_channel.call(method, b"bug")
    for span in await client_and_server(spans):
        assert not span.status.is_ok, span.kind
