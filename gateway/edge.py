"""The gateway's connections at the edge: how long a client may take to send a request, how long an
idle connection is kept, and how many connections one address may hold (issue 18: 300 trickling
requests were all still open after 40 s).

- **Request headers** must be complete within HTTP_HEADER_TIMEOUT_SECONDS of the connection being
  accepted, or of the first byte of the next request on a kept-alive connection; otherwise the
  connection is closed (with 408 if part of a request had arrived).
- **A request body** must be complete within HTTP_BODY_TIMEOUT_SECONDS of its headers (a 1 MiB
  body, MAX_REQUEST_BODY_BYTES, at 35 KB/s or more); otherwise 408 and the connection is closed.
  Time while the gateway itself has stopped reading (flow control, a pipelined request waiting
  its turn) does not count against the client.
- **Between requests** a kept-alive connection is closed after HTTP_KEEPALIVE_SECONDS of silence
  (uvicorn's own timer, set from our setting). A byte stops that timer, so a client trickling
  bytes between requests meets the header timeout instead.
- **Connections per client address**, per gateway process (CONNECTIONS_PER_ADDRESS; a WebSocket
  counts until it closes): one over it is closed as soon as it is accepted, before anything is
  read. No 429: answering before reading the request, then closing with the request unread,
  makes the kernel send a reset that often destroys the answer before the client reads it.
  Peers in TRUSTED_PROXIES are not counted (behind the ingress every connection comes from it;
  the ingress caps addresses itself, k8s/base/ingress.yaml). The peer is the TCP peer: nothing
  a client writes is read before the decision.

Why our own code: uvicorn has none of the first two (encode/uvicorn#157, "timeout-request-start"
and "timeout-request-complete", open since 2018): `timeout_keep_alive` is only armed after a
response and stopped by any byte, and `h11_max_incomplete_event_size` bounds the size of headers,
not their time. Hypercorn has a keep-alive and a per-read timeout but no deadline for a whole
request, and changing servers would lose httptools, uvloop and the Multiprocess supervisor
(gateway/__main__.py). So: a subclass of uvicorn's httptools protocol, which uvicorn accepts as
`http=`, hooking the parser callbacks uvicorn already has (`on_message_begin`,
`on_headers_complete`, `on_message_complete`) with one timer per connection; and a subclass of
its sans-I/O WebSocket protocol that gives the address's place back when the WebSocket closes
(the HTTP protocol's `connection_lost` is not called once the transport is handed over).

Closures are counted in `ticketing_gateway_connections_closed{reason}`, not logged: a slow-loris
attack would otherwise fill the log.
"""

from __future__ import annotations

import functools
import ipaddress
from asyncio import TimerHandle, Transport
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import orjson
from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol

from common.metrics.series import CONNECTIONS_CLOSED
from gateway.config import GatewaySettings
from gateway.http_errors import GRAPHQL_PATH, graphql_error, rest_error
from gateway.rate_limits.client_address import address_key
from gateway.response_writes import HeadWithBody
from gateway.websocket_protocol import WebSocketProtocol

REQUEST_TIMEOUT = "REQUEST_TIMEOUT"

# What a connection waits for from its client (none: a WebSocket now, or nothing to read).
_HEADERS, _BODY, _NOTHING = "headers", "body", "nothing"

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass
class AddressCap:
    """Open connections per client address in this process: at most `per_address` (0: no cap),
    peers in `exempt` uncounted."""

    per_address: int
    exempt: tuple[Network, ...]
    open: dict[str, int] = field(default_factory=dict)

    def admit(self, host: str | None) -> tuple[bool, str | None]:
        """Whether a connection from `host` may stay, and the key of the place it takes (None:
        it takes none, and gives none back)."""
        if not self.per_address or host is None or self._exempt(host):
            return True, None
        key = address_key(host)
        held = self.open.get(key, 0)
        if held >= self.per_address:
            return False, None
        self.open[key] = held + 1
        return True, key

    def release(self, key: str) -> None:
        held = self.open.get(key, 0) - 1
        if held > 0:
            self.open[key] = held
        else:
            self.open.pop(key, None)

    def _exempt(self, host: str) -> bool:
        try:
            ip = ipaddress.ip_address(host)
        except ValueError:
            return False
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
            ip = ip.ipv4_mapped
        return any(ip in network for network in self.exempt)


@dataclass(frozen=True)
class EdgeLimits:
    header_timeout: float
    body_timeout: float
    addresses: AddressCap

    @classmethod
    def from_settings(cls, settings: GatewaySettings) -> EdgeLimits:
        return cls(
            header_timeout=settings.http_header_timeout_seconds,
            body_timeout=settings.http_body_timeout_seconds,
            addresses=AddressCap(
                settings.connections_per_address, tuple(settings.trusted_proxy_networks())
            ),
        )


def http_protocol(settings: GatewaySettings) -> Callable[..., EdgeHttpProtocol]:
    """uvicorn's `http=`: the protocol of every connection this process accepts. A partial, not a
    class made here: uvicorn pickles its Config into each worker, and each worker unpickles its
    own AddressCap (the cap is per process)."""
    return functools.partial(EdgeHttpProtocol, edge=EdgeLimits.from_settings(settings))


class EdgeWebSocketProtocol(WebSocketProtocol):
    """uvicorn's sans-I/O WebSocket protocol (with its denial responses finished,
    gateway/websocket_protocol.py), which calls `on_lost` when its connection ends."""

    def __init__(self, *args: Any, on_lost: Callable[[], None] | None = None, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self._on_lost = on_lost

    def connection_lost(self, exc: Exception | None) -> None:
        try:
            super().connection_lost(exc)
        finally:
            if self._on_lost is not None:
                self._on_lost()


class EdgeHttpProtocol(HttpToolsProtocol):
    def __init__(self, *args: Any, edge: EdgeLimits, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.edge = edge
        self._deadline: TimerHandle | None = None
        self._waiting = _HEADERS
        self._request_begun = False  # bytes of a request line or headers have arrived
        self._address: str | None = None  # the place this connection holds in AddressCap
        if self.ws_protocol_class is not None:  # the WebSocket gives the place back when it ends
            self.ws_protocol_class = functools.partial(  # type: ignore[assignment]
                self.ws_protocol_class, on_lost=self._release_address
            )

    # ---- the connection

    def connection_made(self, transport: Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        admitted, self._address = self.edge.addresses.admit(self.client[0] if self.client else None)
        if not admitted:
            CONNECTIONS_CLOSED.labels("address_cap").inc()
            transport.close()
            return
        self._arm(self.edge.header_timeout, self._headers_late)

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        self._release_address()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        # Any byte stops uvicorn's keep-alive timer; while headers are awaited, the first one
        # starts ours (a client sending "\r\n" every few seconds meets it too).
        if self._waiting == _HEADERS and self._deadline is None:
            self._arm(self.edge.header_timeout, self._headers_late)
        super().data_received(data)

    def handle_websocket_upgrade(self) -> None:
        self._disarm()
        self._waiting = _NOTHING
        super().handle_websocket_upgrade()

    # ---- the parser's callbacks

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._request_begun = True
        if self._waiting == _HEADERS and self._deadline is None:  # a pipelined request's start
            self._arm(self.edge.header_timeout, self._headers_late)

    def on_headers_complete(self) -> None:
        self._disarm()
        self._request_begun = False
        before = self.cycle
        super().on_headers_complete()
        if self.cycle is not None and self.cycle is not before:  # a request's cycle, just made
            self.cycle.transport = HeadWithBody(self.transport, self.cycle)  # type: ignore[assignment]
        if self.parser.should_upgrade() and self._should_upgrade():
            self._waiting = _NOTHING  # a WebSocket: its own limits apply
            return
        self._waiting = _BODY
        self._arm(self.edge.body_timeout, self._body_late)

    def on_message_complete(self) -> None:
        super().on_message_complete()
        if self._waiting == _BODY:
            self._disarm()
            self._waiting = _HEADERS  # the next request's; its clock starts at its first byte

    # ---- the timers

    def _arm(self, seconds: float, late: Callable[[], None]) -> None:
        self._disarm()
        self._deadline = self.loop.call_later(seconds, late)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _headers_late(self) -> None:
        self._deadline = None
        if self.transport.is_closing():
            return
        CONNECTIONS_CLOSED.labels("header_timeout").inc()
        responding = self.cycle is not None and not self.cycle.response_complete
        if self._request_begun and not responding:
            self._answer_timeout(self.edge.header_timeout, path=None)
        self.transport.close()

    def _body_late(self) -> None:
        self._deadline = None
        if self.transport.is_closing():
            return
        if self.flow.read_paused:  # the gateway stopped reading, not the client
            self._arm(self.edge.body_timeout, self._body_late)
            return
        CONNECTIONS_CLOSED.labels("body_timeout").inc()
        cycle = self.cycle
        if cycle is not None and not cycle.response_started:
            self._answer_timeout(self.edge.body_timeout, path=self.scope.get("path"))
            # The app's next receive() is a disconnect, and nothing it sends is written.
            cycle.disconnected = True
            cycle.message_event.set()
        self.transport.close()

    def _answer_timeout(self, seconds: float, path: str | None) -> None:
        """408 in the JSON shape of the path asked for (gateway/http_errors.py), then close."""
        message = f"The request did not arrive within {seconds:g} seconds"
        if path == GRAPHQL_PATH:
            error = graphql_error(message, REQUEST_TIMEOUT)
        else:
            error = rest_error(message, REQUEST_TIMEOUT)
        body = orjson.dumps({"errors": [error]})
        head = [STATUS_LINE[408]]
        for name, value in self.server_state.default_headers:
            head += [name, b": ", value, b"\r\n"]
        head += [
            b"content-type: application/json\r\n",
            b"content-length: %d\r\n" % len(body),
            b"connection: close\r\n\r\n",
        ]
        self.transport.write(b"".join(head) + body)

    def _release_address(self) -> None:
        if self._address is not None:
            self.edge.addresses.release(self._address)
            self._address = None
