"""How one service calls another over gRPC: a channel opened on first use (inside the running
event loop, which grpc.aio binds it to), this process's service token (common/service_identity.py)
and the caller's own token forwarded when the call acts for a user, a deadline, and failures
turned back into `AppError`s (a service that cannot be reached is UNAVAILABLE, never INTERNAL)."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import grpc

from common import tracing
from common.grpc_errors import from_rpc_error
from common.jwt import bearer_token
from common.service_identity import ServiceTokens

R = TypeVar("R")

# Service-to-service calls answer in milliseconds; a caller (the gateway, 10 s) should still get
# a clear UNAVAILABLE from us before its own deadline runs out.
CALL_TIMEOUT_SECONDS = 5.0

# Calls are balanced per call over every address the target resolves to (a headless Service
# gives one per ready pod; `dns:///tickets:50052`), with round_robin instead of gRPC's default
# pick_first, which sends everything over one connection to one replica for the channel's life.
# Servers close each connection after GRPC_MAX_CONNECTION_AGE_SECONDS (common/grpc_server.py):
# the channel then resolves the name again and connects to replicas added since.
LOAD_BALANCING_CONFIG = [{"round_robin": {}}]
# How soon a channel may resolve its target again (gRPC's default: 30 s, which would hold back
# the re-resolution a closed connection asks for); at most one DNS query a second per channel.
DNS_MIN_MS_BETWEEN_RESOLUTIONS = 1_000


def service_config(method_config: list[dict[str, Any]] | None = None) -> str:
    """A channel's service config (JSON): round_robin, and per-method settings if any."""
    config: dict[str, Any] = {"loadBalancingConfig": LOAD_BALANCING_CONFIG}
    if method_config:
        config["methodConfig"] = method_config
    return json.dumps(config)


def channel_options(
    method_config: list[dict[str, Any]] | None = None,
) -> list[tuple[str, int | str]]:
    """Options of every channel from one process of this system to another."""
    return [
        ("grpc.keepalive_time_ms", 30_000),
        ("grpc.keepalive_timeout_ms", 10_000),
        ("grpc.http2.max_pings_without_data", 0),
        ("grpc.dns_min_time_between_resolutions_ms", DNS_MIN_MS_BETWEEN_RESOLUTIONS),
        ("grpc.service_config", service_config(method_config)),
    ]


def forwarded_token(context: grpc.aio.ServicerContext) -> str | None:
    """The bearer token this RPC came with, to act for the same user on another service."""
    metadata = dict(context.invocation_metadata() or ())
    header = metadata.get("authorization")
    return bearer_token(header if isinstance(header, str) else None)


class ServiceChannel:
    """One peer service's channel. `close()` when the service stops."""

    def __init__(
        self,
        addr: str,
        timeout: float = CALL_TIMEOUT_SECONDS,
        *,
        identity: ServiceTokens | None = None,
        audience: str = "",
    ) -> None:
        self.addr = addr  # any gRPC target: host:port, dns:///name:port
        self.timeout = timeout
        # Who we are to the service at `addr` (named `audience`); None: no service token.
        self.identity = identity
        self.audience = audience
        self._channel: grpc.aio.Channel | None = None

    @property
    def channel(self) -> grpc.aio.Channel:
        if self._channel is None:
            self._channel = grpc.aio.insecure_channel(self.addr, channel_options())
        return self._channel

    async def call(
        self, method: Callable[..., Awaitable[R]], request: Any, token: str | None = None
    ) -> R:
        metadata: tuple[tuple[str, str], ...] = (
            (("authorization", f"Bearer {token}"),) if token else ()
        )
        if self.identity is not None:
            metadata = (*metadata, self.identity.metadata_for(self.audience))
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
