"""Slow-loris clients: connections that open and then send a request a byte at a time, or nothing
at all, to hold a server's connections (issue 18). Used by the edge's integration test
(tests/integration/test_gateway_edge.py: each is closed within the timeouts) and by the bench's
`slow-loris` scenario (normal requests' latency while they are open).

Each client connects from a loopback source address of its own choosing (127.0.0.2 and up all
reach a server on 127.0.0.1 under Linux), so a test can spread them over addresses, and reads
whatever the server answers until the server closes the connection; the client never closes
first before `give_up`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import time
from collections.abc import Sequence
from dataclasses import dataclass

# What a slow client does once connected.
HEADERS = "headers"  # a request line and headers, a byte at a time, never finished
BODY = "body"  # complete headers announcing a body, then the body a byte at a time
SILENT = "silent"  # nothing at all
BETWEEN = "between"  # a complete request, its response read, then "\r\n" a byte at a time
# Issue 18's 300, of every kind.
MIXED = (HEADERS,) * 120 + (BODY,) * 100 + (SILENT,) * 40 + (BETWEEN,) * 40

_HEAD = (
    b"POST /graphql HTTP/1.1\r\nHost: gateway\r\nUser-Agent: slow-loris\r\n"
    b"Content-Type: application/json\r\nAccept: application/json\r\n"
    b"X-Padding: " + b"a" * 400 + b"\r\n"
)
_BODY = b'{"query": "{ __typename }"}' + b" " * 4_000
_COMPLETE = (
    b"POST /graphql HTTP/1.1\r\nHost: gateway\r\nContent-Type: application/json\r\n"
    b'Content-Length: 27\r\n\r\n{"query": "{ __typename }"}'
)


@dataclass
class Outcome:
    kind: str
    source: str
    opened_at: float | None = None  # time.monotonic(); None: could not connect
    closed_at: float | None = None  # when the server closed it; None: still open at give_up
    received: bytes = b""

    @property
    def held(self) -> float | None:
        """Seconds the connection stayed open (None: open until the client gave up)."""
        if self.opened_at is None or self.closed_at is None:
            return None
        return self.closed_at - self.opened_at


async def slow_client(
    host: str, port: int, source: str, kind: str, interval: float, give_up: float
) -> Outcome:
    """One slow client, until the server closes its connection or `give_up` seconds pass."""
    outcome = Outcome(kind, source)
    try:
        reader, writer = await asyncio.open_connection(host, port, local_addr=(source, 0))
    except OSError:
        return outcome
    outcome.opened_at = time.monotonic()
    deadline = outcome.opened_at + give_up
    reading = asyncio.create_task(_read_until_closed(reader, outcome))
    try:
        if kind == BODY:
            head = _HEAD + b"Content-Length: %d\r\n\r\n" % len(_BODY)
            trickled = _BODY
            writer.write(head)
        elif kind == BETWEEN:
            writer.write(_COMPLETE)
            trickled = b"\r\n" * 1_000
        elif kind == HEADERS:
            trickled = _HEAD
        else:
            trickled = b""
        for byte in itertools.chain(trickled, itertools.repeat(None)):
            remaining = deadline - time.monotonic()
            if reading.done() or remaining <= 0:
                break
            if byte is not None:
                writer.write(bytes([byte]))
            await asyncio.wait([reading], timeout=min(interval, remaining))
    except OSError:
        pass  # the server closed it while we wrote; the reader sees it too
    finally:
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(asyncio.shield(reading), timeout=1)
        reading.cancel()
        writer.close()
    return outcome


async def _read_until_closed(reader: asyncio.StreamReader, outcome: Outcome) -> None:
    try:
        while chunk := await reader.read(65_536):
            outcome.received += chunk
    except OSError:  # reset by the server
        pass
    outcome.closed_at = time.monotonic()


def sources(count: int, first: int = 2) -> list[str]:
    """`count` loopback addresses, 127.0.0.<first> and on."""
    return [f"127.0.{(first + i) // 256}.{(first + i) % 256}" for i in range(count)]


async def attack(
    host: str,
    port: int,
    kinds: Sequence[str],
    addresses: Sequence[str],
    interval: float,
    give_up: float,
) -> list[Outcome]:
    """One slow client per entry of `kinds`, spread over `addresses` round robin, all at once."""
    clients = [
        slow_client(host, port, source, kind, interval, give_up)
        for kind, source in zip(kinds, itertools.cycle(addresses), strict=False)
    ]
    return list(await asyncio.gather(*clients))


async def keep_attacking(
    host: str, port: int, kinds: Sequence[str], addresses: Sequence[str], interval: float
) -> None:
    """As `attack`, each client reconnecting as soon as the server closes it, until cancelled:
    the pressure stays at len(kinds) open connections."""

    async def one(kind: str, source: str) -> None:
        while True:
            outcome = await slow_client(host, port, source, kind, interval, give_up=3600)
            if outcome.opened_at is None:
                await asyncio.sleep(interval)

    clients = zip(kinds, itertools.cycle(addresses), strict=False)
    await asyncio.gather(*(one(kind, source) for kind, source in clients))


def main(argv: list[str] | None = None) -> None:
    """`python -m bench.slow_clients PORT`: 300 slow clients on 127.0.0.1:PORT, reconnecting,
    until killed (the bench runs them in a process of their own, as an attacker would be)."""
    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("port", type=int)
    parser.add_argument("--addresses", type=int, default=10)
    parser.add_argument("--interval", type=float, default=1.0)
    args = parser.parse_args(argv)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(
            keep_attacking("127.0.0.1", args.port, MIXED, sources(args.addresses), args.interval)
        )


if __name__ == "__main__":
    main()
