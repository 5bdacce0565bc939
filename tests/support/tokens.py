"""Session tokens minted as a stack's auth mints them: with its private key, for its deployment."""

from __future__ import annotations

from collections.abc import Mapping

from common.clock import Clock
from common.config import CommonSettings
from common.jwt import TokenBinding, TokenIssuer


def issuer_for(
    env: Mapping[str, str],
    ttl_seconds: int = 3600,
    clock: Clock | None = None,
    private_key: str | None = None,
) -> TokenIssuer:
    """auth's TokenIssuer for the stack `env` configures: `private_key` (default
    JWT_PRIVATE_KEY) and the `iss`/`aud` its settings give (TICKETING_NAMESPACE, JWT_ISSUER...)."""
    binding = TokenBinding.of(CommonSettings.from_env(env))
    key = private_key if private_key is not None else env["JWT_PRIVATE_KEY"]
    return TokenIssuer(key, ttl_seconds, clock, binding=binding)
