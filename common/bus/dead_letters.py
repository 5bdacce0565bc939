"""Operator tools on the broker, run from the CLI with blocking connections: peek at and replay
a service's dead letters, wait for the broker to answer."""

from __future__ import annotations

import time
from typing import Any

import pika
import pika.exceptions

from common.bus.topology import (
    ATTEMPTS_HEADER,
    ERROR_HEADER,
    RETRY_HEADERS,
    connect,
    dead_queue_name,
    queue_name,
)


class DeadLetterError(Exception):
    """The dead letters cannot be replayed; the message says why and what to do."""


def _message_count(connection: pika.BlockingConnection, queue: str) -> int | None:
    """The messages ready in `queue`; None when there is no such queue. A passive declare:
    looking creates nothing."""
    channel = connection.channel()
    try:
        count = channel.queue_declare(queue, passive=True).method.message_count
    except pika.exceptions.ChannelClosedByBroker as exc:
        if exc.reply_code == 404:  # NOT_FOUND; the broker closed this channel only
            return None
        raise
    channel.close()
    return int(count)


def dead_letters(
    amqp_url: str, namespace: str, service: str, limit: int = 100
) -> list[dict[str, Any]]:
    """Peeks at a service's dead queue (messages stay there); nothing when it has none, or
    has no dead queue yet (none is declared here)."""
    connection = connect(amqp_url)
    try:
        queue = dead_queue_name(namespace, service)
        if not _message_count(connection, queue):
            return []
        return peek(connection, queue, limit)
    finally:
        connection.close()


def peek(connection: pika.BlockingConnection, queue: str, limit: int = 100) -> list[dict[str, Any]]:
    """Up to `limit` messages of `queue`, read without taking them: they are never acked, and
    go back to the queue when the channel closes."""
    channel = connection.channel()
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
                "timestamp": props.timestamp,
                "attempts": headers.get(ATTEMPTS_HEADER),
                "error": headers.get(ERROR_HEADER),
                "body": body.decode(errors="replace"),
            }
        )
    channel.close()
    return seen


def replay_dead_letters(amqp_url: str, namespace: str, service: str) -> int:
    """Moves every dead message back to the service's queue with fresh budgets; 0 when there is
    none. Declares nothing: a queue that does not exist is not made here."""
    connection = connect(amqp_url)
    moved = 0
    try:
        dead = dead_queue_name(namespace, service)
        count = _message_count(connection, dead)
        if not count:
            return 0
        target = queue_name(namespace, service)
        if _message_count(connection, target) is None:
            raise DeadLetterError(
                f"queue {target} does not exist: start {service} (it declares its queues),"
                " then replay"
            )
        channel = connection.channel()
        channel.confirm_delivery()
        for _ in range(count):
            method, props, body = channel.basic_get(dead, auto_ack=False)
            if method is None:
                break
            props.headers = {
                k: v for k, v in (props.headers or {}).items() if k not in RETRY_HEADERS
            }
            # Mandatory: should the queue go meanwhile, the publish fails and the message stays
            # dead (unacked, so back in its queue), rather than vanish unrouted.
            channel.basic_publish("", target, body, props, mandatory=True)
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
