"""One socket write per response, not two: uvicorn writes a response's status line and headers
as soon as the app starts it, then its body; each `transport.write` is a `send` of its own, and on
the loopback each runs the kernel's whole TCP path for its segment. For a search answer that was
15 % of the gateway's CPU per request (bench/README.md, "Gateway cost per search").

`HeadWithBody` is the transport as one response's cycle sees it: when the response has a length
(Content-Length, not chunked; not HEAD) and a body to come, its head is held and written together
with the body's first bytes. Everything else passes through at once: a `100 Continue`, a chunked
(streamed) response, an empty body. The head is never held past the response: its completion and
a close (the app failed after starting) write it first."""

from __future__ import annotations

from asyncio import Transport
from typing import Any

from uvicorn.protocols.http.httptools_impl import RequestResponseCycle


class HeadWithBody:
    __slots__ = ("_cycle", "_held", "_past_head", "_transport")

    def __init__(self, transport: Transport, cycle: RequestResponseCycle) -> None:
        self._transport = transport
        self._cycle = cycle
        self._held: bytes | None = None
        self._past_head = False

    def write(self, data: bytes) -> None:
        held = self._held
        if held is not None:
            self._held = None
            self._transport.write(held + data)
            return
        cycle = self._cycle
        if not self._past_head and cycle.response_started:
            # The first write after the response started is its status line and headers.
            self._past_head = True
            if (
                cycle.chunked_encoding is False
                and cycle.expected_content_length > 0
                and cycle.scope["method"] != "HEAD"
            ):
                self._held = bytes(data)
                return
        self._transport.write(data)

    def flush(self) -> None:
        held = self._held
        if held is not None:
            self._held = None
            self._transport.write(held)

    def close(self) -> None:
        self.flush()
        self._transport.close()

    def is_closing(self) -> bool:
        return self._transport.is_closing()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)
