"""An outside observer of a namespace's exchange: a private queue bound to some routing keys,
consumed on a thread of its own, stamping every message with the wall-clock time it arrived.

The broker routes a message to this queue when the publisher hands it over, so the arrival time
is the publish time plus one loopback hop (well under a millisecond when the probe keeps up,
which a queue with a high prefetch and auto-ack does)."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from typing import Any

from common import bus


@dataclass(frozen=True)
class Arrival:
    at: float  # time.time()
    routing_key: str
    message_id: str | None
    app_id: str | None
    body: bytes

    def json(self) -> dict[str, Any]:
        return json.loads(self.body)


class EventProbe:
    def __init__(self, amqp_url: str, namespace: str, keys: tuple[str, ...] = ("#",)) -> None:
        self._connection = bus.connect(amqp_url)
        self._channel = self._connection.channel()
        exchange = bus.declare_exchange(self._channel, namespace)
        self.queue = self._channel.queue_declare("", exclusive=True).method.queue
        for key in keys:
            self._channel.queue_bind(self.queue, exchange, routing_key=key)
        self._channel.basic_qos(prefetch_count=1000)
        self._channel.basic_consume(self.queue, self._on_message, auto_ack=True)
        self._lock = threading.Lock()
        self._arrivals: list[Arrival] = []
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._consume, name="probe", daemon=True)
        self._thread.start()

    def _on_message(self, channel, method, properties, body: bytes) -> None:
        arrival = Arrival(
            time.time(), method.routing_key, properties.message_id, properties.app_id, body
        )
        with self._lock:
            self._arrivals.append(arrival)

    def _consume(self) -> None:
        while not self._stopping.is_set():
            self._connection.process_data_events(time_limit=0.1)

    def arrivals(self, key: str | None = None) -> list[Arrival]:
        with self._lock:
            return [a for a in self._arrivals if key is None or a.routing_key == key]

    def clear(self) -> None:
        with self._lock:
            self._arrivals.clear()

    def close(self) -> None:
        self._stopping.set()
        self._thread.join(5)
        if self._connection.is_open:
            self._connection.close()
