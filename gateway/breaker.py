"""A pause after a failure, for the gateway's optional uses of Redis (the ticket cache, the
behaviour events): a Redis that is down costs one failed command per pause, not one per
request, and is reported once per outage, not per request."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

log = logging.getLogger(__name__)

# After a failed command, Redis is left alone this long.
PAUSE_SECONDS = 1.0


class Breaker:
    def __init__(
        self,
        pause_seconds: float = PAUSE_SECONDS,
        clock: Callable[[], float] = time.monotonic,
        *,
        down: str = "ticket cache unavailable, reading from tickets until Redis answers",
        back: str = "ticket cache is back",
    ) -> None:
        self.pause_seconds = pause_seconds
        self.clock = clock
        self.down = down
        self.back = back
        self._closed_at = 0.0
        self._failing = False

    @property
    def is_open(self) -> bool:
        return self._failing and self.clock() < self._closed_at

    def failed(self, exc: Exception) -> None:
        if not self._failing:
            log.warning(self.down, extra={"error": repr(exc)})
        self._failing = True
        self._closed_at = self.clock() + self.pause_seconds

    def succeeded(self) -> None:
        if self._failing:
            log.info(self.back)
            self._failing = False
