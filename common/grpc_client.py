"""How one service calls another over gRPC: a channel opened on first use (inside the running
event loop, which grpc.aio binds it to), the caller's own token forwarded when the call acts for
a user, a deadline, and failures turned back into `AppError`s (a service that cannot be reached
is UNAVAILABLE, never INTERNAL)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import grpc

from common import tracing
from common.errors import from_rpc_error
from common.jwt import bearer_token

R = TypeVar("R")

# Service-to-service calls answer in milliseconds; a caller (the gateway, 10 s) should still get
# a clear UNAVAILABLE from us before its own deadline runs out.
CALL_TIMEOUT_SECONDS = 5.0

_CHANNEL_OPTIONS = [
    ("grpc.keepalive_time_ms", 30_000),
    ("grpc.keepalive_timeout_ms", 10_000),
    ("grpc.http2.max_pings_without_data", 0),
]


def forwarded_token(context: grpc.aio.ServicerContext) -> str | None:
    """The bearer token this RPC came with, to act for the same user on another service."""
    metadata = dict(context.invocation_metadata() or ())
    header = metadata.get("authorization")
    return bearer_token(header if isinstance(header, str) else None)


class ServiceChannel:
    """One peer service's channel. `close()` when the service stops."""

    def __init__(self, addr: str, timeout: float = CALL_TIMEOUT_SECONDS) -> None:
        self.addr = addr
        self.timeout = timeout
        self._channel: grpc.aio.Channel | None = None

    @property
    def channel(self) -> grpc.aio.Channel:
        if self._channel is None:
            self._channel = grpc.aio.insecure_channel(self.addr, _CHANNEL_OPTIONS)
        return self._channel

    async def call(
        self, method: Callable[..., Awaitable[R]], request: Any, token: str | None = None
    ) -> R:
        metadata = (("authorization", f"Bearer {token}"),) if token else ()
        with tracing.outgoing_call(method, metadata) as metadata:
            try:
                return await method(request, metadata=metadata, timeout=self.timeout)
            except grpc.aio.AioRpcError as exc:
                tracing.call_failed(exc.code())
                raise from_rpc_error(exc) from None

    async def close(self) -> None:
        if self._channel is not None:
            await self._channel.close()
            self._channel = None
