"""The RabbitMQ event bus (pika).

Topology, all named from TICKETING_NAMESPACE (`ns`):
- `ns.events`: durable topic exchange; routing keys such as `order.created`.
- `ns.<service>`: a service's durable queue, bound to the keys it consumes.
- `ns.<service>.retry.<ms>`: holding queues; a message waits there for <ms> and is dead-lettered
  back to `ns.<service>`. A failing message is moved through them, each try counted in the
  `x-attempts` header.
- `ns.<service>.dead`: where a message goes after its last try, with the error in `x-error`;
  `ticketing events replay <service>` moves them back once the cause is fixed.

pika connections are not thread-safe and block, so each publisher and consumer owns one
connection on one thread of its own; handlers run on the service's asyncio loop.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import threading
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pika
import pika.exceptions
from google.protobuf.message import Message
from pika.adapters.blocking_connection import BlockingChannel

from common import events
from common.errors import NotYet

log = logging.getLogger(__name__)

ATTEMPTS_HEADER = "x-attempts"
ERROR_HEADER = "x-error"


def exchange_name(namespace: str) -> str:
    return f"{namespace}.events"


def queue_name(namespace: str, service: str) -> str:
    return f"{namespace}.{service}"


def dead_queue_name(namespace: str, service: str) -> str:
    return f"{queue_name(namespace, service)}.dead"


def retry_queue_name(namespace: str, service: str, delay_ms: int) -> str:
    return f"{queue_name(namespace, service)}.retry.{delay_ms}"


def connect(amqp_url: str) -> pika.BlockingConnection:
    params = pika.URLParameters(amqp_url)
    params.heartbeat = 30
    params.blocked_connection_timeout = 30
    params.connection_attempts = 1
    params.socket_timeout = 5
    return pika.BlockingConnection(params)


def declare_exchange(channel: BlockingChannel, namespace: str) -> str:
    name = exchange_name(namespace)
    channel.exchange_declare(name, exchange_type="topic", durable=True)
    return name


def declare_service_queues(
    channel: BlockingChannel,
    namespace: str,
    service: str,
    routing_keys: list[str],
    retry_delays_ms: tuple[int, ...],
) -> str:
    exchange = declare_exchange(channel, namespace)
    queue = queue_name(namespace, service)
    channel.queue_declare(queue, durable=True)
    for key in routing_keys:
        channel.queue_bind(queue, exchange, routing_key=key)
    for delay in sorted(set(retry_delays_ms)):
        channel.queue_declare(
            retry_queue_name(namespace, service, delay),
            durable=True,
            arguments={
                "x-message-ttl": delay,
                "x-dead-letter-exchange": "",
                "x-dead-letter-routing-key": queue,
            },
        )
    channel.queue_declare(dead_queue_name(namespace, service), durable=True)
    return queue


def properties_for(doc: Mapping[str, Any]) -> pika.BasicProperties:
    created: datetime = doc.get("created_at") or datetime.now(UTC)
    return pika.BasicProperties(
        message_id=doc["_id"],
        type=doc["type"],
        content_type=events.CONTENT_TYPE,
        timestamp=int(created.timestamp()),
        app_id=doc["app_id"],
        delivery_mode=pika.DeliveryMode.Persistent,
    )


class RabbitPublisher:
    """Publishes outbox documents with publisher confirms; raises if the broker did not take
    every one of them, so the relay keeps them for the next try."""

    def __init__(self, amqp_url: str, namespace: str) -> None:
        self.amqp_url = amqp_url
        self.namespace = namespace
        self._executor = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="publisher")
        self._connection: pika.BlockingConnection | None = None
        self._channel: BlockingChannel | None = None

    def _ensure_channel(self) -> BlockingChannel:
        if self._channel is None or not self._channel.is_open:
            self._close_sync()
            self._connection = connect(self.amqp_url)
            self._channel = self._connection.channel()
            self._channel.confirm_delivery()
            declare_exchange(self._channel, self.namespace)
        return self._channel

    def _publish_sync(self, docs: list[dict[str, Any]]) -> None:
        try:
            channel = self._ensure_channel()
            exchange = exchange_name(self.namespace)
            for doc in docs:
                channel.basic_publish(
                    exchange, doc["routing_key"], doc["body"].encode(), properties_for(doc)
                )
        except Exception:
            self._close_sync()
            raise

    def _close_sync(self) -> None:
        if self._connection is not None:
            with contextlib.suppress(Exception):
                self._connection.close()
        self._connection = self._channel = None

    async def publish(self, docs: list[dict[str, Any]]) -> None:
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._executor, self._publish_sync, docs)

    async def close(self) -> None:
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._executor, self._close_sync)
        self._executor.shutdown(wait=True)


@dataclass(frozen=True)
class Delivery:
    """What a handler learns about the message besides the event itself."""

    event_id: str
    type: str
    routing_key: str
    attempt: int
    app_id: str | None


Handler = Callable[[Message, Delivery], Awaitable[None]]


class EventConsumer:
    """Consumes a service's queue on a thread of its own and runs each handler on `loop`.

    A message is acked only after its handler returned (the handler commits first). A handler
    that raises sends the message to wait in a retry queue; after `max_attempts` tries it goes
    to the dead queue. Redelivered duplicates are the handler's to ignore (by event id).
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
        self.queue = queue_name(namespace, service)
        self._stopping = threading.Event()
        self._ready = threading.Event()
        self._thread: threading.Thread | None = None

    # -- lifecycle (called from the loop's thread) ------------------------------------------

    def start(self) -> None:
        self._thread = threading.Thread(
            target=self._run, name=f"consumer-{self.service}", daemon=True
        )
        self._thread.start()

    async def wait_ready(self, timeout: float = 15.0) -> None:
        """Until the queue is declared and bound, so events published after this are received."""
        ok = await asyncio.to_thread(self._ready.wait, timeout)
        if not ok:
            raise TimeoutError(f"{self.service} consumer did not connect to RabbitMQ")

    async def stop(self) -> None:
        self._stopping.set()
        if self._thread is not None:
            await asyncio.to_thread(self._thread.join, 10)

    # -- the consumer thread ------------------------------------------------------------------

    def _run(self) -> None:
        backoff = 0.5
        while not self._stopping.is_set():
            connection = None
            try:
                connection = connect(self.amqp_url)
                channel = connection.channel()
                channel.confirm_delivery()
                declare_service_queues(
                    channel, self.namespace, self.service, self.routing_keys, self.retry_delays_ms
                )
                channel.basic_qos(prefetch_count=10)
                channel.basic_consume(self.queue, self._on_message)
                self._ready.set()
                backoff = 0.5
                log.info("consuming", extra={"queue": self.queue, "keys": self.routing_keys})
                while not self._stopping.is_set():
                    connection.process_data_events(time_limit=0.2)
            except pika.exceptions.AMQPError as exc:
                log.warning(
                    "event consumer lost RabbitMQ, reconnecting",
                    extra={"error": repr(exc), "queue": self.queue},
                )
                self._stopping.wait(backoff)
                backoff = min(10.0, backoff * 2)
            except Exception:
                log.exception("event consumer failed, restarting", extra={"queue": self.queue})
                self._stopping.wait(backoff)
                backoff = min(10.0, backoff * 2)
            finally:
                if connection is not None and connection.is_open:
                    with contextlib.suppress(Exception):
                        connection.close()

    def _on_message(
        self,
        channel: BlockingChannel,
        method: pika.spec.Basic.Deliver,
        props: pika.BasicProperties,
        body: bytes,
    ) -> None:
        headers = dict(props.headers or {})
        attempt = int(headers.get(ATTEMPTS_HEADER, 0)) + 1
        type_name = props.type or ""
        extra = {"event_id": props.message_id, "type": type_name, "attempt": attempt}
        try:
            if not props.message_id:
                raise PoisonMessage("message has no message_id (event id)")
            try:
                event = events.decode(type_name, body)
            except Exception as exc:
                raise PoisonMessage(f"cannot decode {type_name!r}: {exc}") from exc
            handler = self.handlers.get(type_name)
            if handler is not None:
                delivery = Delivery(
                    props.message_id, type_name, method.routing_key, attempt, props.app_id
                )
                future = asyncio.run_coroutine_threadsafe(handler(event, delivery), self.loop)
                future.result(timeout=self.handler_timeout)
            channel.basic_ack(method.delivery_tag)
        except PoisonMessage as exc:
            log.error(
                "dead-lettering a message that cannot be read", extra={**extra, "error": str(exc)}
            )
            self._move(
                channel,
                method,
                props,
                body,
                dead_queue_name(self.namespace, self.service),
                attempt,
                str(exc),
            )
        except Exception as exc:
            error = f"{type(exc).__name__}: {exc}"
            if attempt >= self.max_attempts:
                log.error("dead-lettering after the last attempt", extra={**extra, "error": error})
                target = dead_queue_name(self.namespace, self.service)
            else:
                delay = self.retry_delays_ms[min(attempt, len(self.retry_delays_ms)) - 1]
                early = isinstance(exc, NotYet)
                log.log(
                    logging.INFO if early else logging.WARNING,
                    "event arrived early, will retry" if early else "handler failed, will retry",
                    extra={**extra, "error": error, "delay_ms": delay},
                )
                target = retry_queue_name(self.namespace, self.service, delay)
            self._move(channel, method, props, body, target, attempt, error)

    def _move(
        self,
        channel: BlockingChannel,
        method: pika.spec.Basic.Deliver,
        props: pika.BasicProperties,
        body: bytes,
        queue: str,
        attempt: int,
        error: str,
    ) -> None:
        """Republishes (confirmed) to `queue`, then acks the original: never lost, never looping."""
        headers = dict(props.headers or {})
        headers[ATTEMPTS_HEADER] = attempt
        headers[ERROR_HEADER] = error[:1000]
        headers.setdefault("x-original-routing-key", method.routing_key)
        new_props = pika.BasicProperties(
            message_id=props.message_id,
            type=props.type,
            content_type=props.content_type,
            timestamp=props.timestamp,
            app_id=props.app_id,
            delivery_mode=pika.DeliveryMode.Persistent,
            headers=headers,
        )
        channel.basic_publish("", queue, body, new_props)
        channel.basic_ack(method.delivery_tag)


class PoisonMessage(Exception):
    """A message no retry can help: it is dead-lettered at once."""


def dead_letters(
    amqp_url: str, namespace: str, service: str, limit: int = 100
) -> list[dict[str, Any]]:
    """Peeks at a service's dead queue (messages stay there)."""
    connection = connect(amqp_url)
    try:
        channel = connection.channel()
        queue = dead_queue_name(namespace, service)
        channel.queue_declare(queue, durable=True)
        seen = []
        for _ in range(limit):
            method, props, body = channel.basic_get(queue, auto_ack=False)
            if method is None:
                break
            headers = props.headers or {}
            seen.append(
                {
                    "event_id": props.message_id,
                    "type": props.type,
                    "attempts": headers.get(ATTEMPTS_HEADER),
                    "error": headers.get(ERROR_HEADER),
                    "body": body.decode(errors="replace"),
                }
            )
        channel.close()  # unacked messages return to the queue
        return seen
    finally:
        connection.close()


def replay_dead_letters(amqp_url: str, namespace: str, service: str) -> int:
    """Moves every dead message back to the service's queue with a fresh attempt count."""
    connection = connect(amqp_url)
    moved = 0
    try:
        channel = connection.channel()
        channel.confirm_delivery()
        dead = dead_queue_name(namespace, service)
        channel.queue_declare(dead, durable=True)
        count = channel.queue_declare(dead, passive=True).method.message_count
        for _ in range(count):
            method, props, body = channel.basic_get(dead, auto_ack=False)
            if method is None:
                break
            headers = {
                k: v
                for k, v in (props.headers or {}).items()
                if k not in (ATTEMPTS_HEADER, ERROR_HEADER)
            }
            props.headers = headers
            channel.basic_publish("", queue_name(namespace, service), body, props)
            channel.basic_ack(method.delivery_tag)
            moved += 1
        return moved
    finally:
        connection.close()


def wait_for_broker(amqp_url: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            connect(amqp_url).close()
            return
        except pika.exceptions.AMQPError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)
