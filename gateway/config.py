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
    # Worker processes serving the gateway's port; 0: one per CPU the process may use (the
    # cgroup's CPU quota, e.g. a pod's CPU limit, else the CPUs it may run on). Each one costs
    # its own memory (~90 MiB RSS after load), more than one a supervisor too (~40 MiB).
    # `ticketing run` runs one.
    gateway_workers: int = 0

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.graphql_max_depth < 2:
            raise ConfigError("GRAPHQL_MAX_DEPTH must be at least 2")
        if self.gateway_workers < 0:
            raise ConfigError("GATEWAY_WORKERS must be 0 (one per CPU) or more")

    def workers(self, cgroup_root: Path = CGROUP_ROOT) -> int:
        return self.gateway_workers or available_cpus(cgroup_root)

    def webhook_secret(self) -> str | None:
        secret = read_secret(
            self.stripe_webhook_secret, self.stripe_webhook_secret_file, "STRIPE_WEBHOOK_SECRET"
        )
        return secret.strip() if secret else None
