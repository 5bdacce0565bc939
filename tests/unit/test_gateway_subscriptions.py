"""Subscriptions without servers: the hub's fan-out (who is woken by which event, the newest
version kept, a resync after a lost connection), what a ticket stream pushes, a stream's bug
shown as INTERNAL, the token shapes of connection_init, and the settings' bounds."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

import pytest

from common.errors import Internal
from common.settings import ConfigError
from gateway import global_ids
from gateway.config import GatewaySettings
from gateway.context import Context
from gateway.subscriptions.hub import Hub, Topic, routing_keys
from gateway.subscriptions.streams import counted, ticket_updates
from gateway.subscriptions.transport import token_of_params
from ticketing.events.v1 import orders_pb2 as order_events
from ticketing.events.v1 import tickets_pb2 as ticket_events
from ticketing.tickets.v1 import tickets_pb2

TICKET_UPDATED = "ticketing.events.v1.TicketUpdated"
ORDER_CANCELLED = "ticketing.events.v1.OrderCancelled"


def ticket_event(version: int, ticket_id: str = "t1", order_id: str = "") -> object:
    return ticket_events.TicketUpdated(
        id=ticket_id,
        version=version,
        title=f"v{version}",
        price="20.00",
        user_id="s",
        order_id=order_id,
        currency_code="GBP",
    )


class FakeBindings:
    def __init__(self) -> None:
        self.calls: list[tuple[str, Topic]] = []

    async def want(self, topic: Topic) -> None:
        self.calls.append(("want", topic))

    def unwant(self, topic: Topic) -> None:
        self.calls.append(("unwant", topic))


# -- the hub -----------------------------------------------------------------------------------


async def test_an_event_wakes_the_watchers_of_its_id_only():
    hub = Hub()
    async with (
        hub.watch(Topic.TICKET, "t1") as first,
        hub.watch(Topic.TICKET, "t1") as second,
        hub.watch(Topic.TICKET, "t2") as other,
        hub.watch(Topic.ORDER, "t1") as order_of_same_id,
    ):
        assert hub.deliver(TICKET_UPDATED, ticket_event(1)) == 2
        assert first.changed.is_set() and second.changed.is_set()
        assert not other.changed.is_set() and not order_of_same_id.changed.is_set()
        cancelled = order_events.OrderCancelled(id="t1", version=1)
        assert hub.deliver(ORDER_CANCELLED, cancelled) == 1
        assert order_of_same_id.take() == (cancelled, False)
    assert hub.count() == 0
    assert hub.deliver(TICKET_UPDATED, ticket_event(2)) == 0  # nobody watches any more


async def test_a_watch_keeps_the_newest_event_and_wakes_once_for_many():
    hub = Hub()
    async with hub.watch(Topic.TICKET, "t1") as watch:
        for version in (2, 4, 3):  # late and out of order
            hub.deliver(TICKET_UPDATED, ticket_event(version))
        latest, lost = watch.take()
        assert latest.version == 4 and not lost
        assert not watch.changed.is_set()
        assert watch.take() == (None, False)


async def test_a_resync_tells_every_watcher_to_read_again():
    hub = Hub()
    async with hub.watch(Topic.TICKET, "t1") as ticket, hub.watch(Topic.ORDER, "o1") as order:
        hub.resync()
        assert ticket.take() == (None, True) and order.take() == (None, True)


async def test_the_feed_is_told_when_a_topic_gets_its_first_and_loses_its_last_watcher():
    hub, bindings = Hub(), FakeBindings()
    hub.bindings = bindings
    async with hub.watch(Topic.ORDER, "o1"), hub.watch(Topic.ORDER, "o2"):
        assert bindings.calls == [("want", Topic.ORDER), ("want", Topic.ORDER)]
    assert bindings.calls[2:] == [("unwant", Topic.ORDER), ("unwant", Topic.ORDER)]
    assert routing_keys(Topic.ORDER) == ("order.updated", "order.cancelled")
    assert routing_keys(Topic.TICKET) == ("ticket.updated",)


async def test_a_subscription_cancelled_while_its_events_are_being_bound_gives_its_topic_back():
    binding = asyncio.Event()

    class SlowBindings(FakeBindings):
        async def want(self, topic: Topic) -> None:
            await super().want(topic)
            binding.set()
            await asyncio.Event().wait()  # a broker that does not answer

    hub, bindings = Hub(), SlowBindings()
    hub.bindings = bindings

    async def subscribe() -> None:
        async with hub.watch(Topic.TICKET, "t1"):
            pass

    task = asyncio.ensure_future(subscribe())
    await binding.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert bindings.calls == [("want", Topic.TICKET), ("unwant", Topic.TICKET)]
    assert hub.count() == 0


# -- streams -----------------------------------------------------------------------------------


class TicketsService:
    """GetTicket answers the ticket at `version`; counts the reads."""

    tickets = SimpleNamespace(GetTicket="GetTicket")

    def __init__(self) -> None:
        self.version = 0
        self.reads = 0

    async def call(self, method, request, token=None, timeout=None):
        assert method == "GetTicket"
        self.reads += 1
        ticket = tickets_pb2.Ticket(
            id=request.id,
            version=self.version,
            title=f"v{self.version}",
            price="20.00",
            currency_code="GBP",
        )
        return tickets_pb2.GetTicketResponse(ticket=ticket)


def context(hub: Hub, clients: object) -> Context:
    return Context(
        request=None,  # type: ignore[arg-type]
        response=None,
        clients=clients,  # type: ignore[arg-type]
        accounts=None,  # type: ignore[arg-type]
        token=None,
        ticket_reads=None,  # type: ignore[arg-type]
        tickets=None,  # type: ignore[arg-type]
        payments=None,  # type: ignore[arg-type]
        hub=hub,
        websocket=True,
    )


async def test_a_ticket_stream_pushes_its_state_then_each_newer_version_once():
    hub, service = Hub(), TicketsService()
    stream = ticket_updates(context(hub, service), "t1")
    pushed = [await anext(stream)]
    hub.deliver(TICKET_UPDATED, ticket_event(1, order_id="o1"))
    pushed.append(await anext(stream))
    hub.deliver(TICKET_UPDATED, ticket_event(1, order_id="o1"))  # the same event again
    hub.deliver(TICKET_UPDATED, ticket_event(2))
    pushed.append(await anext(stream))
    # Each as the event has it, its currency too (the state is read from orders, not here).
    assert [(t.version, t.title, t.price.currency_code.value) for t in pushed] == [
        (0, "v0", "GBP"),
        (1, "v1", "GBP"),
        (2, "v2", "GBP"),
    ]
    assert {t.id for t in pushed} == {global_ids.encode("Ticket", "t1")}
    assert service.reads == 1  # the events carry the whole ticket
    service.version = 5
    hub.resync()  # events were lost: the ticket is read again
    assert (await anext(stream)).version == 5
    assert service.reads == 2
    await stream.aclose()
    assert hub.count() == 0


async def test_a_failure_inside_a_stream_is_internal_and_the_stream_is_closed():
    closed = asyncio.Event()

    async def broken():
        try:
            yield 1
            raise KeyError("a bug")
        finally:
            closed.set()

    stream = counted("ticketUpdated", broken())
    assert await anext(stream) == 1
    with pytest.raises(Internal):
        await anext(stream)
    assert closed.is_set()


# -- connection_init and settings ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "token"),
    [
        ({"authorization": "Bearer abc.def.ghi"}, "abc.def.ghi"),
        ({"Authorization": "bearer abc.def.ghi"}, "abc.def.ghi"),
        ({"token": " abc.def.ghi "}, "abc.def.ghi"),
        ({"authorization": "Basic dXNlcg=="}, None),
        ({"token": 42}, None),
        ({}, None),
    ],
)
def test_the_token_of_a_connection_init_payload(params, token):
    assert token_of_params(params) == token


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("SUBSCRIPTIONS_PER_CONNECTION", "0"),
        ("SUBSCRIPTION_CONNECTIONS_PER_USER", "-1"),
        ("SUBSCRIPTION_PING_SECONDS", "0"),
        ("SUBSCRIPTION_TOKEN_RECHECK_SECONDS", "-5"),
    ],
)
def test_subscription_settings_out_of_range_are_refused(name, value):
    with pytest.raises(ConfigError, match=name):
        GatewaySettings.from_env({name: value})
