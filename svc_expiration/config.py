from __future__ import annotations

from typing import Annotated

from pydantic import Field

from common.config import CommonSettings
from common.settings import at_least, between


class ExpirationSettings(CommonSettings):
    """What the expiration service reads."""

    expiration_poll_ms: Annotated[int, between(10, 1000)] = Field(
        250,
        description="Longest wait between two looks at the schedule (it also wakes when an "
        "order is scheduled).",
    )
    expiration_lease_seconds: Annotated[int, at_least(1)] = Field(
        30,
        description="A replica that claimed a due order has this long to publish OrderExpired "
        "before another replica may claim it again (a crash between claim and publish loses "
        "nothing).",
    )
