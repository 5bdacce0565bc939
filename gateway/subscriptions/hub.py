"""Who in this process watches which order or ticket, and waking them when an event names it.

A `Watch` is one subscription's mailbox: an event for its id sets `changed` and keeps the newest
event seen (by version), so however many events arrive while the subscriber is busy (reading the
order, or a slow client), it wakes once and reads once: memory per subscription is bounded and a
slow client never holds a queue. `lost` says events may have been missed (the broker connection
was lost and its queue with it): the subscriber reads its object again.

Nothing here touches RabbitMQ: the feed (gateway/subscriptions/feed.py) calls `deliver` and
`resync`, and is told through `Bindings` which kinds of events someone is waiting for.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Protocol

from google.protobuf.message import Message

from common import events
from gateway.subscriptions.revocations import OpenSessions
from ticketing.events.v1 import orders_pb2 as order_events
from ticketing.events.v1 import tickets_pb2 as ticket_events


class Topic(enum.Enum):
    ORDER = "order"
    TICKET = "ticket"


# The events that change what a subscriber of each topic sees, and the id they name. An order's
# payment is settled before its OrderUpdated (COMPLETE, AWAITING_PAYMENT) or OrderCancelled
# (declined) is published, so the order events cover it.
TOPIC_EVENTS: dict[Topic, tuple[type[Message], ...]] = {
    Topic.ORDER: (order_events.OrderUpdated, order_events.OrderCancelled),
    Topic.TICKET: (ticket_events.TicketUpdated,),
}
TOPIC_OF: dict[str, Topic] = {
    events.type_name(kind): topic for topic, kinds in TOPIC_EVENTS.items() for kind in kinds
}


def routing_keys(topic: Topic) -> tuple[str, ...]:
    return tuple(events.routing_key(kind) for kind in TOPIC_EVENTS[topic])


@dataclass(eq=False)
class Watch:
    topic: Topic
    id: str
    changed: asyncio.Event = field(default_factory=asyncio.Event)
    # The newest event for this id since the subscriber last looked (tickets are pushed from it).
    latest: Message | None = None
    # Events may have been missed: read the object again rather than trust `latest`.
    lost: bool = False

    def notify(self, event: Message) -> None:
        if self.latest is None or _version(event) >= _version(self.latest):
            self.latest = event
        self.changed.set()

    def mark_lost(self) -> None:
        self.lost = True
        self.changed.set()

    def take(self) -> tuple[Message | None, bool]:
        """(the newest event, whether some may be missing) since the last take; clears both."""
        latest, lost = self.latest, self.lost
        self.latest, self.lost = None, False
        self.changed.clear()
        return latest, lost


def _version(event: Message) -> int:
    return int(getattr(event, "version", 0))


class Bindings(Protocol):
    """The feed's side: told when a topic gains its first watcher (returns once its events are
    routed to this process, or at once when the broker cannot be reached: a reconnection then
    marks every watch lost) and when it loses its last."""

    async def want(self, topic: Topic) -> None: ...

    def unwant(self, topic: Topic) -> None: ...


class Hub:
    def __init__(self) -> None:
        self._watches: dict[tuple[Topic, str], set[Watch]] = {}
        self.bindings: Bindings | None = None
        # The tokens open subscriptions hold, woken by revocations (revocations.py).
        self.sessions = OpenSessions()

    @contextlib.asynccontextmanager
    async def watch(self, topic: Topic, id: str) -> AsyncIterator[Watch]:
        """A mailbox for events naming `id`, registered before this returns: whatever the
        caller reads after entering, a later change wakes it."""
        watch = Watch(topic, id)
        self._watches.setdefault((topic, id), set()).add(watch)
        bindings = self.bindings
        try:
            if bindings is not None:
                # Wanted from the call on: given back even if the wait for the binding is
                # cancelled (the client left meanwhile).
                try:
                    await bindings.want(topic)
                except BaseException:
                    bindings.unwant(topic)
                    raise
            try:
                yield watch
            finally:
                if bindings is not None:
                    bindings.unwant(topic)
        finally:
            watchers = self._watches.get((topic, id))
            if watchers is not None:
                watchers.discard(watch)
                if not watchers:
                    del self._watches[(topic, id)]

    def deliver(self, type_name: str, event: Message) -> int:
        """Wakes the watchers of the id `event` names; returns how many there were."""
        topic = TOPIC_OF.get(type_name)
        if topic is None:
            return 0
        watchers = self._watches.get((topic, getattr(event, "id", "")), ())
        for watch in watchers:
            watch.notify(event)
        return len(watchers)

    def resync(self) -> None:
        """Every watcher reads its object again: events were lost with a broker connection."""
        for watchers in self._watches.values():
            for watch in watchers:
                watch.mark_lost()

    def count(self, topic: Topic | None = None) -> int:
        return sum(
            len(watchers)
            for (watched, _), watchers in self._watches.items()
            if topic is None or watched is topic
        )
