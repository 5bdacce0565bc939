"""The timer that drives `fire_due`: it sleeps until the next due time (at most the poll
interval, since another replica may schedule an earlier order) or until an order is scheduled
here, and backs off while Redis or RabbitMQ is down."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from svc_expiration.service_layer.handlers import ExpirationHandlers

log = logging.getLogger(__name__)


class FireLoop:
    def __init__(
        self,
        handlers: ExpirationHandlers,
        poll_seconds: float,
        max_backoff_seconds: float = 5.0,
    ) -> None:
        self.handlers = handlers
        self.poll = poll_seconds
        self.max_backoff = max_backoff_seconds
        self._wake = asyncio.Event()

    def wake(self) -> None:
        """An order was scheduled; safe from the event loop's thread only."""
        self._wake.set()

    async def run(self) -> None:
        failures = 0
        while True:
            _raise_if_cancelled()
            self._wake.clear()  # before looking, so an order scheduled meanwhile is not missed
            try:
                fired = await self.handlers.fire_due()
                if fired >= self.handlers.batch_size:
                    delay = 0.0  # more may be due right now
                else:
                    delay = await self.handlers.seconds_until_due(self.poll)
                failures = 0
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # Redis or the broker is down: the schedule keeps it all
                failures += 1
                delay = min(self.max_backoff, self.poll * 2**failures)
                log.warning(
                    "could not fire due expiries, will retry",
                    extra={"error": f"{type(exc).__name__}: {exc}", "retry_in_s": delay},
                )
            if delay > 0:
                _raise_if_cancelled()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), timeout=delay)


def _raise_if_cancelled() -> None:
    """Stops a loop whose cancellation was swallowed. On Python 3.11 `asyncio.wait_for`, which
    redis-py uses to send a command, returns normally when the task is cancelled just as the
    inner call finishes; the request still shows in `cancelling()`. Without this the loop would
    go on, and `ServiceProcess.stop()`, which cancels once and awaits, would never return."""
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError
