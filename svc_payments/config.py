from __future__ import annotations

from typing import Annotated

from pydantic import Field, SecretStr

from common.config import CommonSettings
from common.settings import NOT_NEGATIVE, POSITIVE, ConfigError, rule
from svc_payments.domain.payouts import SUPPORTED_POLICIES, PayoutPolicy

_POLICIES = ", ".join(p.value for p in PayoutPolicy)
_SUPPORTED = ", ".join(p.value for p in SUPPORTED_POLICIES)


def _supported_policy(policy: PayoutPolicy) -> bool:
    return policy in SUPPORTED_POLICIES


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

    payout_policy: Annotated[
        PayoutPolicy,
        rule(
            _supported_policy,
            f"must be {_SUPPORTED}: after_delivery needs the tickets' delivery to be recorded,"
            " which it is not yet",
        ),
    ] = Field(
        PayoutPolicy.AFTER_EVENT,
        description=f"When a seller is paid an order's proceeds ({_POLICIES}): after_event pays "
        "PAYOUT_DELAY_AFTER_EVENT_SECONDS after the order's event ends.",
    )
    payout_delay_after_event_seconds: Annotated[float, NOT_NEGATIVE] = Field(
        48 * 3600.0,
        description="How long after an order's event ends its seller's payout falls due (time "
        "for a buyer to report a problem); a rescheduled event moves it.",
    )
    payout_sweep_seconds: Annotated[
        float, rule(lambda v: 0 < v <= 3600, "must be above 0 and at most 3600")
    ] = Field(
        30.0,
        description="How often payments looks for payouts due (an indexed query that normally "
        "finds nothing); a full batch is followed by the next at once.",
    )

    def secret_key(self) -> str:
        if self.stripe_secret_key is None:
            raise ConfigError("STRIPE_SECRET_KEY or STRIPE_SECRET_KEY_FILE is required by payments")
        return self.stripe_secret_key.get_secret_value().strip()
