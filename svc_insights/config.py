from __future__ import annotations

from dataclasses import dataclass

from common.config import CommonSettings, ConfigError


@dataclass(frozen=True)
class InsightsSettings(CommonSettings):
    # The DuckDB file holding every event (a volume of its own in Kubernetes; `ticketing run`:
    # under .run/insights). `:memory:` keeps nothing across restarts (tests).
    insights_db_path: str = "/var/lib/ticketing/insights/events.duckdb"

    def __post_init__(self) -> None:
        super().__post_init__()
        if not self.insights_db_path.strip():
            raise ConfigError("INSIGHTS_DB_PATH must name a file (or :memory:)")
