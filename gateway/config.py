from __future__ import annotations

from dataclasses import dataclass

from common.config import CommonSettings, ConfigError, read_secret


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

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.graphql_max_depth < 2:
            raise ConfigError("GRAPHQL_MAX_DEPTH must be at least 2")

    def webhook_secret(self) -> str | None:
        secret = read_secret(
            self.stripe_webhook_secret, self.stripe_webhook_secret_file, "STRIPE_WEBHOOK_SECRET"
        )
        return secret.strip() if secret else None
