"""A stateful stand-in for the Stripe API, for development and tests (never shipped: the images'
build context is an allowlist without it). It answers, in memory and in Stripe's JSON, what the
official SDK sends for PaymentIntents, Refunds, Express Accounts, Account Links, Transfers,
Transfer Reversals and Balance Transactions, with Stripe's error shapes, list envelope, id
prefixes, `Idempotency-Key` replay and the `sk_` key check. docs/stripe-standin.md describes it;
tests/integration/test_stripe_standin_connect.py drives it through the SDK, and
tests/contract/stripe_contract.json (from Stripe's OpenAPI description) says what its answers
must look like.

    python -m stripe_standin --port 12111 [--latency-ms 0]
"""

from stripe_standin.app import StripeStandIn

__all__ = ["StripeStandIn"]
