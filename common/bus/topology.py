"""What the bus is made of: names, connection parameters, message properties, and blocking
helpers for the tools and tests that talk to the broker outside a service's event loop.

Topology, all named from TICKETING_NAMESPACE (`ns`):
- `ns.events`: durable topic exchange; routing keys such as `order.created`.
- `ns.<service>`: a service's durable queue, bound to the keys it consumes.
- `ns.<service>.retry.<ms>`: holding queues; a message waits there for <ms> and is dead-lettered
  back to `ns.<service>`.
- `ns.<service>.dead`: where a message goes once its budget is spent, with the reason in
  `x-error`; `ticketing events replay <service>` moves them back once the cause is fixed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pika
from pika.adapters.blocking_connection import BlockingChannel

from common import events

# How many tries a message has had (every delivery through the retry queues counts).
ATTEMPTS_HEADER = "x-attempts"
# How many of those tries the handler failed (NotYet excluded): the EVENT_MAX_ATTEMPTS budget.
FAILURES_HEADER = "x-failures"
# When (epoch ms) the handler first said NotYet: the EVENT_WAIT_BUDGET_SECONDS budget.
WAITING_SINCE_HEADER = "x-waiting-since"
ERROR_HEADER = "x-error"
ORIGINAL_ROUTING_KEY_HEADER = "x-original-routing-key"
# When the event was recorded (epoch ms): the AMQP `timestamp` property holds whole seconds only.
OCCURRED_AT_HEADER = "x-occurred-at-ms"
# Headers that belong to one trip through the retry queues; a replay starts afresh.
RETRY_HEADERS = (ATTEMPTS_HEADER, FAILURES_HEADER, WAITING_SINCE_HEADER, ERROR_HEADER)

DEFAULT_HEARTBEAT_SECONDS = 30


def exchange_name(namespace: str) -> str:
    return f"{namespace}.events"


def queue_name(namespace: str, service: str) -> str:
    return f"{namespace}.{service}"


def dead_queue_name(namespace: str, service: str) -> str:
    return f"{queue_name(namespace, service)}.dead"


def retry_queue_name(namespace: str, service: str, delay_ms: int) -> str:
    return f"{queue_name(namespace, service)}.retry.{delay_ms}"


@dataclass(frozen=True)
class ServiceQueues:
    """A consuming service's part of the topology, to be declared before it consumes."""

    exchange: str
    queue: str
    routing_keys: tuple[str, ...]
    # retry queue name -> its declaration arguments
    retry_queues: Mapping[str, Mapping[str, Any]]
    dead_queue: str


def service_queues(
    namespace: str, service: str, routing_keys: list[str], retry_delays_ms: tuple[int, ...]
) -> ServiceQueues:
    queue = queue_name(namespace, service)
    return ServiceQueues(
        exchange=exchange_name(namespace),
        queue=queue,
        routing_keys=tuple(routing_keys),
        retry_queues={
            retry_queue_name(namespace, service, delay): {
                "x-message-ttl": delay,
                "x-dead-letter-exchange": "",
                "x-dead-letter-routing-key": queue,
            }
            for delay in sorted(set(retry_delays_ms))
        },
        dead_queue=dead_queue_name(namespace, service),
    )


def connection_parameters(
    amqp_url: str, heartbeat_seconds: int = DEFAULT_HEARTBEAT_SECONDS
) -> pika.URLParameters:
    params = pika.URLParameters(amqp_url)
    params.heartbeat = heartbeat_seconds
    params.blocked_connection_timeout = 30
    params.connection_attempts = 1
    params.socket_timeout = 5
    return params


def connect(amqp_url: str) -> pika.BlockingConnection:
    """A blocking connection, for short-lived tools (CLI, tests) that do not idle on it."""
    return pika.BlockingConnection(connection_parameters(amqp_url))


def declare_exchange(channel: BlockingChannel, namespace: str) -> str:
    name = exchange_name(namespace)
    channel.exchange_declare(name, exchange_type="topic", durable=True)
    return name


def properties_for(
    doc: Mapping[str, Any], headers: Mapping[str, Any] | None = None
) -> pika.BasicProperties:
    created: datetime = doc.get("created_at") or datetime.now(UTC)
    if created.tzinfo is None:  # as MongoDB gives it back: UTC, naive
        created = created.replace(tzinfo=UTC)
    return pika.BasicProperties(
        message_id=doc["_id"],
        type=doc["type"],
        content_type=events.CONTENT_TYPE,
        timestamp=int(created.timestamp()),
        app_id=doc["app_id"],
        delivery_mode=pika.DeliveryMode.Persistent,
        headers={**(headers or {}), OCCURRED_AT_HEADER: int(created.timestamp() * 1000)},
    )


def occurred_at(props: pika.BasicProperties) -> datetime | None:
    """When a message's event was recorded: its `x-occurred-at-ms` header, else the AMQP
    timestamp (whole seconds), else unknown."""
    millis = (props.headers or {}).get(OCCURRED_AT_HEADER)
    if isinstance(millis, int):
        return datetime.fromtimestamp(millis / 1000, UTC)
    if props.timestamp:
        return datetime.fromtimestamp(props.timestamp, UTC)
    return None
