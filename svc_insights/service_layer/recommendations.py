"""Recommendations: a model trained from the stored events, swapped in whole when a newer one is
ready, and asked with what the caller did since its data ended.

Training reads and folds every event the recommender uses, then trains on a worker thread; the
model being served is replaced by one assignment, so a query sees the old model or the new,
never half of each. `run` retrains every `every_seconds` when events arrived since the last
training. A query adds the caller's interactions after the model's last event (so a visitor who
just viewed a few tickets is answered from them) and leaves out tickets orders took since.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol

from common.clock import Clock
from common.errors import InvalidInput
from svc_insights.domain.recommender.marketplace import Interaction, Marketplace, actors_of
from svc_insights.domain.recommender.model import Model, ModelVersion, Params, Query, train

log = logging.getLogger(__name__)

MAX_FIRST = 100
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


def _first(first: int) -> int:
    if not 1 <= first <= MAX_FIRST:
        raise InvalidInput(f"first must be between 1 and {MAX_FIRST}", field="first")
    return first


def _overlapping(model: Model) -> datetime | None:
    until = model.version.data_until
    return until - FRESH_OVERLAP if until is not None else None


class Recommendations:
    def __init__(
        self, source: InteractionSource, clock: Clock, params: Params | None = None
    ) -> None:
        self.source = source
        self.clock = clock
        self.params = params or Params()
        self._model: Model | None = None
        self._trained_on: tuple[int, datetime | None] | None = None

    @property
    def version(self) -> ModelVersion | None:
        model = self._model
        return model.version if model is not None else None

    async def retrain(self) -> ModelVersion | None:
        """Trains from the store unless nothing arrived since the last training; the version
        being served afterwards."""
        data = await self.source.data_version()
        if self._model is not None and data == self._trained_on:
            return self._model.version
        market = await self.source.marketplace()
        now = self.clock.now().astimezone(UTC).replace(tzinfo=None)  # the store's naive UTC
        model = await asyncio.to_thread(train, market, now, self.params)
        self._model, self._trained_on = model, data
        version = model.version
        log.info(
            "recommender trained",
            extra={
                "model_version": version.id,
                "tickets": version.items,
                "for_sale": version.open_items,
                "actors": version.actors,
                "interactions": version.interactions,
            },
        )
        return version

    async def run(self, every_seconds: float) -> None:
        """Retrains on a schedule until cancelled; a failed training keeps the model served."""
        while True:
            await asyncio.sleep(every_seconds)
            try:
                await self.retrain()
            except Exception:
                log.exception("recommender training failed; serving the previous model")

    async def recommend(self, user_id: str | None, anonymous_id: str | None, first: int) -> Ranked:
        first = _first(first)
        model = self._model
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
        first = _first(first)
        if not ticket_id:
            raise InvalidInput("A ticket id is required", field="ticket_id")
        model = self._model
        if model is None:
            return Ranked([], "")
        fresh = await self.source.since(_overlapping(model), None, None)
        ranked = model.similar(ticket_id, viewer=user_id, sold=fresh.taken, first=first)
        return Ranked(ranked, model.version.id)
