"""The gateway's edge against a real gateway process (uvicorn, gateway/edge.py): slow requests are
closed within the header and body timeouts while other clients are served, an idle kept-alive
connection is closed, one address holds at most CONNECTIONS_PER_ADDRESS connections, and a
WebSocket must send `connection_init` in time and no message over SUBSCRIPTION_MAX_MESSAGE_BYTES.

The gateway alone (`python -m gateway`, the services nowhere): `{ __typename }` needs none. Slow
clients connect from loopback addresses other than 127.0.0.1 (bench/slow_clients.py), which is a
trusted proxy by default and so never capped."""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator

import httpx
import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection
from websockets.sync.client import connect as ws_connect

from bench.slow_clients import BODY, HEADERS, MIXED, SILENT, attack, sources
from common.processes import GRPC_SERVICES
from tests.support.servers import environ, free_port, stop_process, wait_for_port

pytestmark = pytest.mark.integration

TIMEOUT = 2.0  # HTTP_HEADER_TIMEOUT_SECONDS and HTTP_BODY_TIMEOUT_SECONDS here
# How late a closure may come after its timeout: the timer's own slack, a loaded test machine.
MARGIN = 4.0
TYPENAME = {"query": "{ __typename }"}


@pytest.fixture
def start_gateway(env) -> Iterator[Callable[..., str]]:
    """Starts the gateway with these settings over the test's; returns its base URL."""
    procs: list[subprocess.Popen] = []

    def start(**settings: str) -> str:
        port, admin_port = free_port(), free_port()
        nowhere = {f"{s.name.upper()}_ADDR": f"127.0.0.1:{free_port()}" for s in GRPC_SERVICES}
        values = {
            **env,
            **nowhere,
            "GATEWAY_PORT": str(port),
            "GATEWAY_ADMIN_PORT": str(admin_port),
            "GATEWAY_WORKERS": "1",
            "WEB_APP": "false",
            **settings,
        }
        proc = subprocess.Popen([sys.executable, "-m", "gateway"], env=environ(values))
        procs.append(proc)
        wait_for_port(port, 60, proc)
        return f"http://127.0.0.1:{port}"

    yield start
    for proc in procs:
        stop_process(proc)


def port_of(url: str) -> int:
    return int(url.rsplit(":", 1)[1])


def connect_from(source: str, url: str) -> socket.socket:
    sock = socket.create_connection(
        ("127.0.0.1", port_of(url)), timeout=10, source_address=(source, 0)
    )
    return sock


def request(sock: socket.socket) -> bytes:
    """A complete `{ __typename }` POST on `sock`, and what came back before it went quiet or
    closed (b"": the server closed the connection without an answer)."""
    body = json.dumps(TYPENAME).encode()
    head = (
        b"POST /graphql HTTP/1.1\r\nHost: gateway\r\nContent-Type: application/json\r\n"
        b"Content-Length: %d\r\n\r\n" % len(body)
    )
    try:
        sock.sendall(head + body)
        return read_response(sock)
    except (ConnectionResetError, BrokenPipeError):
        return b""


def read_response(sock: socket.socket) -> bytes:
    received = b""
    while b"\r\n\r\n" not in received or not received.endswith(b"}"):
        chunk = sock.recv(65_536)
        if not chunk:
            break
        received += chunk
    return received


def closed_by_server(sock: socket.socket, within: float) -> bool:
    """Whether the server closes `sock` within `within` seconds (what it sends first is read)."""
    sock.settimeout(within)
    try:
        while sock.recv(65_536):
            pass
    except TimeoutError:
        return False
    except ConnectionResetError:
        pass
    return True


async def typename_requests(url: str, source: str, stop: asyncio.Event) -> list[tuple[float, int]]:
    """`{ __typename }` from `source` every 50 ms until `stop`: when each was answered
    (time.monotonic()) and its status (negative: a 200 with the wrong body)."""
    answers = []
    transport = httpx.AsyncHTTPTransport(local_address=source)
    async with httpx.AsyncClient(base_url=url, transport=transport, timeout=30) as client:
        while not stop.is_set():
            reply = await client.post("/graphql", json=TYPENAME)
            ok = reply.status_code == 200 and reply.json() == {"data": {"__typename": "Query"}}
            answers.append((time.monotonic(), reply.status_code if ok else -reply.status_code))
            await asyncio.sleep(0.05)
    return answers


async def test_300_trickling_connections_are_closed_in_time_while_others_are_served(
    start_gateway,
):
    url = start_gateway(
        HTTP_HEADER_TIMEOUT_SECONDS=str(TIMEOUT),
        HTTP_BODY_TIMEOUT_SECONDS=str(TIMEOUT),
        HTTP_KEEPALIVE_SECONDS="1",
        CONNECTIONS_PER_ADDRESS="20",
    )
    stop = asyncio.Event()
    # Each slow client sends a byte every 0.5 s: more often than any idle timeout would allow.
    slow = asyncio.create_task(
        attack("127.0.0.1", port_of(url), MIXED, sources(20), interval=0.5, give_up=30)
    )
    served = asyncio.create_task(typename_requests(url, "127.0.0.99", stop))
    outcomes = await slow
    stop.set()
    answers = await served

    assert all(o.opened_at is not None for o in outcomes)  # none refused: 15 per address
    still_open = [o for o in outcomes if o.held is None]
    assert still_open == [], f"{len(still_open)} of {len(outcomes)} were open after 30 s"
    late = [o for o in outcomes if o.held is not None and o.held > TIMEOUT + MARGIN]
    assert late == [], [(o.kind, round(o.held or 0, 1)) for o in late]
    # A request that had begun is answered 408; a silent or idle connection is just closed.
    for outcome in outcomes:
        if outcome.kind in (HEADERS, BODY):
            assert outcome.received.startswith(b"HTTP/1.1 408 "), outcome
            assert b'"REQUEST_TIMEOUT"' in outcome.received
        elif outcome.kind == SILENT:
            assert outcome.received == b""
    body_timeout = next(o for o in outcomes if o.kind == BODY).received
    error = json.loads(body_timeout.split(b"\r\n\r\n", 1)[1])["errors"][0]
    assert error["extensions"]["code"] == "REQUEST_TIMEOUT"  # /graphql's error shape

    # The sentinel that the others were served during the attack: answers that came while at
    # least 250 of the slow connections were open, and every answer a 200.
    def open_at(moment: float) -> int:
        return sum((o.opened_at or 0) <= moment < (o.closed_at or math.inf) for o in outcomes)

    assert sum(1 for moment, _ in answers if open_at(moment) >= 250) >= 3, answers
    assert {status for _, status in answers} == {200}


def test_an_idle_kept_alive_connection_is_closed_after_the_keepalive_limit(start_gateway):
    url = start_gateway(HTTP_KEEPALIVE_SECONDS="1", HTTP_HEADER_TIMEOUT_SECONDS="30")
    with connect_from("127.0.0.2", url) as sock:
        # Kept alive: a second request on the same connection is answered.
        assert request(sock).startswith(b"HTTP/1.1 200 ")
        assert request(sock).startswith(b"HTTP/1.1 200 ")
        assert closed_by_server(sock, within=1 + MARGIN / 2)


def test_a_connection_that_sends_nothing_is_closed_after_the_header_timeout(start_gateway):
    url = start_gateway(HTTP_HEADER_TIMEOUT_SECONDS=str(TIMEOUT), HTTP_KEEPALIVE_SECONDS="60")
    with connect_from("127.0.0.2", url) as sock:
        assert closed_by_server(sock, within=TIMEOUT + MARGIN)


def test_one_address_holds_at_most_its_connections_and_gives_them_back(start_gateway):
    url = start_gateway(CONNECTIONS_PER_ADDRESS="3", HTTP_HEADER_TIMEOUT_SECONDS="60")
    with contextlib.ExitStack() as held:
        first = [held.enter_context(connect_from("127.0.0.2", url)) for _ in range(3)]
        over = held.enter_context(connect_from("127.0.0.2", url))
        # The fourth is closed before anything is read: no answer to a complete request.
        assert request(over) == b""
        # Another address still gets in, and so does 127.0.0.1, a trusted proxy, uncapped.
        with connect_from("127.0.0.3", url) as other:
            assert request(other).startswith(b"HTTP/1.1 200 ")
        trusted = [held.enter_context(connect_from("127.0.0.1", url)) for _ in range(5)]
        assert all(request(sock).startswith(b"HTTP/1.1 200 ") for sock in trusted)
        # The three are open and served; one closed gives its place back.
        assert all(request(sock).startswith(b"HTTP/1.1 200 ") for sock in first)
        first[0].close()
        time.sleep(0.3)  # until the server has seen the close
        with connect_from("127.0.0.2", url) as again:
            assert request(again).startswith(b"HTTP/1.1 200 ")


def websocket_from(source: str, url: str) -> ClientConnection:
    ws = ws_connect(
        url.replace("http://", "ws://") + "/graphql",
        sock=connect_from(source, url),
        subprotocols=["graphql-transport-ws"],  # type: ignore[list-item]
        open_timeout=10,
    )
    return ws


def test_a_websocket_holds_its_place_until_it_closes(start_gateway):
    url = start_gateway(CONNECTIONS_PER_ADDRESS="2", HTTP_HEADER_TIMEOUT_SECONDS="60")
    with websocket_from("127.0.0.2", url) as first, websocket_from("127.0.0.2", url) as second:
        for ws in (first, second):
            ws.send(json.dumps({"type": "connection_init", "payload": {}}))
            assert json.loads(ws.recv(10))["type"] == "connection_ack"
        with connect_from("127.0.0.2", url) as over:
            assert request(over) == b""
        first.close()
        time.sleep(0.3)
        with connect_from("127.0.0.2", url) as again:
            assert request(again).startswith(b"HTTP/1.1 200 ")


def test_a_websocket_without_connection_init_is_closed_with_4408(start_gateway):
    url = start_gateway(SUBSCRIPTION_INIT_TIMEOUT_SECONDS="1")
    with websocket_from("127.0.0.2", url) as ws:
        started = time.monotonic()
        with pytest.raises(ConnectionClosed) as closed:
            ws.recv(1 + MARGIN)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4408
    assert time.monotonic() - started < 1 + MARGIN


def test_a_websocket_message_over_the_limit_is_closed_with_1009(start_gateway):
    url = start_gateway(SUBSCRIPTION_MAX_MESSAGE_BYTES="2048")
    with websocket_from("127.0.0.2", url) as ws:
        ws.send(json.dumps({"type": "connection_init", "payload": {}}))
        assert json.loads(ws.recv(10))["type"] == "connection_ack"
        # Under the limit: answered, the connection open.
        ws.send(json.dumps({"type": "ping", "payload": {"pad": "x" * 1_900}}))
        assert json.loads(ws.recv(10))["type"] == "pong"
        ws.send(json.dumps({"type": "ping", "payload": {"pad": "x" * 2_100}}))
        with pytest.raises(ConnectionClosed) as closed:
            ws.recv(10)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1009
