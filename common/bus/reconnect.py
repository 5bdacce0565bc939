"""Keeping one RabbitMQ connection up for a long-lived reader (a service's event consumer, the
gateway's subscription feed): open it, hand it to the reader, and when it is lost or cannot be
opened, log why and open it again after a growing pause, until told to stop.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import pika
import pika.exceptions

from common.bus.link import Link

RECONNECT_BACKOFF_FIRST_SECONDS = 0.5
# A broker back from an outage is used again within this (a reconnect attempt is cheap).
RECONNECT_BACKOFF_CAP_SECONDS = 2.0


async def keep_connected(
    params: pika.ConnectionParameters,
    stopping: asyncio.Event,
    serve: Callable[[Link], Awaitable[None]],
    *,
    reader: str,
    queue: str,
    log: logging.Logger,
) -> None:
    """Runs `serve` on each new connection until `stopping` is set. `serve` sets the connection
    up and returns once the link has closed or `stopping` is set (see `closed_or_stopping`);
    the link is closed after it, however it ends. `reader` names the reader in
    the messages logged to `log` (the reader's own logger)."""
    backoff = RECONNECT_BACKOFF_FIRST_SECONDS
    while not stopping.is_set():
        link: Link | None = None
        try:
            link = await Link.open(params)
            await serve(link)
            backoff = RECONNECT_BACKOFF_FIRST_SECONDS
            if not stopping.is_set():
                log.warning(
                    f"{reader} lost RabbitMQ, reconnecting",
                    extra={"error": repr(link.close_reason), "queue": queue},
                )
        except (pika.exceptions.AMQPError, OSError, TimeoutError) as exc:
            log.warning(
                f"{reader} cannot reach RabbitMQ, will retry",
                extra={"error": repr(exc), "queue": queue},
            )
        except Exception:
            log.exception(f"{reader} failed, restarting", extra={"queue": queue})
        finally:
            if link is not None:
                await link.close()
        if not stopping.is_set():
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(backoff):
                    await stopping.wait()
            backoff = min(RECONNECT_BACKOFF_CAP_SECONDS, backoff * 2)


async def closed_or_stopping(link: Link, stopping: asyncio.Event) -> None:
    """Until the link closes or `stopping` is set, whichever comes first."""
    await _first_of(stopping.wait(), link.closed.wait())


async def _first_of(*waits: Awaitable[Any]) -> None:
    tasks = [asyncio.ensure_future(w) for w in waits]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
