from __future__ import annotations

from dataclasses import dataclass

from common.config import CommonSettings, ConfigError


@dataclass(frozen=True)
class OrdersSettings(CommonSettings):
    # How long an order holds its ticket while the buyer pays.
    order_expiration_seconds: int = 900
    # The orders service expires open orders overdue by more than this itself, in case the
    # expiration service's schedule (Redis) lost them; it normally fires within a second.
    order_expiry_grace_seconds: float = 2.0
    # How often it looks for them (an indexed query that normally finds nothing).
    order_expiry_sweep_seconds: float = 1.0

    def __post_init__(self) -> None:
        super().__post_init__()
        if not 1 <= self.order_expiration_seconds <= 24 * 3600:
            raise ConfigError("ORDER_EXPIRATION_SECONDS must be between 1 and 86400")
        if self.order_expiry_grace_seconds < 0:
            raise ConfigError("ORDER_EXPIRY_GRACE_SECONDS must not be negative")
        if not 0 < self.order_expiry_sweep_seconds <= 3600:
            raise ConfigError("ORDER_EXPIRY_SWEEP_SECONDS must be above 0 and at most 3600")
