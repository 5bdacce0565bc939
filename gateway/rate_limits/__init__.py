"""Rate limits in Redis, shared by every gateway worker and replica (`limiter`), on sign-in and
sign-up (`accounts`) and on /graphql (`graphql`), by user, account or client address
(`client_address`, the one place that decides who the client is, behind trusted proxies)."""

from __future__ import annotations

from common.redis_client import redis_client
from gateway.config import GatewaySettings
from gateway.rate_limits.accounts import AccountLimits
from gateway.rate_limits.client_address import client_address, trusted_proxies
from gateway.rate_limits.graphql import GraphQLLimits, RetryAfterHeader
from gateway.rate_limits.limiter import Limiter

# The longest a limit check may wait for Redis (and for a free connection) before the limit's
# outage rule applies: a check is one short script, and a request must not wait on a dead Redis.
CHECK_TIMEOUT_SECONDS = 0.5


def limiter(settings: GatewaySettings) -> Limiter:
    """On a Redis client of its own that fails fast; connects to nothing yet."""
    return Limiter(
        redis_client(settings, fail_fast_seconds=CHECK_TIMEOUT_SECONDS), settings.namespace
    )


__all__ = [
    "CHECK_TIMEOUT_SECONDS",
    "AccountLimits",
    "GraphQLLimits",
    "Limiter",
    "RetryAfterHeader",
    "client_address",
    "limiter",
    "trusted_proxies",
]
