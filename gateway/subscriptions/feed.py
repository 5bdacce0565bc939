"""The events subscriptions are fed from: a RabbitMQ queue of this gateway process's own.

Every gateway process (each replica, each worker of one) must see every change of the orders
and tickets its subscribers watch, so the events are not shared out among processes as a
service's queue shares them: each process has its own queue, `<ns>.gateway.live.<random>`,
exclusive and auto-deleted (it goes with the connection, so with the process, a crash
included), and fans events out in memory to the subscriptions that watch the id they name
(gateway/subscriptions/hub.py).

Bound only while someone watches: the queue is bound to a topic's routing keys when the process
gets its first subscription of that topic and unbound when the last one ends, so a gateway
nobody subscribes to receives nothing (every process bound always would cost the broker one
copy of every order and ticket event per worker of every replica).

Live events are a notification, not a record: they are acked on arrival and never retried.
What could be missed is made good instead: after a (re)connection, once the queue is bound
again, every subscription reads its object afresh (`Hub.resync`); the broker restarting or the
connection dropping costs a subscriber nothing but that read.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections import Counter
from typing import Any

import pika
import pika.exceptions

from common import events
from common.bus.link import Link
from common.bus.reconnect import closed_or_stopping, keep_connected
from common.bus.topology import connection_parameters, exchange_name, queue_name
from common.config import CommonSettings
from gateway.subscriptions.hub import Hub, Topic, routing_keys

log = logging.getLogger(__name__)

# Waiting for a binding: a subscription does not wait longer on a broker that does not answer
# (its first message goes out; a reconnection makes good what it missed).
BIND_TIMEOUT_SECONDS = 5.0


def live_queue_name(namespace: str) -> str:
    return f"{queue_name(namespace, 'gateway.live')}.{uuid.uuid4().hex[:12]}"


class LiveFeed:
    """Started and stopped with the app, on its event loop."""

    def __init__(self, settings: CommonSettings, hub: Hub) -> None:
        self.amqp_url = settings.amqp_url.get_secret_value()
        self.heartbeat_seconds = settings.amqp_heartbeat_seconds
        self.exchange = exchange_name(settings.namespace)
        self.queue = live_queue_name(settings.namespace)
        self.hub = hub
        hub.bindings = self
        self._wanted: Counter[Topic] = Counter()
        self._bound: set[Topic] = set()
        self._link: Link | None = None
        self._binding = asyncio.Lock()
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._pending: set[asyncio.Task[None]] = set()

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name="live-feed")

    async def stop(self) -> None:
        self._stopping.set()
        if self._task is not None:
            await self._task
        for task in list(self._pending):
            task.cancel()

    # -- bindings (Hub's side) ----------------------------------------------------------------

    async def want(self, topic: Topic) -> None:
        self._wanted[topic] += 1
        # Synced even when the topic is bound: the check is made under the lock, and the
        # unbinding of its last subscription's may be under way.
        try:
            async with asyncio.timeout(BIND_TIMEOUT_SECONDS):
                await self._sync_bindings()
        except (pika.exceptions.AMQPError, OSError, TimeoutError) as exc:
            log.warning(
                "subscription events cannot be bound now; they will be once RabbitMQ answers",
                extra={"error": repr(exc), "queue": self.queue},
            )
            # A connection that cannot bind is not trusted further: closed, it is opened
            # again, binds what is wanted, and every subscription reads its object afresh.
            if (link := self._link) is not None:
                await link.close()

    def unwant(self, topic: Topic) -> None:
        self._wanted[topic] -= 1
        if self._wanted[topic] <= 0:
            del self._wanted[topic]
            task = asyncio.get_running_loop().create_task(self._unbind_quietly())
            self._pending.add(task)
            task.add_done_callback(self._pending.discard)

    async def _unbind_quietly(self) -> None:
        with contextlib.suppress(pika.exceptions.AMQPError, OSError, TimeoutError):
            async with asyncio.timeout(BIND_TIMEOUT_SECONDS):
                await self._sync_bindings()

    async def _sync_bindings(self) -> None:
        """Binds the wanted topics and unbinds the others, on the current connection (none:
        nothing to do, the next connection binds what is wanted then)."""
        async with self._binding:
            link = self._link
            if link is None or not link.is_open:
                return
            channel = link.channel
            assert channel is not None
            for topic in Topic:
                wanted, bound = topic in self._wanted, topic in self._bound
                if wanted == bound:
                    continue
                method = channel.queue_bind if wanted else channel.queue_unbind
                for key in routing_keys(topic):
                    await link.call(method, self.queue, self.exchange, routing_key=key)
                if wanted:
                    self._bound.add(topic)
                else:
                    self._bound.discard(topic)

    # -- the connection -------------------------------------------------------------------------

    async def _run(self) -> None:
        await keep_connected(
            connection_parameters(self.amqp_url, self.heartbeat_seconds),
            self._stopping,
            self._serve,
            reader="subscription feed",
            queue=self.queue,
            log=log,
        )

    async def _serve(self, link: Link) -> None:
        try:
            await self._open(link)
            await closed_or_stopping(link, self._stopping)
        finally:
            async with self._binding:
                self._link = None
                self._bound.clear()

    async def _open(self, link: Link) -> None:
        channel = link.channel
        assert channel is not None
        await link.call(
            channel.exchange_declare, self.exchange, exchange_type="topic", durable=True
        )
        # Exclusive: used by this connection only and deleted when it closes, however it closes.
        await link.call(channel.queue_declare, self.queue, exclusive=True, auto_delete=True)
        async with self._binding:
            self._link = link
        await self._sync_bindings()
        channel.basic_consume(self.queue, self._on_message, auto_ack=True)
        log.info("subscription feed consuming", extra={"queue": self.queue})
        # Bound and consuming: whatever changed while there was no queue is read now.
        self.hub.resync()

    def _on_message(
        self, _channel: Any, _method: Any, props: pika.BasicProperties, body: bytes
    ) -> None:
        try:
            event = events.decode(props.type or "", body)
        except Exception as exc:  # an event of a newer catalogue, or garbage: nobody to wake
            log.warning(
                "subscription feed cannot read an event",
                extra={"type": props.type, "event_id": props.message_id, "error": repr(exc)},
            )
            return
        self.hub.deliver(props.type or "", event)
