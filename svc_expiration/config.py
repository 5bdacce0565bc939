from __future__ import annotations

from dataclasses import dataclass

from common.config import CommonSettings, ConfigError


@dataclass(frozen=True)
class ExpirationSettings(CommonSettings):
    # Longest wait between two looks at the schedule (it also wakes when an order is scheduled).
    expiration_poll_ms: int = 250
    # A replica that claimed a due order has this long to publish OrderExpired before another
    # replica may claim it again (a crash between claim and publish loses nothing).
    expiration_lease_seconds: int = 30

    def __post_init__(self) -> None:
        super().__post_init__()
        if not 10 <= self.expiration_poll_ms <= 1000:
            raise ConfigError("EXPIRATION_POLL_MS must be between 10 and 1000")
        if self.expiration_lease_seconds < 1:
            raise ConfigError("EXPIRATION_LEASE_SECONDS must be at least 1")
