from __future__ import annotations

from dataclasses import dataclass

from common.config import CommonSettings, ConfigError, read_secret

# Sign-in throttling (svc_auth/service_layer/signin_throttle.py), each set by <NAME>_LIMIT and
# <NAME>_WINDOW_SECONDS.
SIGNIN_LIMITS = ("signin_account", "signin_device")


@dataclass(frozen=True)
class AuthSettings(CommonSettings):
    jwt_private_key: str | None = None
    jwt_private_key_file: str | None = None
    jwt_ttl_seconds: int = 3600
    # Password hashes computed at once, each on a thread of its own. A hash holds its memory
    # while it runs (argon2id 19 MiB, a legacy scrypt hash 32 MiB), so slots x 32 MiB plus the
    # process (~100 MiB) must fit in auth's memory limit (384 MiB in k8s): 4 take 128 MiB.
    password_hashing_concurrency: int = 4
    # Sign-ins (sign-ups, password changes) queued for a slot; one more is refused at once
    # (RESOURCE_EXHAUSTED: the gateway answers 503 with Retry-After)...
    password_hashing_max_waiting: int = 32
    # ...and so is one that has waited this long for a slot (well inside the gateway's
    # RPC_TIMEOUT_SECONDS, so the client hears "busy", not a timeout).
    password_hashing_max_wait_seconds: float = 3.0
    # Sign-in throttling, counted in Redis by every replica alike, whichever way SignIn is
    # called (the gateway or gRPC): at most LIMIT attempts within any WINDOW_SECONDS; a LIMIT
    # of 0 turns one off. Attempts for an account from devices it does not know (no valid
    # device token of that account): past the limit they are refused before any hashing...
    signin_account_limit: int = 10
    signin_account_window_seconds: int = 900
    # ...while a device that signed in to the account before (its device token) has a count
    # of its own, which its next success clears.
    signin_device_limit: int = 10
    signin_device_window_seconds: int = 900
    # How long a device token (issued by every successful sign-in, renewed by the next) makes
    # its device known to the account.
    device_token_ttl_seconds: int = 180 * 24 * 3600

    def __post_init__(self) -> None:
        super().__post_init__()
        if not 60 <= self.jwt_ttl_seconds <= 30 * 24 * 3600:
            raise ConfigError("JWT_TTL_SECONDS must be between 60 and 2592000")
        if self.password_hashing_concurrency < 1:
            raise ConfigError("PASSWORD_HASHING_CONCURRENCY must be at least 1")
        if self.password_hashing_max_waiting < 0:
            raise ConfigError("PASSWORD_HASHING_MAX_WAITING must not be negative")
        if self.password_hashing_max_wait_seconds <= 0:
            raise ConfigError("PASSWORD_HASHING_MAX_WAIT_SECONDS must be positive")
        for name in SIGNIN_LIMITS:
            if getattr(self, f"{name}_limit") < 0:
                raise ConfigError(f"{name.upper()}_LIMIT must be 0 (off) or more")
            if getattr(self, f"{name}_window_seconds") < 1:
                raise ConfigError(f"{name.upper()}_WINDOW_SECONDS must be at least 1")
        if not 3600 <= self.device_token_ttl_seconds <= 400 * 24 * 3600:
            raise ConfigError("DEVICE_TOKEN_TTL_SECONDS must be between 3600 and 34560000")

    def private_key(self) -> str:
        key = read_secret(self.jwt_private_key, self.jwt_private_key_file, "JWT_PRIVATE_KEY")
        if not key:
            raise ConfigError("JWT_PRIVATE_KEY or JWT_PRIVATE_KEY_FILE is required by auth")
        return key
