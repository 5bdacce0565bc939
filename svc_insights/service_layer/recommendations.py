"""Recommendations: a model trained from the stored events, swapped in whole when a newer one is
ready, and asked with what the caller did since its data ended.

Training and swapping are retraining.py's. A query adds the caller's interactions after the
model's last event (so a visitor who just viewed a few tickets is answered from them) and leaves
out tickets orders took since.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from common.clock import Clock
from common.errors import InvalidInput
from svc_insights.domain.recommender.marketplace import Interaction, Marketplace, actors_of
from svc_insights.domain.recommender.model import Model, Params, Query, train
from svc_insights.service_layer.retraining import Retrained, checked_first

log = logging.getLogger(__name__)

# Events are stored in about the order they happened, not exactly: one that happened just before
# the last event a model saw may be stored after it was trained (a view through the gateway's
# stream, an event retried). A query reads the caller's events from this long before the
# model's last one; those it already counted only weigh a little more.
FRESH_OVERLAP = timedelta(minutes=10)


@dataclass(frozen=True)
class Fresh:
    """What happened after a model's data ended: the caller's own interactions, and the tickets
    an order took (held, perhaps sold since)."""

    interactions: list[Interaction]
    taken: set[str]


class InteractionSource(Protocol):
    async def marketplace(self) -> Marketplace:
        """Everything the recommender learns from, folded from the stored events."""
        ...

    async def data_version(self) -> tuple[int, datetime | None]:
        """How many events are stored and the latest one's time: unchanged, no retraining."""
        ...

    async def since(
        self, after: datetime | None, user_id: str | None, anonymous_id: str | None
    ) -> Fresh:
        """The caller's interactions, and the tickets orders took, after `after`."""
        ...


@dataclass(frozen=True)
class Ranked:
    ticket_ids: list[str]
    model_version: str  # empty: no model trained yet


def _overlapping(model: Model) -> datetime | None:
    until = model.version.data_until
    return until - FRESH_OVERLAP if until is not None else None


class Recommendations(Retrained[Marketplace, Model]):
    def __init__(
        self, source: InteractionSource, clock: Clock, params: Params | None = None
    ) -> None:
        super().__init__(
            "recommender",
            source.data_version,
            source.marketplace,
            train,
            clock,
            params or Params(),
            counts=("tickets", "for_sale"),
        )
        self.source = source

    async def recommend(self, user_id: str | None, anonymous_id: str | None, first: int) -> Ranked:
        first = checked_first(first)
        model = self.model
        if model is None:
            return Ranked([], "")
        fresh = await self.source.since(_overlapping(model), user_id, anonymous_id)
        query = Query(
            actors=actors_of(user_id, anonymous_id),
            fresh=fresh.interactions,
            viewer=user_id,
            sold=fresh.taken,
            first=first,
        )
        return Ranked(model.recommend(query), model.version.id)

    async def similar(self, ticket_id: str, user_id: str | None, first: int) -> Ranked:
        first = checked_first(first)
        if not ticket_id:
            raise InvalidInput("A ticket id is required", field="ticket_id")
        model = self.model
        if model is None:
            return Ranked([], "")
        fresh = await self.source.since(_overlapping(model), None, None)
        ranked = model.similar(ticket_id, viewer=user_id, sold=fresh.taken, first=first)
        return Ranked(ranked, model.version.id)
