"""The gateway's HTTP protocol (gateway/edge.py, gateway/response_writes.py) against a real uvicorn
server on a free port: a response with a length goes out in one socket write, head and body, and
is whole; a HEAD answer, a streamed (chunked) response, `Expect: 100-continue` and an app failing
after it started its response reach the client as before, nothing held back."""

from __future__ import annotations

import asyncio
import contextlib
import functools
from collections.abc import AsyncIterator
from typing import Any

import pytest
import uvicorn

from gateway.edge import AddressCap, EdgeHttpProtocol, EdgeLimits
from tests.support.servers import free_port
from tests.support.waiting import until_async

BODY = b'{"data":{"events":' + b"x" * 5000 + b"}}"


class Writes:
    """Every write of the server's connections, in order."""

    def __init__(self) -> None:
        self.writes: list[bytes] = []


class Recording:
    def __init__(self, transport: Any, writes: Writes) -> None:
        self._transport, self._writes = transport, writes

    def write(self, data: bytes) -> None:
        self._writes.writes.append(bytes(data))
        self._transport.write(data)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


class RecordingProtocol(EdgeHttpProtocol):
    def __init__(self, *args: Any, writes: Writes, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self._writes = writes

    def connection_made(self, transport):  # type: ignore[override]
        super().connection_made(transport)
        self.transport = Recording(transport, self._writes)  # type: ignore[assignment]


async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    path = scope["path"]
    if path == "/stream":
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"first", "more_body": True})
        await asyncio.sleep(0.5)  # the client must have the head and the first chunk by now
        await send({"type": "http.response.body", "body": b"second", "more_body": False})
        return
    if path == "/fail":
        headers = [(b"content-length", b"10")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        raise RuntimeError("failed after starting")
    answer = body or BODY
    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(answer))]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": answer})


@pytest.fixture
async def server() -> AsyncIterator[tuple[int, Writes]]:
    writes = Writes()
    edge = EdgeLimits(header_timeout=10, body_timeout=10, addresses=AddressCap(0, ()))
    port = free_port()
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        http=functools.partial(RecordingProtocol, edge=edge, writes=writes),  # type: ignore[arg-type]
        log_config=None,
        access_log=False,
        lifespan="off",
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())

    async def started() -> bool:
        return server.started

    await until_async(started, bool, timeout=10)
    try:
        yield port, writes
    finally:
        server.should_exit = True
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def read_response(
    reader: asyncio.StreamReader, *, head_only: bool = False
) -> tuple[bytes, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    if head_only:
        return head, b""
    length = next(
        int(line.split(b":")[1])
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length")
    )
    return head, await reader.readexactly(length)


async def test_a_response_with_a_length_is_one_write_and_whole(server):
    port, writes = server
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    for _ in range(2):  # kept alive: the second is written the same way
        writer.write(b"GET /search HTTP/1.1\r\nHost: x\r\n\r\n")
        head, body = await read_response(reader)
        assert head.startswith(b"HTTP/1.1 200 OK\r\n")
        assert body == BODY
    writer.close()
    assert len(writes.writes) == 2
    assert all(w.startswith(b"HTTP/1.1 200 OK") and w.endswith(BODY) for w in writes.writes)


async def test_head_streamed_and_100_continue_are_not_held(server):
    port, _ = server
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"HEAD /search HTTP/1.1\r\nHost: x\r\n\r\n")
    head, _ = await read_response(reader, head_only=True)
    assert b"content-length: %d" % len(BODY) in head.lower()
    # The connection goes on: the next answer is read after the head, nothing in between.
    writer.write(b"GET /stream HTTP/1.1\r\nHost: x\r\n\r\n")
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 0.4)
    assert b"transfer-encoding: chunked" in head.lower()
    assert await asyncio.wait_for(reader.readuntil(b"first\r\n"), 0.4) == b"5\r\nfirst\r\n"
    assert await reader.readuntil(b"0\r\n\r\n") == b"6\r\nsecond\r\n0\r\n\r\n"
    writer.write(
        b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n"
    )
    assert (
        await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 2) == b"HTTP/1.1 100 Continue\r\n\r\n"
    )
    writer.write(b"hello")
    _, body = await read_response(reader)
    assert body == b"hello"
    writer.close()


async def test_an_app_failing_after_its_start_sends_the_head_then_closes(server):
    port, _ = server
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"GET /fail HTTP/1.1\r\nHost: x\r\n\r\n")
    received = await asyncio.wait_for(reader.read(), 5)  # until the server closes
    assert received.startswith(b"HTTP/1.1 200 OK\r\n")
    assert received.endswith(b"\r\n\r\n")  # the head, and no body
    writer.close()
