"""One pika AsyncioConnection with one channel in confirm mode, driven by the service's event
loop and awaited like any other asyncio I/O.

The loop runs pika's heartbeat timers and socket reads between everything else it does, so a
connection stays alive while it idles and while handlers run; no thread of our own is needed.
pika's callbacks become futures here, and every future still waiting fails when the channel or
connection closes, so nothing awaits an answer that cannot come.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
from collections.abc import Callable
from typing import Any

import pika
import pika.exceptions
from pika.adapters.asyncio_connection import AsyncioConnection
from pika.channel import Channel

log = logging.getLogger(__name__)


class LinkClosed(pika.exceptions.AMQPConnectionError):
    """The connection or channel closed before the broker answered."""


class Nacked(pika.exceptions.AMQPError):
    """The broker refused to take a published message."""


class Link:
    """Use `await Link.open(params)`; `closed` is set once the connection or channel is gone."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.connection: AsyncioConnection | None = None
        self.channel: Channel | None = None
        self.closed = asyncio.Event()
        # Set only once pika has torn the connection down (after `closed`, if the channel went
        # first): closing waits for it, so no callback of this link fires after close().
        self._connection_gone = asyncio.Event()
        self.close_reason: BaseException | None = None
        self._pending: set[asyncio.Future[Any]] = set()
        # delivery tag -> its confirm, in publishing order (tags only grow on a channel)
        self._confirms: dict[int, asyncio.Future[None]] = {}
        self._next_tag = 1

    @classmethod
    async def open(cls, params: pika.ConnectionParameters, timeout: float = 15.0) -> Link:
        link = cls(asyncio.get_running_loop())
        try:
            async with asyncio.timeout(timeout):
                await link._open(params)
        except BaseException:
            await link.close()
            raise
        return link

    async def _open(self, params: pika.ConnectionParameters) -> None:
        opened: asyncio.Future[None] = self._future()

        def on_open(_connection: Any) -> None:
            self._resolve(opened, None)

        def on_open_error(_connection: Any, exc: BaseException | str) -> None:
            where = f"{params.host}:{params.port}"
            self._fail(opened, LinkClosed(f"cannot connect to RabbitMQ at {where}: {exc!r}"))

        self.connection = AsyncioConnection(
            params,
            on_open_callback=on_open,
            on_open_error_callback=on_open_error,
            on_close_callback=self._on_connection_closed,
            custom_ioloop=self.loop,
        )
        await opened
        channel_opened: asyncio.Future[Channel] = self._future()
        self.connection.channel(on_open_callback=lambda ch: self._resolve(channel_opened, ch))
        self.channel = await channel_opened
        self.channel.add_on_close_callback(self._on_closed)
        await self.call(self.channel.confirm_delivery, self._on_confirm)

    @property
    def is_open(self) -> bool:
        return not self.closed.is_set() and self.channel is not None and self.channel.is_open

    async def call(self, method: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Runs a channel RPC (declare, bind, qos...) and returns the broker's answer frame."""
        answered: asyncio.Future[Any] = self._future()
        method(*args, **kwargs, callback=lambda frame: self._resolve(answered, frame))
        return await answered

    def publish(
        self, exchange: str, routing_key: str, body: bytes, properties: pika.BasicProperties
    ) -> asyncio.Future[None]:
        """Sends at once and returns the broker's confirm, to be awaited when convenient: a
        batch goes out whole and its confirms arrive while it is still being written."""
        if not self.is_open:
            raise LinkClosed(f"channel is closed: {self.close_reason!r}")
        assert self.channel is not None
        confirm: asyncio.Future[None] = self.loop.create_future()
        self._confirms[self._next_tag] = confirm
        self._next_tag += 1
        self.channel.basic_publish(exchange, routing_key, body, properties)
        return confirm

    def ack(self, delivery_tag: int) -> bool:
        """Acks a delivery received on this link; False when the link is gone (the broker then
        delivers the message again, to be dropped as a duplicate)."""
        if not self.is_open:
            return False
        assert self.channel is not None
        self.channel.basic_ack(delivery_tag)
        return True

    async def close(self) -> None:
        connection = self.connection
        if connection is not None and not self._connection_gone.is_set():
            if connection.is_open:
                with contextlib.suppress(Exception):
                    connection.close()
            if not connection.is_closed:  # closing: pika calls back once it is done
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(5):
                        await self._connection_gone.wait()
        self._on_closed(None, LinkClosed("closed by us"))

    # -- pika's callbacks ------------------------------------------------------------------

    def _on_confirm(self, frame: pika.frame.Method) -> None:
        method = frame.method
        nacked = isinstance(method, pika.spec.Basic.Nack)
        tag = method.delivery_tag
        if method.multiple:  # every tag up to this one; the dict is in tag order
            done = list(itertools.takewhile(lambda t: t <= tag, self._confirms))
        else:
            done = [tag]
        for confirmed in done:
            confirm = self._confirms.pop(confirmed, None)
            if confirm is None:
                continue
            if nacked:
                self._fail(confirm, Nacked(f"broker nacked delivery {confirmed}"))
            else:
                self._resolve(confirm, None)

    def _on_connection_closed(self, _connection: Any, reason: BaseException | str) -> None:
        self._connection_gone.set()
        self._on_closed(None, reason)

    def _on_closed(self, _source: Any, reason: BaseException | str | None) -> None:
        if self.closed.is_set():
            return
        if not isinstance(reason, LinkClosed):
            # The channel closing alone (a refused declare) leaves a useless connection open.
            if self.connection is not None and self.connection.is_open:
                with contextlib.suppress(Exception):
                    self.connection.close()
        self.close_reason = _as_error(reason)
        self.closed.set()
        error = LinkClosed(f"connection closed: {self.close_reason!r}")
        for future in [*self._pending, *self._confirms.values()]:
            self._fail(future, error)
        self._pending.clear()
        self._confirms.clear()

    # -- futures ------------------------------------------------------------------------------

    def _future(self) -> asyncio.Future[Any]:
        future = self.loop.create_future()
        if self.closed.is_set():
            future.set_exception(LinkClosed(f"connection closed: {self.close_reason!r}"))
        else:
            self._pending.add(future)
            future.add_done_callback(self._pending.discard)
        return future

    @staticmethod
    def _resolve(future: asyncio.Future[Any], value: Any) -> None:
        if not future.done():
            future.set_result(value)

    @staticmethod
    def _fail(future: asyncio.Future[Any], error: BaseException) -> None:
        if not future.done():
            future.set_exception(error)
            # A confirm nobody awaits any more must not warn "exception never retrieved".
            future.add_done_callback(lambda f: f.exception())


def _as_error(reason: BaseException | str | None) -> BaseException:
    if isinstance(reason, BaseException):
        return reason
    return LinkClosed(str(reason))
