from __future__ import annotations

from dataclasses import dataclass

from common.config import CommonSettings


@dataclass(frozen=True)
class TicketsSettings(CommonSettings):
    pass
