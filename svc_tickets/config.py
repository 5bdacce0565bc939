from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from pydantic import Field

from common.config import CommonSettings
from common.settings import at_least
from svc_tickets.domain.delivery_terms import DeliveryTerms


class TicketsSettings(CommonSettings):
    """What the tickets service reads."""

    delivery_deadline_before_event_seconds: Annotated[float, at_least(0)] = Field(
        2 * 3600.0,
        description="A listing's default delivery deadline (issue 22): this long before its "
        "event's start, fixed on an order when its seats are held (a listing may set its own, "
        "earlier). Two hours, issue 22's: time for a buyer to get in. A purchase made later "
        "than that gets the event's start.",
    )
    delivery_deadline_no_event_seconds: Annotated[float, at_least(1)] = Field(
        48 * 3600.0,
        description="A v1 ticket's (no event) delivery deadline: this long after its seats "
        "were held. Two days, issue 22's.",
    )

    def delivery_terms(self) -> DeliveryTerms:
        return DeliveryTerms(
            timedelta(seconds=self.delivery_deadline_before_event_seconds),
            timedelta(seconds=self.delivery_deadline_no_event_seconds),
        )
