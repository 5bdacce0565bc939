"""Event recommendations ("for you" and "similar events"): an event model trained from the stored
events, swapped in whole when a newer one is ready, and asked with what the caller did since its
data ended; the same life as the tickets' model (recommendations.py), one level up.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from common.clock import Clock
from common.errors import InvalidInput
from svc_insights.domain.recommender.catalogue_events import EventInteraction, EventMarketplace
from svc_insights.domain.recommender.event_model import (
    EVENT_PARAMS,
    EventModel,
    EventQuery,
    train_events,
)
from svc_insights.domain.recommender.marketplace import actors_of
from svc_insights.domain.recommender.model import Params
from svc_insights.service_layer.recommendations import FRESH_OVERLAP
from svc_insights.service_layer.retraining import Retrained, checked_first

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RankedEvents:
    event_ids: list[str]
    model_version: str  # empty: no model trained yet


class EventInteractionSource(Protocol):
    async def event_marketplace(self) -> EventMarketplace:
        """Everything the event recommender learns from, folded from the stored events."""
        ...

    async def data_version(self) -> tuple[int, datetime | None]:
        """How many events are stored and the latest one's time: unchanged, no retraining."""
        ...

    async def event_interactions_since(
        self, after: datetime | None, user_id: str | None, anonymous_id: str | None
    ) -> list[EventInteraction]:
        """The caller's interactions with events after `after`."""
        ...


class EventRecommendations(Retrained[EventMarketplace, EventModel]):
    def __init__(
        self, source: EventInteractionSource, clock: Clock, params: Params | None = None
    ) -> None:
        super().__init__(
            "event recommender",
            source.data_version,
            source.event_marketplace,
            train_events,
            clock,
            params or EVENT_PARAMS,
            counts=("events", "open_events"),
        )
        self.source = source

    async def recommend(
        self, user_id: str | None, anonymous_id: str | None, first: int
    ) -> RankedEvents:
        first = checked_first(first)
        model = self.model
        if model is None:
            return RankedEvents([], "")
        until = model.version.data_until
        fresh = await self.source.event_interactions_since(
            until - FRESH_OVERLAP if until is not None else None, user_id, anonymous_id
        )
        query = EventQuery(actors=actors_of(user_id, anonymous_id), fresh=fresh, first=first)
        return RankedEvents(model.recommend(query), model.version.id)

    async def similar(self, event_id: str, first: int) -> RankedEvents:
        first = checked_first(first)
        if not event_id:
            raise InvalidInput("An event id is required", field="event_id")
        model = self.model
        if model is None:
            return RankedEvents([], "")
        return RankedEvents(model.similar(event_id, first=first), model.version.id)
