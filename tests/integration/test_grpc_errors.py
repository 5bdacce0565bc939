"""What a caller of any service sees when a handler raises something other than an AppError."""

from __future__ import annotations

import grpc
import pytest
from pymongo.errors import AutoReconnect

from common.grpc_server import GrpcServer
from common.retries import ConcurrentUpdate

pytestmark = pytest.mark.integration


def _identity(data: bytes) -> bytes:
    return data


@pytest.mark.parametrize(
    ("raised", "status"),
    [
        # Write conflicts that outlasted retry_transient, e.g. with a transaction a killed
        # replica left open (it holds its locks until the database aborts it): try again.
        (ConcurrentUpdate("tickets/t1 changed meanwhile"), grpc.StatusCode.UNAVAILABLE),
        (AutoReconnect("connection closed"), grpc.StatusCode.UNAVAILABLE),
        (RuntimeError("a bug"), grpc.StatusCode.INTERNAL),
    ],
    ids=["write-conflict", "mongo-dropped", "bug"],
)
async def test_an_outage_is_unavailable_and_only_a_bug_is_internal(raised, status):
    async def fail(request, context):
        raise raised

    handler = grpc.method_handlers_generic_handler(
        "test.Probe",
        {
            "Fail": grpc.unary_unary_rpc_method_handler(
                fail, request_deserializer=_identity, response_serializer=_identity
            )
        },
    )
    server = GrpcServer(None)
    server.add(lambda _, srv: srv.add_generic_rpc_handlers((handler,)), None, "test.Probe")
    port = await server.start("127.0.0.1", 0)
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            call = channel.unary_unary(
                "/test.Probe/Fail", request_serializer=_identity, response_deserializer=_identity
            )
            with pytest.raises(grpc.aio.AioRpcError) as failed:
                await call(b"")
    finally:
        await server.stop()
    assert failed.value.code() == status
    assert "a bug" not in (failed.value.details() or "")
