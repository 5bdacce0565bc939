"""uvicorn's WebSocket protocol (websockets-sansio), with its denial responses finished.

A handshake refused with a response of the app's own (ASGI's WebSocket Denial Response: the 429
of the rate and connection limits, gateway/rate_limits/) is answered correctly, but uvicorn
0.54's websockets-sansio never marks that handshake complete, so when the app returns it logs
"ASGI callable returned without completing handshake." at ERROR: one ERROR line for every
refused client. Its wsproto protocol marks it; so does this one, once the whole response is
sent (as uvicorn's open pull request #3138 does; drop this class when a release has it)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol

if TYPE_CHECKING:
    from uvicorn._types import ASGISendEvent


class WebSocketProtocol(WebSocketsSansIOProtocol):
    async def send(self, message: ASGISendEvent) -> None:
        await super().send(message)
        if message["type"] == "websocket.http.response.body" and not message.get(
            "more_body", False
        ):
            self.handshake_complete = True  # the denial response was the handshake's answer
