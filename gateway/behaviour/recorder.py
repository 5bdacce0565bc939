"""Recording what visitors do, from the resolvers: the event is accepted into a Redis stream
during the request (one XADD, well under a millisecond) and published by the relay
(gateway.behaviour.relay). Once XADD returned the event is never lost: Redis keeps it until a
relay has it confirmed by RabbitMQ.

Recording never fails a request and never holds one up for long: Redis has
BEHAVIOUR_EVENTS_TIMEOUT_SECONDS to accept it, and after a failure it is left alone for a second
(gateway.breaker). An event Redis did not accept is dropped: counted in
`ticketing_behaviour_events_total{outcome="dropped"}` and logged once per outage.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

import redis.asyncio as aioredis
from google.protobuf.message import Message
from redis.exceptions import RedisError

from common import events, tracing
from common.clock import Clock, SystemClock
from common.metrics.series import BEHAVIOUR_EVENTS
from common.protos import from_timestamp, timestamp
from gateway.behaviour.stream import entry_of, stream_key
from gateway.breaker import Breaker
from ticketing.events.v1 import behaviour_pb2

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Visitor:
    """Who did it: the signed-in user ('' when anonymous) and the visitor's stable anonymous
    id (the `anon_id` cookie), both, so a visit before sign-up is linked to the user after."""

    user_id: str
    anonymous_id: str


class BehaviourRecorder:
    def __init__(
        self,
        redis: aioredis.Redis,
        namespace: str,
        clock: Clock | None = None,
        breaker: Breaker | None = None,
    ) -> None:
        self.redis = redis
        self.stream = stream_key(namespace)
        self.clock = clock or SystemClock()
        self.breaker = breaker or Breaker(
            down="behaviour events cannot reach Redis, dropping them until it answers",
            back="behaviour events reach Redis again",
        )

    async def ticket_viewed(self, visitor: Visitor, ticket_id: str) -> None:
        await self.record(
            behaviour_pb2.TicketViewed(
                ticket_id=ticket_id,
                user_id=visitor.user_id,
                anonymous_id=visitor.anonymous_id,
                occurred_at=timestamp(self.clock.now()),
            )
        )

    async def event_viewed(self, visitor: Visitor, event_id: str) -> None:
        await self.record(
            behaviour_pb2.EventViewed(
                event_id=event_id,
                user_id=visitor.user_id,
                anonymous_id=visitor.anonymous_id,
                occurred_at=timestamp(self.clock.now()),
            )
        )

    async def tickets_browsed(
        self,
        visitor: Visitor,
        *,
        first: int,
        after: str,
        include_reserved: bool,
        ticket_ids: Sequence[str],
    ) -> None:
        await self.record(
            behaviour_pb2.TicketsBrowsed(
                user_id=visitor.user_id,
                anonymous_id=visitor.anonymous_id,
                first=first,
                after=after,
                include_reserved=include_reserved,
                ticket_ids=list(ticket_ids),
                occurred_at=timestamp(self.clock.now()),
            )
        )

    async def order_started(self, visitor: Visitor, ticket_id: str) -> None:
        await self.record(
            behaviour_pb2.OrderStarted(
                ticket_id=ticket_id,
                user_id=visitor.user_id,
                anonymous_id=visitor.anonymous_id,
                occurred_at=timestamp(self.clock.now()),
            )
        )

    async def record(self, event: Message) -> bool:
        """Accepts `event` into the stream; False (and counted as dropped) if Redis did not."""
        kind = event.DESCRIPTOR.name
        if self.breaker.is_open:
            BEHAVIOUR_EVENTS.labels(kind, "dropped").inc()
            return False
        event_id = str(uuid.uuid4())
        occurred_at = from_timestamp(event.occurred_at)  # type: ignore[attr-defined]
        fields = entry_of(event, event_id, occurred_at, tracing.current_carrier())
        try:
            await self.redis.xadd(self.stream, fields)  # type: ignore[arg-type]
        except (RedisError, OSError) as exc:
            self.breaker.failed(exc)
            BEHAVIOUR_EVENTS.labels(kind, "dropped").inc()
            log.debug(
                "behaviour event dropped",
                extra={"type": events.routing_key(event), "error": repr(exc)},
            )
            return False
        self.breaker.succeeded()
        BEHAVIOUR_EVENTS.labels(kind, "accepted").inc()
        return True


class RequestBehaviour:
    """The recorder as one request's resolvers use it: the visitor filled in (the verified
    caller, if any, and the anonymous id), nothing done when recording is off."""

    def __init__(
        self,
        recorder: BehaviourRecorder | None,
        anonymous_id: str,
        user_id: Callable[[], Awaitable[str]],
    ) -> None:
        self.recorder = recorder
        self.anonymous_id = anonymous_id
        self._user_id = user_id

    async def _visitor(self) -> Visitor:
        assert self.recorder is not None
        if self.recorder.breaker.is_open:  # it will be dropped: no need to check the token
            return Visitor("", self.anonymous_id)
        try:
            user_id = await self._user_id()
        except Exception:  # the token cannot be checked now (Redis down): not this event's worry
            user_id = ""
        return Visitor(user_id, self.anonymous_id)

    async def ticket_viewed(self, ticket_id: str) -> None:
        if self.recorder is not None:
            await self.recorder.ticket_viewed(await self._visitor(), ticket_id)

    async def event_viewed(self, event_id: str) -> None:
        if self.recorder is not None:
            await self.recorder.event_viewed(await self._visitor(), event_id)

    async def tickets_browsed(
        self, *, first: int, after: str, include_reserved: bool, ticket_ids: Sequence[str]
    ) -> None:
        if self.recorder is not None:
            await self.recorder.tickets_browsed(
                await self._visitor(),
                first=first,
                after=after,
                include_reserved=include_reserved,
                ticket_ids=ticket_ids,
            )

    async def order_started(self, ticket_id: str) -> None:
        if self.recorder is not None:
            await self.recorder.order_started(await self._visitor(), ticket_id)
