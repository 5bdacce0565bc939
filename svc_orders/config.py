from __future__ import annotations

from typing import Annotated

from pydantic import Field

from common.config import CommonSettings
from common.settings import NOT_NEGATIVE, between, rule


class OrdersSettings(CommonSettings):
    """What the orders service reads."""

    order_expiration_seconds: Annotated[int, between(1, 24 * 3600)] = Field(
        900, description="How long an order holds its ticket while the buyer pays."
    )
    order_expiry_grace_seconds: Annotated[float, NOT_NEGATIVE] = Field(
        2.0,
        description="The orders service expires open orders overdue by more than this itself, "
        "in case the expiration service's schedule (Redis) lost them; it normally fires within "
        "a second.",
    )
    order_expiry_sweep_seconds: Annotated[
        float, rule(lambda v: 0 < v <= 3600, "must be above 0 and at most 3600")
    ] = Field(
        1.0,
        description="How often the orders service looks for such overdue orders (an indexed "
        "query that normally finds nothing).",
    )
