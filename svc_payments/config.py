from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Annotated
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator

from common.config import CommonSettings
from common.settings import NOT_NEGATIVE, POSITIVE, ConfigError, StrList, between, rule
from svc_payments.domain.fees import FeeSchedule, parse_fixed_fees
from svc_payments.domain.payouts import PayoutPolicy
from svc_payments.domain.reconciliation import ReconciliationPolicy

_POLICIES = ", ".join(p.value for p in PayoutPolicy)


def _stripe_secret_key(key: SecretStr) -> bool:
    return key.get_secret_value().strip().startswith(("sk_", "rk_"))


def _web_page_url(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and bool(parts.netloc) and not parts.query


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
        description="Points the Stripe SDK at a Stripe-compatible server (the project's stand-in, "
        "stripe_standin/); unset: api.stripe.com.",
    )
    stripe_timeout_seconds: Annotated[float, POSITIVE] = Field(
        20.0, description="How long a call to Stripe may take."
    )

    reconciliation_interval_seconds: Annotated[float, NOT_NEGATIVE] = Field(
        3600.0,
        description="How often payments reconciles its ledger with Stripe's balance "
        "transactions (a report in reconciliation_reports; docs/operations.md), the first run "
        "one interval after start; 0: never on its own (ReconcileLedger and `ticketing "
        "reconcile` still run it).",
    )
    reconciliation_grace_seconds: Annotated[float, NOT_NEGATIVE] = Field(
        900.0,
        description="Reconciliation judges nothing younger than this: a movement's other side "
        "may be on its way (a webhook retried, an entry not committed yet).",
    )
    reconciliation_overlap_seconds: Annotated[float, NOT_NEGATIVE] = Field(
        900.0,
        description="Each reconciliation window starts this long before the last one ended, "
        "so what appears late, dated before that end, is still judged (nothing is reported "
        "twice).",
    )

    def reconciliation_policy(self) -> ReconciliationPolicy:
        return ReconciliationPolicy(
            grace=timedelta(seconds=self.reconciliation_grace_seconds),
            overlap=timedelta(seconds=self.reconciliation_overlap_seconds),
        )

    seller_onboarding_url: Annotated[
        str,
        rule(_web_page_url, "must be an http:// or https:// URL of a web page, with no query"),
    ] = Field(
        "http://localhost:8000/payouts",
        description="The web app's seller page, where Stripe sends a seller back after its "
        "hosted onboarding (`?onboarding=return`) or when the link expired "
        "(`?onboarding=refresh`: the page asks for a fresh one). A seller's return path "
        "replaces its path, never its host.",
    )
    stripe_connect_country: Annotated[
        str,
        rule(lambda c: len(c) == 2 and c.isascii() and c.isupper(), "must be an ISO 3166-1 code"),
    ] = Field(
        "US",
        description="The country (ISO 3166-1 alpha-2, e.g. US, GB) of the Stripe Express "
        "accounts opened for sellers.",
    )

    buyer_fee_percent: Annotated[Decimal, between(0, 1000)] = Field(
        Decimal(0),
        description="The buyer's fee per ticket, in percent of the ticket's price (e.g. 10), "
        "added to BUYER_FEE_FIXED; rounded half up to the currency's minor unit once per "
        "ticket (svc_payments/domain/fees.py). Fixed for an order when payments first stores it.",
    )
    buyer_fee_fixed: StrList = Field(
        (),
        description="The buyer's fixed fee per ticket, per currency: comma-separated CODE:AMOUNT "
        "(e.g. USD:0.50,EUR:0.50,GBP:0.40,JPY:50), each exact in the currency's minor unit; "
        "a currency not named has none.",
    )
    seller_commission_percent: Annotated[Decimal, between(0, 100)] = Field(
        Decimal(0),
        description="What the platform keeps of the seller's price, in percent (e.g. 5); "
        "rounded half up once per ticket. The seller's proceeds are the price less it.",
    )

    @field_validator("buyer_fee_fixed")
    @classmethod
    def _buyer_fee_fixed(cls, entries: tuple[str, ...]) -> tuple[str, ...]:
        parse_fixed_fees(entries)
        return entries

    def fee_schedule(self) -> FeeSchedule:
        return FeeSchedule(
            buyer_fee_percent=self.buyer_fee_percent,
            buyer_fee_fixed=parse_fixed_fees(self.buyer_fee_fixed),
            seller_commission_percent=self.seller_commission_percent,
        )

    payout_policy: PayoutPolicy = Field(
        PayoutPolicy.AFTER_EVENT,
        description=f"When a seller is paid an order's proceeds ({_POLICIES}): after_event pays "
        "PAYOUT_DELAY_AFTER_EVENT_SECONDS after the order's event ends; after_delivery as soon "
        "as the seller delivered the order's tickets (delivery.completed), and never for an "
        "order not delivered (a missed delivery is refunded instead).",
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
