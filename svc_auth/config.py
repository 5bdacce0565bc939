from __future__ import annotations

from typing import Annotated

from pydantic import Field

from common.config import CommonSettings
from common.settings import POSITIVE, ConfigError, PrivateKeyPem, at_least, between

# Sign-in throttling (svc_auth/service_layer/signin_throttle.py), each set by <NAME>_LIMIT and
# <NAME>_WINDOW_SECONDS.
SIGNIN_LIMITS = ("signin_account", "signin_device")

Limit = Annotated[int, at_least(0, "must be 0 (off) or more")]
Window = Annotated[int, at_least(1)]


class AuthSettings(CommonSettings):
    """What the auth service reads."""

    jwt_private_key: PrivateKeyPem | None = Field(
        None,
        description="The Ed25519 private key (PEM) auth signs session tokens with; only auth "
        "holds it. Inline newlines may be written as `\\n`. Required by auth.",
    )
    jwt_private_key_file: str | None = Field(
        None, description="JWT_PRIVATE_KEY from this file (a mounted Secret)."
    )
    jwt_ttl_seconds: Annotated[int, between(60, 30 * 24 * 3600)] = Field(
        3600, description="How long a session token is valid after sign-in."
    )
    password_hashing_concurrency: Annotated[int, at_least(1)] = Field(
        4,
        description="Password hashes computed at once, each on a thread of its own. A hash holds "
        "its memory while it runs (argon2id 19 MiB, a legacy scrypt hash 32 MiB), so slots x 32 "
        "MiB plus the process (~100 MiB) must fit in auth's memory limit (384 MiB in k8s): 4 "
        "take 128 MiB.",
    )
    password_hashing_max_waiting: Annotated[int, at_least(0, "must not be negative")] = Field(
        32,
        description="Sign-ins (sign-ups, password changes) queued for a hashing slot; one more "
        "is refused at once (RESOURCE_EXHAUSTED: the gateway answers 503 with Retry-After).",
    )
    password_hashing_max_wait_seconds: Annotated[float, POSITIVE] = Field(
        3.0,
        description="A sign-in that has waited this long for a hashing slot is refused too (well "
        'inside the gateway\'s RPC_TIMEOUT_SECONDS, so the client hears "busy", not a timeout).',
    )
    signin_account_limit: Limit = Field(
        10,
        description="Sign-in throttling, counted in Redis by every replica alike, whichever way "
        "SignIn is called (the gateway or gRPC): at most this many attempts for an account within "
        "any SIGNIN_ACCOUNT_WINDOW_SECONDS from devices it does not know (no valid device token "
        "of that account); past it they are refused before any hashing. 0 turns it off.",
    )
    signin_account_window_seconds: Window = Field(
        900, description="The window of SIGNIN_ACCOUNT_LIMIT."
    )
    signin_device_limit: Limit = Field(
        10,
        description="A device that signed in to the account before (its device token) has a "
        "count of its own, which its next success clears: at most this many attempts within any "
        "SIGNIN_DEVICE_WINDOW_SECONDS. 0 turns it off.",
    )
    signin_device_window_seconds: Window = Field(
        900, description="The window of SIGNIN_DEVICE_LIMIT."
    )
    device_token_ttl_seconds: Annotated[int, between(3600, 400 * 24 * 3600)] = Field(
        180 * 24 * 3600,
        description="How long a device token (issued by every successful sign-in, renewed by "
        "the next) makes its device known to the account.",
    )

    def private_key(self) -> str:
        if self.jwt_private_key is None:
            raise ConfigError("JWT_PRIVATE_KEY or JWT_PRIVATE_KEY_FILE is required by auth")
        return self.jwt_private_key.get_secret_value()
