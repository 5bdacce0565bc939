from __future__ import annotations

from typing import Annotated

from pydantic import Field, SecretStr

from common.config import CommonSettings
from common.settings import POSITIVE, ConfigError, rule


def _stripe_secret_key(key: SecretStr) -> bool:
    return key.get_secret_value().strip().startswith(("sk_", "rk_"))


class PaymentsSettings(CommonSettings):
    """What the payments service reads."""

    stripe_secret_key: (
        Annotated[
            SecretStr,
            rule(
                _stripe_secret_key,
                "must be a Stripe secret key (sk_...) or restricted key (rk_...)",
            ),
        ]
        | None
    ) = Field(
        None,
        description="The Stripe API key payments charges with; only payments holds it. "
        "Required by payments.",
    )
    stripe_secret_key_file: str | None = Field(
        None, description="STRIPE_SECRET_KEY from this file (a mounted Secret)."
    )
    stripe_api_base: str | None = Field(
        None,
        description="Points the Stripe SDK at a Stripe-compatible server (localstripe); unset: "
        "api.stripe.com.",
    )
    stripe_timeout_seconds: Annotated[float, POSITIVE] = Field(
        20.0, description="How long a call to Stripe may take."
    )

    refund_rate_per_second: Annotated[float, POSITIVE] = Field(
        20.0,
        description="How many refunds a second a cancelled event's refund run makes at most "
        "(a token bucket; below Stripe's rate limit of 25 requests a second in test mode and "
        "100 in live mode, leaving room for charges and transfers).",
    )
    refund_run_batch: Annotated[int, POSITIVE] = Field(
        10,
        description="Orders a refund run walks between two commits of its cursor (a crash "
        "replays at most one batch, with the same refunds).",
    )
    refund_run_poll_seconds: Annotated[float, POSITIVE] = Field(
        5.0, description="How often the refund worker looks for refund runs to walk."
    )

    def secret_key(self) -> str:
        if self.stripe_secret_key is None:
            raise ConfigError("STRIPE_SECRET_KEY or STRIPE_SECRET_KEY_FILE is required by payments")
        return self.stripe_secret_key.get_secret_value().strip()
