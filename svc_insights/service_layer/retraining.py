"""A model trained from the stored events, swapped in whole when a newer one is ready: the life
the tickets' recommender and the events' recommender share.

Training reads and folds every event the model learns from, then trains on a worker thread; the
model being served is replaced by one assignment, so a query sees the old model or the new,
never half of each. `run` retrains every `every_seconds` when events arrived since the last
training; a failed training keeps the model served.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Generic, Protocol, TypeVar

from common.clock import Clock
from common.errors import InvalidInput
from svc_insights.domain.recommender.model import ModelVersion, Params

log = logging.getLogger(__name__)

MAX_FIRST = 100

Data = TypeVar("Data")


class Trained(Protocol):
    @property
    def version(self) -> ModelVersion: ...


ModelT = TypeVar("ModelT", bound=Trained)


def checked_first(first: int) -> int:
    """How many a caller asked for, refused outside 1..MAX_FIRST."""
    if not 1 <= first <= MAX_FIRST:
        raise InvalidInput(f"first must be between 1 and {MAX_FIRST}", field="first")
    return first


class Retrained(Generic[Data, ModelT]):
    """`name` names the model in logs; `items` and `open_items` name its version's counts there
    (what it ranks, and how many of those it may recommend now)."""

    def __init__(
        self,
        name: str,
        data_version: Callable[[], Awaitable[tuple[int, datetime | None]]],
        load: Callable[[], Awaitable[Data]],
        train: Callable[[Data, datetime, Params], ModelT],
        clock: Clock,
        params: Params,
        counts: tuple[str, str],
    ) -> None:
        self.name = name
        self._data_version = data_version
        self._load = load
        self._train = train
        self.clock = clock
        self.params = params
        self._counts = counts
        self.model: ModelT | None = None
        self._trained_on: tuple[int, datetime | None] | None = None

    @property
    def version(self) -> ModelVersion | None:
        model = self.model
        return model.version if model is not None else None

    async def retrain(self) -> ModelVersion | None:
        """Trains from the store unless nothing arrived since the last training; the version
        being served afterwards."""
        data = await self._data_version()
        if self.model is not None and data == self._trained_on:
            return self.model.version
        loaded = await self._load()
        now = self.clock.now().astimezone(UTC).replace(tzinfo=None)  # the store's naive UTC
        model = await asyncio.to_thread(self._train, loaded, now, self.params)
        self.model, self._trained_on = model, data
        version = model.version
        items, open_items = self._counts
        log.info(
            f"{self.name} trained",
            extra={
                "model_version": version.id,
                items: version.items,
                open_items: version.open_items,
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
                log.exception(f"{self.name} training failed; serving the previous model")
