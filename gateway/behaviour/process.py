"""Behaviour events in one gateway process, wired from its settings."""

from __future__ import annotations

from common.bus import RabbitPublisher
from common.redis_client import redis_client
from gateway.behaviour.recorder import BehaviourRecorder
from gateway.behaviour.relay import BehaviourRelay
from gateway.config import GatewaySettings


class BehaviourEvents:
    """Behaviour events in one gateway process: the recorder the requests use (Redis that fails
    fast) and the relay that publishes what they recorded (Redis that may block on a read,
    RabbitMQ with confirms). Nothing without BEHAVIOUR_EVENTS_ENABLED."""

    def __init__(self, settings: GatewaySettings) -> None:
        self.recorder: BehaviourRecorder | None = None
        self.relay: BehaviourRelay | None = None
        if not settings.behaviour_events_enabled:
            return
        self._recording_redis = redis_client(
            settings, fail_fast_seconds=settings.behaviour_events_timeout_seconds
        )
        self._relay_redis = redis_client(settings)
        self._publisher = RabbitPublisher(
            settings.amqp_url.get_secret_value(),
            settings.namespace,
            heartbeat_seconds=settings.amqp_heartbeat_seconds,
        )
        self.recorder = BehaviourRecorder(self._recording_redis, settings.namespace)
        self.relay = BehaviourRelay(
            self._relay_redis,
            settings.namespace,
            self._publisher.publish,
            claim_seconds=settings.outbox_claim_seconds,
        )

    def start(self) -> None:
        if self.relay is not None:
            self.relay.start()

    async def stop(self) -> None:
        if self.relay is None:
            return
        await self.relay.stop()
        await self._publisher.close()
        await self._relay_redis.aclose()
        await self._recording_redis.aclose()
