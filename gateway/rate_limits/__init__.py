"""Rate limits in Redis, shared by every gateway worker and replica (`limiter`), on sign-in and
sign-up (`accounts`) and on /graphql (`graphql`), by user, account or client address
(`client_address`, the one place that decides who the client is, behind trusted proxies)."""

from __future__ import annotations

from common.rate_limiter import CHECK_TIMEOUT_SECONDS, Limiter, limiter
from gateway.rate_limits.accounts import AccountLimits
from gateway.rate_limits.client_address import client_address, trusted_proxies
from gateway.rate_limits.graphql import GraphQLLimits, RetryAfterHeader

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
