"""Publishing outbox documents: one long-lived connection on the caller's event loop, confirms
pipelined per batch."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from common import tracing
from common.bus.link import Link
from common.bus.topology import (
    DEFAULT_HEARTBEAT_SECONDS,
    connection_parameters,
    exchange_name,
    properties_for,
)
from common.metrics import series

log = logging.getLogger(__name__)


class RabbitPublisher:
    """Publishes documents with publisher confirms; raises if the broker did not take every one
    of them (a nack, the connection dropping, no answer within `confirm_timeout_seconds`), so
    the relay keeps them for the next try.

    The connection is opened on first use and kept: the event loop answers heartbeats while
    it idles, so the next publish after a quiet hour goes out as fast as one a second after
    the last. A connection the broker closed meanwhile is noticed when it closes, and the
    next publish opens a fresh one before sending.
    """

    def __init__(
        self,
        amqp_url: str,
        namespace: str,
        *,
        heartbeat_seconds: int = DEFAULT_HEARTBEAT_SECONDS,
        confirm_timeout_seconds: float = 30.0,
    ) -> None:
        self.amqp_url = amqp_url
        self.namespace = namespace
        self.heartbeat_seconds = heartbeat_seconds
        self.confirm_timeout = confirm_timeout_seconds
        self.exchange = exchange_name(namespace)
        # How many connections this publisher opened: one for its whole life unless the
        # broker went away.
        self.connections_opened = 0
        self._link: Link | None = None
        self._connecting = asyncio.Lock()

    async def _ready_link(self) -> Link:
        async with self._connecting:
            link = self._link
            if link is not None and link.is_open:
                return link
            if link is not None:
                log.info(
                    "publisher connection was closed, opening a new one",
                    extra={"reason": repr(link.close_reason)},
                )
                await link.close()
            self._link = None
            link = await Link.open(connection_parameters(self.amqp_url, self.heartbeat_seconds))
            try:
                await link.call(
                    link.channel.exchange_declare,  # type: ignore[union-attr]
                    self.exchange,
                    exchange_type="topic",
                    durable=True,
                )
            except BaseException:
                await link.close()
                raise
            self.connections_opened += 1
            self._link = link
            return link

    async def publish(self, docs: list[dict[str, Any]]) -> None:
        if not docs:
            return
        link = await self._ready_link()
        # A span per message, each continuing the trace its event was recorded in; its context
        # goes in the message's headers for the consumers.
        spans = tracing.start_publish_spans(docs, self.exchange)
        outcomes: list[object] | None = None
        try:
            confirms = [
                link.publish(
                    self.exchange,
                    doc["routing_key"],
                    doc["body"].encode(),
                    properties_for(doc, headers),
                )
                for doc, (_span, headers) in zip(docs, spans, strict=True)
            ]
            async with asyncio.timeout(self.confirm_timeout):
                outcomes = await asyncio.gather(*confirms, return_exceptions=True)
        except TimeoutError:
            # A broker that stops answering is not to be trusted with the next batch either.
            await link.close()
            raise TimeoutError(
                f"RabbitMQ confirmed none or part of {len(docs)} message(s) within "
                f"{self.confirm_timeout}s"
            ) from None
        finally:
            tracing.end_publish_spans(spans, outcomes)
        failures = [o for o in outcomes if isinstance(o, BaseException)]
        if failures:
            raise failures[0]
        series.events_published(docs)

    async def close(self) -> None:
        if self._link is not None:
            await self._link.close()
            self._link = None
