from __future__ import annotations

from dataclasses import dataclass

from common.config import CommonSettings, ConfigError, read_secret


@dataclass(frozen=True)
class PaymentsSettings(CommonSettings):
    stripe_secret_key: str | None = None
    stripe_secret_key_file: str | None = None
    # Points the Stripe SDK at a Stripe-compatible server (localstripe); unset: api.stripe.com.
    stripe_api_base: str | None = None
    stripe_timeout_seconds: float = 20.0

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.stripe_timeout_seconds <= 0:
            raise ConfigError("STRIPE_TIMEOUT_SECONDS must be positive")

    def secret_key(self) -> str:
        key = read_secret(self.stripe_secret_key, self.stripe_secret_key_file, "STRIPE_SECRET_KEY")
        if not key:
            raise ConfigError("STRIPE_SECRET_KEY or STRIPE_SECRET_KEY_FILE is required by payments")
        return key.strip()
