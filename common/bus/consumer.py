"""Consuming a service's queue: up to `prefetch` messages handled at once on the service's event
loop, each acked only after its handler returned."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import pika
from google.protobuf.message import Message

from common import events, tracing
from common.bus.link import Link
from common.bus.reconnect import closed_or_stopping, keep_connected
from common.bus.topology import (
    ATTEMPTS_HEADER,
    DEFAULT_HEARTBEAT_SECONDS,
    ERROR_HEADER,
    FAILURES_HEADER,
    ORIGINAL_ROUTING_KEY_HEADER,
    WAITING_SINCE_HEADER,
    ServiceQueues,
    connection_parameters,
    occurred_at,
    queue_name,
    retry_queue_name,
    service_queues,
)
from common.delivery import Delivery, Handler, PoisonMessage, is_waiting
from common.errors import NotYet
from common.metrics.series import EventMetrics

if TYPE_CHECKING:
    from common.config import CommonSettings

log = logging.getLogger(__name__)

DEFAULT_PREFETCH = 32


class EventConsumer:
    """Consumes a service's queue on `loop` (the service's own), up to `prefetch` messages at a
    time, each in a task of its own.

    A message is acked only after its handler returned (the handler commits first). Order is
    not kept, and needs not be: a handler that finds the event's predecessor missing raises
    `NotYet`, and the message waits in the retry queues for up to `wait_budget_seconds` before
    it is dead-lettered. A handler that fails otherwise has `max_attempts` tries in all.
    Redelivered duplicates are the handler's to ignore (by event id).
    """

    def __init__(
        self,
        amqp_url: str,
        namespace: str,
        service: str,
        handlers: Mapping[type[Message], Handler],
        loop: asyncio.AbstractEventLoop,
        max_attempts: int = 5,
        retry_delays_ms: tuple[int, ...] = (200, 1000, 5000),
        handler_timeout: float = 60.0,
        *,
        prefetch: int = DEFAULT_PREFETCH,
        wait_budget_seconds: float = 600.0,
        heartbeat_seconds: int = DEFAULT_HEARTBEAT_SECONDS,
        drain_seconds: float = 10.0,
    ) -> None:
        self.amqp_url = amqp_url
        self.namespace = namespace
        self.service = service
        self.handlers = {events.type_name(cls): fn for cls, fn in handlers.items()}
        self.routing_keys = sorted({events.routing_key(cls) for cls in handlers})
        self.loop = loop
        self.max_attempts = max_attempts
        self.retry_delays_ms = retry_delays_ms
        self.handler_timeout = handler_timeout
        self.prefetch = prefetch
        self.wait_budget_seconds = wait_budget_seconds
        self.heartbeat_seconds = heartbeat_seconds
        self.drain_seconds = drain_seconds
        self.queue = queue_name(namespace, service)
        self.topology: ServiceQueues = service_queues(
            namespace, service, self.routing_keys, retry_delays_ms
        )
        self._stopping = asyncio.Event()
        self._ready = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._in_flight: set[asyncio.Task[None]] = set()
        self.metrics = EventMetrics(service)

    # -- lifecycle (on the loop's thread) ----------------------------------------------------

    def start(self) -> None:
        self._task = self.loop.create_task(self._run(), name=f"consumer-{self.service}")

    async def wait_ready(self, timeout: float = 15.0) -> None:
        """Until the queue is declared and bound, so events published after this are received."""
        try:
            async with asyncio.timeout(timeout):
                await self._ready.wait()
        except TimeoutError:
            raise TimeoutError(f"{self.service} consumer did not connect to RabbitMQ") from None

    async def stop(self) -> None:
        """Stops taking messages, lets the ones in hand finish (up to `drain_seconds`) and
        closes the connection; a message whose handler did not finish is delivered again."""
        self._stopping.set()
        if self._task is not None:
            await self._task
        # Handlers of a connection lost before the stop: their messages come again anyway.
        await self._finish_in_flight()

    # -- the connection ---------------------------------------------------------------------

    async def _run(self) -> None:
        await keep_connected(
            connection_parameters(self.amqp_url, self.heartbeat_seconds),
            self._stopping,
            self._consume,
            reader="event consumer",
            queue=self.queue,
            log=log,
        )

    async def _consume(self, link: Link) -> None:
        await self._declare(link)
        channel = link.channel
        assert channel is not None
        await link.call(channel.basic_qos, prefetch_count=self.prefetch)
        consumer_tag = channel.basic_consume(self.queue, functools.partial(self._on_message, link))
        self._ready.set()
        log.info("consuming", extra={"queue": self.queue, "keys": self.routing_keys})
        await closed_or_stopping(link, self._stopping)
        if self._stopping.is_set():
            await self._drain(link, consumer_tag)

    async def _declare(self, link: Link) -> None:
        channel, topology = link.channel, self.topology
        assert channel is not None
        await link.call(
            channel.exchange_declare, topology.exchange, exchange_type="topic", durable=True
        )
        await link.call(channel.queue_declare, topology.queue, durable=True)
        for key in topology.routing_keys:
            await link.call(channel.queue_bind, topology.queue, topology.exchange, routing_key=key)
        for name, arguments in topology.retry_queues.items():
            await link.call(channel.queue_declare, name, durable=True, arguments=dict(arguments))
        await link.call(channel.queue_declare, topology.dead_queue, durable=True)

    async def _drain(self, link: Link, consumer_tag: str) -> None:
        assert link.channel is not None
        with contextlib.suppress(Exception):
            await asyncio.wait_for(link.call(link.channel.basic_cancel, consumer_tag), 2)
        await self._finish_in_flight()

    async def _finish_in_flight(self) -> None:
        if self._in_flight:
            _done, unfinished = await asyncio.wait(self._in_flight, timeout=self.drain_seconds)
            for task in unfinished:
                task.cancel()
            if unfinished:
                await asyncio.wait(unfinished)

    # -- one message --------------------------------------------------------------------------

    def _on_message(
        self,
        link: Link,
        _channel: Any,
        method: pika.spec.Basic.Deliver,
        props: pika.BasicProperties,
        body: bytes,
    ) -> None:
        task = self.loop.create_task(self._handle(link, method, props, body))
        self._in_flight.add(task)
        task.add_done_callback(self._in_flight.discard)

    async def _handle(
        self,
        link: Link,
        method: pika.spec.Basic.Deliver,
        props: pika.BasicProperties,
        body: bytes,
    ) -> None:
        headers = dict(props.headers or {})
        attempt = int(headers.get(ATTEMPTS_HEADER, 0)) + 1
        type_name = props.type or ""
        extra = {"event_id": props.message_id, "type": type_name, "attempt": attempt}
        started = time.perf_counter()
        self.metrics.in_flight.inc()
        # Handled in a span of the trace that published the message (see common.tracing).
        with tracing.consuming(
            headers,
            routing_key=str(headers.get(ORIGINAL_ROUTING_KEY_HEADER) or method.routing_key),
            message_id=props.message_id,
            queue=self.queue,
            attempt=attempt,
        ) as span:
            try:
                try:
                    await self._dispatch(method, props, body, attempt)
                except PoisonMessage as exc:
                    tracing.handling_failed(span, exc, waiting=False)
                    self.metrics.dead_lettered(type_name, "unreadable")
                    log.error(
                        "dead-lettering a message that cannot be read",
                        extra={**extra, "error": str(exc)},
                    )
                    headers[ERROR_HEADER] = str(exc)
                    await self._move(link, method, props, body, self.topology.dead_queue, headers)
                    return
                except Exception as exc:
                    tracing.handling_failed(span, exc, waiting=is_waiting(exc))
                    if is_waiting(exc):
                        await self._wait_longer(link, method, props, body, headers, exc, extra)
                    else:
                        await self._retry_or_bury(link, method, props, body, headers, exc, extra)
                    return
                link.ack(method.delivery_tag)
                self.metrics.consumed(type_name)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the link went away: the broker delivers the message again
                log.warning(
                    "could not settle a message, it will be delivered again",
                    extra={**extra, "error": repr(exc)},
                )
            finally:
                self.metrics.in_flight.dec()
                self.metrics.handled(type_name, time.perf_counter() - started)

    async def _dispatch(
        self,
        method: pika.spec.Basic.Deliver,
        props: pika.BasicProperties,
        body: bytes,
        attempt: int,
    ) -> None:
        if not props.message_id:
            raise PoisonMessage("message has no message_id (event id)")
        type_name = props.type or ""
        try:
            event = events.decode(type_name, body)
        except Exception as exc:
            raise PoisonMessage(f"cannot decode {type_name!r}: {exc}") from exc
        handler = self.handlers.get(type_name)
        if handler is not None:
            delivery = Delivery(
                props.message_id,
                type_name,
                method.routing_key,
                attempt,
                props.app_id,
                occurred_at=occurred_at(props),
            )
            async with asyncio.timeout(self.handler_timeout):
                await handler(event, delivery)

    async def _wait_longer(
        self,
        link: Link,
        method: pika.spec.Basic.Deliver,
        props: pika.BasicProperties,
        body: bytes,
        headers: dict[str, Any],
        exc: Exception,
        extra: dict[str, Any],
    ) -> None:
        """An event ahead of its predecessor, or one a dependency that is down or busy could not
        take: it waits, on a budget of its own."""
        cause = f"{type(exc).__name__}: {exc}"
        awaited = "its predecessor" if isinstance(exc, NotYet) else "a dependency to recover"
        now_ms = int(time.time() * 1000)
        since_ms = int(headers.get(WAITING_SINCE_HEADER) or now_ms)
        waited = (now_ms - since_ms) / 1000
        headers[WAITING_SINCE_HEADER] = since_ms
        if waited >= self.wait_budget_seconds:
            reason = (
                f"waited {waited:.0f}s for {awaited}, longer than "
                f"EVENT_WAIT_BUDGET_SECONDS={self.wait_budget_seconds:g}: {cause}"
            )
            log.error(f"dead-lettering an event that waited for {awaited} in vain", extra=extra)
            self.metrics.dead_lettered(props.type or "", "waited_too_long")
            headers[ERROR_HEADER] = reason
            await self._move(link, method, props, body, self.topology.dead_queue, headers)
            return
        delay = self._delay_ms(int(headers.get(ATTEMPTS_HEADER, 0)) + 1)
        log.log(
            logging.INFO if isinstance(exc, NotYet) else logging.WARNING,
            f"event waits for {awaited}, will retry",
            extra={**extra, "error": cause, "delay_ms": delay, "waited_s": waited},
        )
        headers[ERROR_HEADER] = cause
        self.metrics.retried(props.type or "", "waiting")
        await self._move(link, method, props, body, self._retry_queue(delay), headers)

    async def _retry_or_bury(
        self,
        link: Link,
        method: pika.spec.Basic.Deliver,
        props: pika.BasicProperties,
        body: bytes,
        headers: dict[str, Any],
        exc: Exception,
        extra: dict[str, Any],
    ) -> None:
        """A handler failure: tried again after a delay, `max_attempts` times in all."""
        error = f"{type(exc).__name__}: {exc}"
        failures = int(headers.get(FAILURES_HEADER, 0)) + 1
        headers[FAILURES_HEADER] = failures
        headers[ERROR_HEADER] = error
        if failures >= self.max_attempts:
            log.error("dead-lettering after the last attempt", extra={**extra, "error": error})
            self.metrics.dead_lettered(props.type or "", "failed")
            await self._move(link, method, props, body, self.topology.dead_queue, headers)
            return
        delay = self._delay_ms(failures)
        log.warning(
            "handler failed, will retry", extra={**extra, "error": error, "delay_ms": delay}
        )
        self.metrics.retried(props.type or "", "failed")
        await self._move(link, method, props, body, self._retry_queue(delay), headers)

    def _delay_ms(self, tries: int) -> int:
        """The wait before try `tries` + 1: the configured delays in turn, the last repeating."""
        return self.retry_delays_ms[min(tries, len(self.retry_delays_ms)) - 1]

    def _retry_queue(self, delay_ms: int) -> str:
        return retry_queue_name(self.namespace, self.service, delay_ms)

    async def _move(
        self,
        link: Link,
        method: pika.spec.Basic.Deliver,
        props: pika.BasicProperties,
        body: bytes,
        queue: str,
        headers: dict[str, Any],
    ) -> None:
        """Republishes to `queue`, awaits the broker's confirm, then acks the original: never
        lost, never looping."""
        headers[ATTEMPTS_HEADER] = int(headers.get(ATTEMPTS_HEADER, 0)) + 1
        headers[ERROR_HEADER] = str(headers.get(ERROR_HEADER, ""))[:1000]
        headers.setdefault(ORIGINAL_ROUTING_KEY_HEADER, method.routing_key)
        new_props = pika.BasicProperties(
            message_id=props.message_id,
            type=props.type,
            content_type=props.content_type,
            timestamp=props.timestamp,
            app_id=props.app_id,
            delivery_mode=pika.DeliveryMode.Persistent,
            headers=headers,
        )
        await link.publish("", queue, body, new_props)
        link.ack(method.delivery_tag)


def consumer_for(
    settings: CommonSettings, service: str, handlers: Mapping[type[Message], Handler]
) -> EventConsumer:
    """The consumer of `service`'s queue on the running loop, tuned by the common settings."""
    return EventConsumer(
        settings.amqp_url.get_secret_value(),
        settings.namespace,
        service,
        handlers,
        asyncio.get_running_loop(),
        max_attempts=settings.event_max_attempts,
        retry_delays_ms=settings.event_retry_delays_ms,
        prefetch=settings.event_prefetch,
        wait_budget_seconds=settings.event_wait_budget_seconds,
        heartbeat_seconds=settings.amqp_heartbeat_seconds,
    )
