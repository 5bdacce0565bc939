"""Servers a test owns alone, so it may stop and start them again on the same port (an outage,
a restart) without disturbing anyone else's tests: a Redis and a SecantusDB."""

from __future__ import annotations

import asyncio
import subprocess
from pathlib import Path

import pymongo
import redis

from common.devstack import free_port
from tests.support.servers import stop_process, venv_tool, wait_for_port


class PrivateServer:
    """One server process on a port of its own; `stop()` then `start()` brings it back on the
    same port, as a restarted pod behind a stable address."""

    def __init__(self) -> None:
        self.port = free_port()
        self.proc: subprocess.Popen | None = None

    def command(self) -> list[str]:
        raise NotImplementedError

    def wait_ready(self) -> None:
        raise NotImplementedError

    def start(self) -> None:
        self.proc = subprocess.Popen(
            self.command(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        wait_for_port(self.port, 60, self.proc)
        self.wait_ready()

    def stop(self) -> None:
        if self.proc is not None:
            stop_process(self.proc)
            self.proc = None

    def kill(self) -> None:
        """SIGKILL: every connection it held drops without a goodbye."""
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
            self.proc = None


class PrivateRedis(PrivateServer):
    def command(self) -> list[str]:
        return [
            *("redis-server", "--port", str(self.port), "--bind", "127.0.0.1"),
            *("--save", "", "--appendonly", "no"),
        ]

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def wait_ready(self) -> None:
        redis.Redis.from_url(self.url, socket_timeout=5).ping()


class PrivateSecantus(PrivateServer):
    """Storage on disk, so what was written before a restart is still there after it."""

    def __init__(self, storage: Path) -> None:
        super().__init__()
        self.storage = storage

    def command(self) -> list[str]:
        return [
            *(venv_tool("secantusd-py"), "--host", "127.0.0.1", "--port", str(self.port)),
            *("--storage-path", str(self.storage), "--log-level", "WARNING"),
        ]

    @property
    def url(self) -> str:
        return f"mongodb://127.0.0.1:{self.port}/?replicaSet=secantus"

    def wait_ready(self) -> None:
        with pymongo.MongoClient(self.url, serverSelectionTimeoutMS=20000) as client:
            client.admin.command("ping")


class CuttableProxy:
    """A loopback TCP proxy to a MongoDB server, in the test's own event loop. `cut()` drops the
    pooled connections that carried operations and keeps accepting new ones: what a NAT, a load
    balancer or the server's idle timeout does to a connection idle in the pool while the client
    still holds it as good. The driver's monitoring connection (never idle: it polls every few
    seconds) is kept, so the driver learns of the cut only by using a pooled connection."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.port = 0
        self._server: asyncio.Server | None = None
        self._pooled: set[asyncio.StreamWriter] = set()
        self._open: set[asyncio.StreamWriter] = set()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        except OSError:
            writer.close()
            return
        pair = {writer, up_writer}
        self._open |= pair

        async def pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
            try:
                while data := await source.read(65536):
                    if b"lsid" in data:  # an operation in a session: a pooled connection
                        self._pooled |= pair
                    sink.write(data)
                    await sink.drain()
            except OSError:
                pass
            finally:
                sink.close()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))
        self._open -= pair
        self._pooled -= pair

    async def cut(self) -> None:
        pooled, self._pooled = list(self._pooled), set()
        assert pooled, "no pooled connection to cut"
        for writer in pooled:
            writer.transport.abort()
        await asyncio.sleep(0.1)  # the clients' transports see the reset

    async def close(self) -> None:
        for writer in list(self._open):
            writer.transport.abort()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
