from __future__ import annotations

from dataclasses import dataclass

from common.config import CommonSettings, ConfigError


@dataclass(frozen=True)
class GatewaySettings(CommonSettings):
    gateway_port: int = 8000
    cookie_secure: bool = True
    graphql_max_depth: int = 10
    # Seconds a gRPC call from the gateway may take before the client sees UNAVAILABLE.
    rpc_timeout_seconds: float = 10.0

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.graphql_max_depth < 2:
            raise ConfigError("GRAPHQL_MAX_DEPTH must be at least 2")
