from __future__ import annotations

from dataclasses import dataclass

from common.config import CommonSettings, ConfigError


@dataclass(frozen=True)
class OrdersSettings(CommonSettings):
    # How long an order holds its ticket while the buyer pays.
    order_expiration_seconds: int = 900

    def __post_init__(self) -> None:
        super().__post_init__()
        if not 1 <= self.order_expiration_seconds <= 24 * 3600:
            raise ConfigError("ORDER_EXPIRATION_SECONDS must be between 1 and 86400")
