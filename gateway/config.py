from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from common.config import CommonSettings, ConfigError, read_secret
from gateway.workers import CGROUP_ROOT, available_cpus


@dataclass(frozen=True)
class GatewaySettings(CommonSettings):
    gateway_port: int = 8000
    cookie_secure: bool = True
    graphql_max_depth: int = 10
    # Seconds a gRPC call from the gateway may take before the client sees UNAVAILABLE.
    rpc_timeout_seconds: float = 10.0
    # createPayment waits for Stripe (STRIPE_TIMEOUT_SECONDS in payments, 20 by default): its
    # deadline must be longer, or a buyer sees UNAVAILABLE for a charge that went through.
    payment_rpc_timeout_seconds: float = 45.0
    # Verifies `Stripe-Signature` on POST /webhooks/stripe; unset: the route answers 503.
    stripe_webhook_secret: str | None = None
    stripe_webhook_secret_file: str | None = None
    # Ticket reads served from Redis (gateway/ticket_cache/); false: every read asks tickets.
    ticket_cache_enabled: bool = True
    # How long a cached ticket or page lives at most: the bound on staleness should an
    # invalidating event be lost. Events and the gateway's own writes invalidate long before.
    ticket_cache_ttl_seconds: float = 300.0
    # Longest a cache command may take (and the wait for a free connection); past it the read
    # goes to tickets and the cache is skipped for a second, so a Redis that is down or slow
    # costs a request at most this, not the RPC timeout.
    ticket_cache_timeout_seconds: float = 0.5
    # Worker processes serving the gateway's port; 0: one per CPU the process may use (the
    # cgroup's CPU quota, e.g. a pod's CPU limit, else the CPUs it may run on). Each one costs
    # its own memory (~90 MiB RSS after load), more than one a supervisor too (~40 MiB).
    # `ticketing run` runs one.
    gateway_workers: int = 0

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.graphql_max_depth < 2:
            raise ConfigError("GRAPHQL_MAX_DEPTH must be at least 2")
        if self.ticket_cache_ttl_seconds < 1:
            raise ConfigError("TICKET_CACHE_TTL_SECONDS must be at least 1")
        if self.ticket_cache_timeout_seconds <= 0:
            raise ConfigError("TICKET_CACHE_TIMEOUT_SECONDS must be positive")
        if self.gateway_workers < 0:
            raise ConfigError("GATEWAY_WORKERS must be 0 (one per CPU) or more")

    def workers(self, cgroup_root: Path = CGROUP_ROOT) -> int:
        return self.gateway_workers or available_cpus(cgroup_root)

    def webhook_secret(self) -> str | None:
        secret = read_secret(
            self.stripe_webhook_secret, self.stripe_webhook_secret_file, "STRIPE_WEBHOOK_SECRET"
        )
        return secret.strip() if secret else None
