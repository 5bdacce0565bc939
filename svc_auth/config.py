from __future__ import annotations

from dataclasses import dataclass

from common.config import CommonSettings, ConfigError, read_secret


@dataclass(frozen=True)
class AuthSettings(CommonSettings):
    jwt_private_key: str | None = None
    jwt_private_key_file: str | None = None
    jwt_ttl_seconds: int = 3600

    def __post_init__(self) -> None:
        super().__post_init__()
        if not 60 <= self.jwt_ttl_seconds <= 30 * 24 * 3600:
            raise ConfigError("JWT_TTL_SECONDS must be between 60 and 2592000")

    def private_key(self) -> str:
        key = read_secret(self.jwt_private_key, self.jwt_private_key_file, "JWT_PRIVATE_KEY")
        if not key:
            raise ConfigError("JWT_PRIVATE_KEY or JWT_PRIVATE_KEY_FILE is required by auth")
        return key
