"""What every service process shares: its connections, built once from settings, and its
lifecycle (start the consumers, relay and gRPC server; on SIGTERM stop them in reverse)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TypeVar

import redis.asyncio as aioredis
from google.protobuf.message import Message
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from common.bus import EventConsumer, Handler, RabbitPublisher, consumer_for
from common.clock import Clock, SystemClock
from common.config import CommonSettings
from common.grpc_server import GrpcServer
from common.jwt import TokenBinding, TokenVerifier
from common.metrics.outbox import OUTBOX_BACKLOG
from common.mongo import OUTBOX, UnitOfWork, database_name, ensure_outbox_indexes, mongo_client
from common.outbox import OutboxRelay
from common.redis_client import redis_client
from common.retention import EventRetention
from common.revocations import RevocationCache
from common.service_identity import (
    ServiceTokens,
    ServiceTokenVerifier,
    tokens_from_settings,
    verifier_from,
)
from common.settings import ConfigError

log = logging.getLogger(__name__)

U = TypeVar("U", bound=UnitOfWork)


@dataclass
class Infrastructure:
    """A service's connections. Creating it connects to nothing; `close()` releases it all."""

    name: str
    settings: CommonSettings
    redis: aioredis.Redis
    verifier: TokenVerifier
    # The calling services' tokens this service's gRPC server checks (its access tables).
    services: ServiceTokenVerifier
    revocations: RevocationCache
    publisher: RabbitPublisher
    clock: Clock
    # A service that keeps no documents (expiration) has no database, outbox or relay.
    mongo: AsyncMongoClient | None = None
    db: AsyncDatabase | None = None
    relay: OutboxRelay | None = None
    retention: EventRetention | None = None

    @classmethod
    def from_settings(
        cls,
        name: str,
        settings: CommonSettings,
        clock: Clock | None = None,
        with_database: bool = True,
    ) -> Infrastructure:
        clock = clock or SystemClock()
        redis = redis_client(settings)
        revocations = RevocationCache(redis, settings.namespace, clock)
        verifier = TokenVerifier(
            settings.public_keys(), revocations, clock, binding=TokenBinding.of(settings)
        )
        try:
            services = verifier_from(name, settings.require_service_public_keys_dir(), clock)
        except (OSError, ValueError) as exc:
            raise ConfigError(f"SERVICE_PUBLIC_KEYS_DIR: {exc}") from None
        publisher = RabbitPublisher(
            settings.amqp_url.get_secret_value(),
            settings.namespace,
            heartbeat_seconds=settings.amqp_heartbeat_seconds,
        )
        infra = cls(name, settings, redis, verifier, services, revocations, publisher, clock)
        if with_database:
            infra.mongo = mongo_client(settings.require_mongo_url())
            infra.db = infra.mongo[database_name(settings.namespace, name)]
            infra.relay = OutboxRelay(
                infra.db[OUTBOX],
                publisher.publish,
                claim_seconds=settings.outbox_claim_seconds,
                clock=clock,
            )
            infra.retention = EventRetention(
                infra.db, timedelta(hours=settings.event_retention_hours), clock
            )
        return infra

    def service_tokens(self) -> ServiceTokens:
        """This service's tokens for the services it calls (its own private key)."""
        return tokens_from_settings(self.name, self.settings, self.clock)

    def unit_of_work(self, kind: type[U]) -> Callable[[], U]:
        """Makes a fresh `kind` (a UnitOfWork subclass) per transaction, on this service's
        database, its events claimed for this process's outbox relay, which commits wake."""
        mongo, db, relay = self.mongo, self.db, self.relay
        assert mongo is not None and db is not None and relay is not None
        return lambda: kind(mongo, db, self.name, self.clock, relay=relay)

    def consumer(self, handlers: Mapping[type[Message], Handler]) -> EventConsumer:
        return consumer_for(self.settings, self.name, handlers)

    async def close(self) -> None:
        await self.publisher.close()
        await self.redis.aclose()
        if self.mongo is not None:
            await self.mongo.close()


@dataclass
class ServiceProcess:
    """A running service: background loops, event consumers and the gRPC server."""

    name: str
    server: GrpcServer
    infra: Infrastructure
    consumers: list[EventConsumer] = field(default_factory=list)
    loops: list[Callable[[], Awaitable[None]]] = field(default_factory=list)
    on_start: list[Callable[[], Awaitable[None]]] = field(default_factory=list)
    # Run after the server and consumers stopped (e.g. closing channels to other services).
    on_stop: list[Callable[[], Awaitable[None]]] = field(default_factory=list)
    _tasks: list[asyncio.Task] = field(default_factory=list)
    _backlog: object | None = None  # its outbox, as the metrics report it
    port: int = 0

    async def start(self, host: str, port: int) -> int:
        if self.infra.db is not None:
            await ensure_outbox_indexes(self.infra.db)
            self._backlog = OUTBOX_BACKLOG.watch(
                self.name, self.infra.db[OUTBOX], asyncio.get_running_loop(), self.infra.clock
            )
        for hook in self.on_start:
            await hook()
        if self.infra.relay is not None:
            self._tasks.append(asyncio.create_task(self.infra.relay.run(), name="outbox-relay"))
        if self.infra.retention is not None:
            self._tasks.append(
                asyncio.create_task(self.infra.retention.run(), name="event-retention")
            )
        for loop in self.loops:
            self._tasks.append(asyncio.create_task(loop()))
        for consumer in self.consumers:
            consumer.start()
        self.port = await self.server.start(host, port)
        log.info("serving", extra={"service": self.name, "port": self.port})
        return self.port

    async def wait_consumers_ready(self) -> None:
        for consumer in self.consumers:
            await consumer.wait_ready()

    async def stop(self) -> None:
        if self._backlog is not None:
            OUTBOX_BACKLOG.forget(self._backlog)
        await self.server.stop()
        for consumer in self.consumers:
            await consumer.stop()
        for task in self._tasks:
            # Cancel until it takes: on Python 3.11, redis-py's use of asyncio.wait_for can
            # swallow a cancellation that lands as a command completes.
            while not task.done():
                task.cancel()
                await asyncio.wait([task], timeout=0.5)
            with contextlib.suppress(asyncio.CancelledError, Exception):
                task.result()
        # One last pass, so events committed by the calls that just drained leave now.
        if self.infra.relay is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.infra.relay.publish_pending(), 5)
        for hook in self.on_stop:
            with contextlib.suppress(Exception):
                await hook()
        await self.infra.close()


async def run_until_signalled(
    start: Callable[[], Awaitable[object]], stop: Callable[[], Awaitable[None]]
) -> None:
    """Starts, then waits for SIGTERM or SIGINT and stops cleanly."""
    loop = asyncio.get_running_loop()
    stopping = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stopping.set)
    await start()
    await stopping.wait()
    log.info("stopping")
    await stop()
