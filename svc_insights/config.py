from __future__ import annotations

from typing import Annotated

from pydantic import Field

from common.config import CommonSettings
from common.settings import POSITIVE, at_least, rule

MemoryMb = Annotated[int, at_least(0, "must be 0 (DuckDB's default) or more")]


class InsightsSettings(CommonSettings):
    """What the insights service reads."""

    insights_db_path: Annotated[str, rule(str.strip, "must name a file (or :memory:)")] = Field(
        "/var/lib/ticketing/insights/events.duckdb",
        description="The DuckDB file holding every event (a volume of its own in Kubernetes; "
        "`ticketing run`: under .run/insights). `:memory:` keeps nothing across restarts "
        "(tests).",
    )
    insights_db_memory_mb: MemoryMb = Field(
        0,
        description="Memory DuckDB may use for its work (queries, the write buffer), in MiB; 0: "
        "DuckDB's own default (80 % of the memory it sees). Keep it well under the container's "
        "limit.",
    )
    insights_retrain_seconds: Annotated[float, POSITIVE] = Field(
        60.0,
        description="How often the recommender is retrained from the stored events (skipped "
        "when none arrived); a caller's own views since count at once, new tickets from the "
        "next training.",
    )
