"""A graphql-transport-ws client for tests (websockets' threaded client: it answers the server's
pings by itself while a test does something else)."""

from __future__ import annotations

import json
import queue
import threading
from typing import Any

from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

PROTOCOL = "graphql-transport-ws"
WAIT_SECONDS = 20

ORDER_UPDATED = (
    "subscription($id: ID!) { orderUpdated(id: $id) { id status version buyer { id } "
    "ticket { id state } payment { id amount { amount currencyCode } status } } }"
)
TICKET_UPDATED = (
    "subscription($id: ID!) { ticketUpdated(id: $id) "
    "{ id title price { amount currencyCode } version state } }"
)


def ws_url(base_url: str) -> str:
    return base_url.replace("http://", "ws://", 1) + "/graphql"


class Subscriber:
    """One connection; every message the server sends is kept, by operation id, in order."""

    def __init__(self, connection: ClientConnection) -> None:
        self.connection = connection
        self.messages: dict[str | None, queue.Queue[dict[str, Any]]] = {}
        self.closed = threading.Event()
        self._lock = threading.Lock()
        self._next_id = 0
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    @classmethod
    def connect(
        cls,
        base_url: str,
        params: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        origin: str | None = None,
    ) -> Subscriber:
        opening = connect(
            ws_url(base_url),
            subprotocols=[PROTOCOL],  # type: ignore[list-item]
            additional_headers=headers,
            origin=origin,  # type: ignore[arg-type]
            open_timeout=WAIT_SECONDS,
        )
        subscriber = cls(opening.__enter__())  # closed by close()
        subscriber.send({"type": "connection_init", "payload": params or {}})
        return subscriber

    def acked(self) -> Subscriber:
        ack = self.next(None)
        assert ack["type"] == "connection_ack", ack
        return self

    def _read(self) -> None:
        try:
            for text in self.connection:
                message = json.loads(text)
                self._queue(message.get("id")).put(message)
        except ConnectionClosed:
            pass
        finally:
            self.closed.set()

    def _queue(self, operation: str | None) -> queue.Queue[dict[str, Any]]:
        with self._lock:
            return self.messages.setdefault(operation, queue.Queue())

    def send(self, message: dict[str, Any]) -> None:
        self.connection.send(json.dumps(message))

    def subscribe(self, query: str, **variables: Any) -> str:
        self._next_id += 1
        operation = str(self._next_id)
        payload = {"query": query, "variables": variables}
        self.send({"id": operation, "type": "subscribe", "payload": payload})
        return operation

    def next(self, operation: str | None, timeout: float = WAIT_SECONDS) -> dict[str, Any]:
        """The next message of `operation` (None: connection-level, such as the ack)."""
        try:
            return self._queue(operation).get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f"no message for {operation!r} within {timeout}s") from None

    def data(self, operation: str, field: str) -> dict[str, Any]:
        message = self.next(operation)
        assert message["type"] == "next" and not message["payload"].get("errors"), message
        return message["payload"]["data"][field]

    def until(self, operation: str, field: str, predicate) -> dict[str, Any]:
        """Skips pushes until one satisfies `predicate` (a change may come as several)."""
        while True:
            value = self.data(operation, field)
            if predicate(value):
                return value

    def error_codes(self, operation: str) -> list[str]:
        """The codes of the error that ends `operation` (a `next` with errors, or `error`)."""
        message = self.next(operation)
        errors = message["payload"] if message["type"] == "error" else message["payload"]["errors"]
        return [e["extensions"]["code"] for e in errors]

    def completed(self, operation: str) -> bool:
        return self.next(operation)["type"] == "complete"

    def close_code(self, timeout: float = WAIT_SECONDS) -> int | None:
        assert self.closed.wait(timeout), "the server did not close the connection"
        return self.connection.close_code

    def close(self) -> None:
        self.connection.close()
        self._reader.join(5)
