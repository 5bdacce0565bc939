"""Behaviour events (ticket viewed, tickets browsed, order started): what visitors do that no
service records, accepted into a Redis stream during the request (`recorder`) and published to
RabbitMQ by a relay in every gateway process (`relay`), for insights."""

from gateway.behaviour.process import BehaviourEvents
from gateway.behaviour.recorder import BehaviourRecorder, RequestBehaviour, Visitor
from gateway.behaviour.relay import BehaviourRelay
from gateway.behaviour.stream import stream_key

__all__ = [
    "BehaviourEvents",
    "BehaviourRecorder",
    "BehaviourRelay",
    "RequestBehaviour",
    "Visitor",
    "stream_key",
]
