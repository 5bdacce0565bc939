"""A request still in flight when the gateway's shutdown grace runs out.

On SIGTERM uvicorn stops accepting connections and lets the requests in flight finish for
SHUTDOWN_GRACE_SECONDS; then it cancels them. A cancelled request used to get uvicorn's bare
`500 Internal Server Error`: an INTERNAL, which docs/api.md keeps for bugs, for what is an
outage of this one process (a createPayment waiting on Stripe through payments can outlast the
grace: PAYMENT_RPC_TIMEOUT_SECONDS is longer). It gets `503` with `Retry-After` and the code
UNAVAILABLE instead, in the shape of its path, so a client sends the identical request again
(docs/api.md IDEM-6) and another replica, or this one restarted, answers it.

A response already started cannot be taken back: its connection is closed, as before, which a
client sees as a lost response (also retried under IDEM-6).
"""

from __future__ import annotations

import asyncio
import logging

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from common.errors import ErrorCode
from gateway.http_errors import send_error

log = logging.getLogger("gateway")

MESSAGE = "The server is restarting, try again shortly"
RETRY_AFTER_SECONDS = 1


class AnswerCutOffRequests:
    """ASGI middleware: an HTTP request cancelled before its response started is answered 503
    UNAVAILABLE with `Retry-After`, not left to the server's 500."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def send_noting_start(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, send_noting_start)
        except asyncio.CancelledError:
            if started:
                raise
            # Only the server cancels a request's own task (a client that goes away is told by
            # `receive`, not by a cancellation): it is shutting down. The answer is written now
            # and the task ends normally; the server closes the connection after it.
            log.warning(
                "%s %s cut off by the shutdown: answered 503", scope["method"], scope["path"]
            )
            await send_error(
                scope,
                send,
                503,
                MESSAGE,
                ErrorCode.UNAVAILABLE.value,
                headers={"retry-after": str(RETRY_AFTER_SECONDS)},
            )
