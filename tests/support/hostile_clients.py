"""Hostile clients of a gateway, for the tests that check it answers them and what it logs
(tests/integration/test_hostile_clients_log.py, a gateway of its own; tests/e2e/test_logs.py, a
whole run): refused WebSocket handshakes, malformed frames, HTTP mistakes. Each helper asserts
the answer (a 4xx or a close code); `error_lines` finds what the log must not hold."""

from __future__ import annotations

import contextlib
import json
import os
import socket

import httpx
import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect

PROTOCOL = "graphql-transport-ws"
FOREIGN = "https://evil.example"


def ws_url(base_url: str) -> str:
    return base_url.replace("http://", "ws://", 1) + "/graphql"


def port_of(base_url: str) -> int:
    return int(base_url.rsplit(":", 1)[1])


def refused_status(url: str, **options) -> int:
    with pytest.raises(InvalidStatus) as refused:
        with connect(url, open_timeout=10, **options):
            pass
    return refused.value.response.status_code


def refusal(url: str, **options) -> int:
    """The status of a refused handshake, or the close code of a connection closed at once."""
    try:
        with connect(url, open_timeout=10, **options) as ws:
            try:
                ws.recv(timeout=10)
            except ConnectionClosed:
                pass
            assert ws.close_code is not None
            return ws.close_code
    except InvalidStatus as refused:
        return refused.response.status_code


def raw_request(port: int, request: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(request)
        reply = b""
        while chunk := sock.recv(65536):
            reply += chunk
        return reply


def close_code_after(url: str, send) -> int | None:
    with connect(url, subprotocols=[PROTOCOL], open_timeout=10, max_size=None) as ws:  # type: ignore[list-item]
        send(ws)
        try:
            while True:
                ws.recv(timeout=10)
        except ConnectionClosed:
            pass
        return ws.close_code


def foreign_page_with_the_cookie(base_url: str) -> int:
    """Cross-site WebSocket hijacking: the session cookie from a foreign page."""
    return refused_status(
        ws_url(base_url),
        subprotocols=[PROTOCOL],
        origin=FOREIGN,
        additional_headers={"cookie": "session=x"},
    )


def hostile_handshakes(base_url: str, connections_per_address: int | None = None) -> None:
    """`connections_per_address`: the gateway's limit, to go over it (None: not tried)."""
    url = ws_url(base_url)
    assert foreign_page_with_the_cookie(base_url) == 403
    # A subprotocol the gateway does not speak, and none at all.
    assert refusal(url, subprotocols=["graphql-ws"]) in (403, 4406)
    assert refusal(url) in (403, 4406)
    # A path that takes no WebSocket.
    assert refusal(url.replace("/graphql", "/api/users/signin")) in (403, 404)
    # Broken handshakes: no key, a bad version, a POST upgrade.
    for request in (
        b"GET /graphql HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n",
        b"GET /graphql HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        b"Sec-WebSocket-Key: bm9wZQ==\r\nSec-WebSocket-Version: 7\r\n\r\n",
        b"GET /graphql HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        b"Sec-WebSocket-Key: short\r\nSec-WebSocket-Version: 13\r\n\r\n",
    ):
        reply = raw_request(port_of(base_url), request)
        assert reply.startswith(b"HTTP/1.1 4"), reply[:80]
    if connections_per_address is None:
        return
    with contextlib.ExitStack() as held:  # over the open connections per address
        for _ in range(connections_per_address):
            held.enter_context(connect(url, subprotocols=[PROTOCOL], open_timeout=10))  # type: ignore[list-item]
        assert refused_status(url, subprotocols=[PROTOCOL]) == 429


def masked_frame(first_byte: int, payload: bytes) -> bytes:
    mask = os.urandom(4)
    masked = bytes(byte ^ mask[i % 4] for i, byte in enumerate(payload))
    return bytes([first_byte, 0x80 | len(payload)]) + mask + masked


def hostile_frames(base_url: str, max_message_bytes: int) -> None:
    url = ws_url(base_url)
    for text in ("[]", "null", "not json", '{"type": "nope"}', '{"type": "subscribe"}'):
        assert close_code_after(url, lambda ws, t=text: ws.send(t)) == 4400, text
    # Binary, and a message over the size limit.
    assert close_code_after(url, lambda ws: ws.send(b"\x00\x01")) in (4400, 1003)
    assert close_code_after(url, lambda ws: ws.send("x" * (max_message_bytes + 1))) == 1009

    # A text frame that is not UTF-8: websockets' parser closes with 1007.
    def invalid_utf8(ws) -> None:
        ws.socket.sendall(masked_frame(0x81, b"\xff\xfe"))  # past the client's own checks

    assert close_code_after(url, invalid_utf8) == 1007

    # An unmasked frame from a client breaks the framing: 1002.
    def unmasked(ws) -> None:
        ws.socket.sendall(b"\x81\x02hi")

    assert close_code_after(url, unmasked) == 1002


def hostile_requests(base_url: str, max_body_bytes: int) -> None:
    with httpx.Client(base_url=base_url, timeout=30) as http:
        for body in (b"{", b"[1, 2", b"\xff", b"null", b"123"):
            reply = http.post(
                "/graphql", content=body, headers={"content-type": "application/json"}
            )
            assert 400 <= reply.status_code < 500, (body, reply.status_code)
        big = b'{"query": "' + b"x" * max_body_bytes + b'"}'
        reply = http.post("/graphql", content=big, headers={"content-type": "application/json"})
        assert reply.status_code == 413
        for token in ("garbage", "a.b.c", "eyJhbGciOiJub25lIn0.e30.", "x" * 5000):
            reply = http.post(
                "/graphql",
                json={"query": "{ currentUser { id } }"},
                headers={"authorization": f"Bearer {token}"},
            )
            # Answered as a signed-out request (or refused): no user, no 5xx.
            assert reply.status_code < 500 and 'currentUser":{' not in reply.text, reply.text
        reply = http.post("/graphql", json={"query": "{ nope }"})
        assert reply.status_code == 200 and reply.json()["errors"]


def error_lines(lines: list[str]) -> list[str]:
    """Every line at ERROR or above, or with a traceback above DEBUG (where `websockets` shows
    each refused handshake's exception, by design), or not our JSON at all (a bare traceback
    on stderr)."""
    bad = []
    for line in lines:
        if not line.startswith("{"):
            bad.append(line)
            continue
        entry = json.loads(line)
        if entry["level"] in ("error", "critical"):
            bad.append(line)
        elif entry["level"] != "debug" and ("exc" in entry or "Traceback" in line):
            bad.append(line)
    return bad
