from __future__ import annotations

from common.config import CommonSettings


class TicketsSettings(CommonSettings):
    """What the tickets service reads: the common settings only."""
