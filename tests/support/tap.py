"""Watching and injecting events on a namespace's exchange, as an outside observer would."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import pika

from common import bus


@dataclass
class Seen:
    routing_key: str
    properties: pika.BasicProperties
    body: bytes


class EventTap:
    """A private queue bound to every key of `ns.events`, read with basic_get."""

    def __init__(self, amqp_url: str, namespace: str, keys: tuple[str, ...] = ("#",)) -> None:
        self.connection = bus.connect(amqp_url)
        self.channel = self.connection.channel()
        exchange = bus.declare_exchange(self.channel, namespace)
        self.queue = self.channel.queue_declare("", exclusive=True).method.queue
        for key in keys:
            self.channel.queue_bind(self.queue, exchange, routing_key=key)
        self.seen: list[Seen] = []

    def drain(self) -> list[Seen]:
        while True:
            method, props, body = self.channel.basic_get(self.queue, auto_ack=True)
            if method is None:
                return self.seen
            self.seen.append(Seen(method.routing_key, props, body))

    def wait_for(self, count: int, timeout: float = 10.0, key: str | None = None) -> list[Seen]:
        deadline = time.monotonic() + timeout
        while True:
            matching = [s for s in self.drain() if key is None or s.routing_key == key]
            if len(matching) >= count or time.monotonic() > deadline:
                return matching
            self.connection.sleep(0.05)

    def close(self) -> None:
        if self.connection.is_open:
            self.connection.close()


def publish_raw(
    amqp_url: str,
    namespace: str,
    routing_key: str,
    body: bytes,
    message_id: str | None,
    type_name: str,
    headers: dict[str, Any] | None = None,
) -> None:
    connection = bus.connect(amqp_url)
    try:
        channel = connection.channel()
        channel.confirm_delivery()
        exchange = bus.declare_exchange(channel, namespace)
        channel.basic_publish(
            exchange,
            routing_key,
            body,
            pika.BasicProperties(
                message_id=message_id,
                type=type_name,
                content_type="application/json",
                delivery_mode=2,
                headers=headers,
            ),
        )
    finally:
        connection.close()


def queue_depth(amqp_url: str, queue: str) -> int:
    connection = bus.connect(amqp_url)
    try:
        return connection.channel().queue_declare(queue, passive=True).method.message_count
    finally:
        connection.close()
