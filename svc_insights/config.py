from __future__ import annotations

from dataclasses import dataclass

from common.config import CommonSettings, ConfigError


@dataclass(frozen=True)
class InsightsSettings(CommonSettings):
    # The DuckDB file holding every event (a volume of its own in Kubernetes; `ticketing run`:
    # under .run/insights). `:memory:` keeps nothing across restarts (tests).
    insights_db_path: str = "/var/lib/ticketing/insights/events.duckdb"
    # Memory DuckDB may use for its work (queries, the write buffer), in MiB; 0: DuckDB's own
    # default (80 % of the memory it sees). Keep it well under the container's limit.
    insights_db_memory_mb: int = 0

    def __post_init__(self) -> None:
        super().__post_init__()
        if not self.insights_db_path.strip():
            raise ConfigError("INSIGHTS_DB_PATH must name a file (or :memory:)")
        if self.insights_db_memory_mb < 0:
            raise ConfigError("INSIGHTS_DB_MEMORY_MB must be 0 (DuckDB's default) or more")
