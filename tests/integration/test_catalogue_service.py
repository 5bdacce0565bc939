"""The catalogue service over real gRPC, SecantusDB and RabbitMQ: operators create and move
events, anyone finds them through search (the index following MongoDB by sequence number), and
listings' events make each event's lowest price and tickets for sale."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import grpc
import pytest
from google.protobuf.timestamp_pb2 import Timestamp

from common.mongo import OUTBOX, database_name, mongo_client
from common.service import ServiceProcess
from svc_catalogue.adapters.search_feed import MongoSearchFeed
from svc_catalogue.bootstrap import bootstrap
from svc_catalogue.config import CatalogueSettings
from tests.support import service_tokens
from tests.support.bus_probe import publish_event
from tests.support.tokens import issuer_for
from tests.support.waiting import until_async
from ticketing.catalogue.v1 import catalogue_pb2 as pb
from ticketing.catalogue.v1 import catalogue_pb2_grpc
from ticketing.events.v1 import tickets_pb2

pytestmark = pytest.mark.integration

STARTS = datetime(2027, 6, 1, 19, tzinfo=UTC)


def stamp(moment: datetime) -> Timestamp:
    value = Timestamp()
    value.FromDatetime(moment)
    return value


def event_input(name: str, city: str = "London", days: int = 0) -> pb.EventInput:
    starts = STARTS + timedelta(days=days)
    return pb.EventInput(
        name=name,
        performers=[pb.Performer(name=name)],
        venue=pb.Venue(name="Arena", city=city, country="GB", time_zone="Europe/London"),
        start_time=stamp(starts),
        end_time=stamp(starts + timedelta(hours=3)),
        category=pb.EVENT_CATEGORY_CONCERT,
    )


@pytest.fixture
async def catalogue(env) -> AsyncIterator[ServiceProcess]:
    process = bootstrap(CatalogueSettings.from_env({**env, "SEARCH_POLL_SECONDS": "0.05"}))
    await process.start("127.0.0.1", 0)
    await process.wait_consumers_ready()
    yield process
    await process.stop()


@pytest.fixture
async def stub(catalogue) -> AsyncIterator[catalogue_pb2_grpc.CatalogueServiceStub]:
    settings = catalogue.infra.settings
    async with service_tokens.channel(settings, f"127.0.0.1:{catalogue.port}") as channel:
        yield catalogue_pb2_grpc.CatalogueServiceStub(channel)


def user(env, roles: tuple[str, ...] = ()) -> list[tuple[str, str]]:
    user_id = uuid.uuid4().hex
    issued, _ = issuer_for(env, 600).issue(user_id, f"{user_id[:8]}@example.com", roles=roles)
    return [("authorization", f"Bearer {issued}")]


async def create(stub, env, name: str, **more) -> pb.Event:
    request = pb.CreateEventRequest(
        event=event_input(name, **more), idempotency_key=uuid.uuid4().hex
    )
    return (await stub.CreateEvent(request, metadata=user(env, ("admin",)))).event


async def search(stub, query: str = "", **more) -> pb.SearchEventsResponse:
    return await stub.SearchEvents(pb.SearchEventsRequest(query=query, **more))


async def test_an_admin_creates_an_event_and_anyone_finds_it(env, stub):
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await stub.CreateEvent(
            pb.CreateEventRequest(event=event_input("Muse"), idempotency_key="k"),
            metadata=user(env),
        )
    assert refused.value.code() is grpc.StatusCode.PERMISSION_DENIED

    created = await create(stub, env, "Arctic Monkeys", city="Zürich")
    assert created.venue.id == "venue:arena-zurich"
    assert created.performers[0].id == "performer:arctic-monkeys"
    await create(stub, env, "Muse", days=1)
    found = await until_async(lambda: search(stub, "arct zur"), lambda r: r.total_count == 1)
    assert [e.id for e in found.events] == [created.id]
    everything = await until_async(lambda: search(stub), lambda r: r.total_count == 2)
    assert [(f.value, f.count) for f in everything.cities] == [("London", 1), ("Zürich", 1)]
    got = await stub.GetEvent(pb.GetEventRequest(id=created.id))
    assert got.event.name == "Arctic Monkeys"


async def test_a_bad_input_names_its_field(env, stub):
    bad = event_input("Muse")
    bad.venue.time_zone = "Europe/Londres"
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await stub.CreateEvent(
            pb.CreateEventRequest(event=bad, idempotency_key="k1"), metadata=user(env, ("admin",))
        )
    assert refused.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert "Europe/Londres" in refused.value.details()


async def test_a_cancelled_event_leaves_search_and_its_change_is_in_the_outbox(env, stub):
    created = await create(stub, env, "Arcade Fire")
    await until_async(lambda: search(stub, "arcade"), lambda r: r.total_count == 1)
    admin = user(env, ("admin",))
    request = pb.ChangeEventStatusRequest(
        id=created.id, status=pb.EVENT_STATUS_CANCELLED, expected_version=0
    )
    cancelled = (await stub.ChangeEventStatus(request, metadata=admin)).event
    assert (cancelled.status, cancelled.version) == (pb.EVENT_STATUS_CANCELLED, 1)
    await until_async(lambda: search(stub, "arcade"), lambda r: r.total_count == 0)
    shown = await search(stub, "arcade", include_cancelled=True)
    assert [e.id for e in shown.events] == [created.id]
    again = pb.ChangeEventStatusRequest(
        id=created.id, status=pb.EVENT_STATUS_SCHEDULED, expected_version=1
    )
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await stub.ChangeEventStatus(again, metadata=admin)
    assert refused.value.code() is grpc.StatusCode.FAILED_PRECONDITION

    db = mongo_client(env["MONGO_URL"])[database_name(env["TICKETING_NAMESPACE"], "catalogue")]
    keys = [doc["routing_key"] async for doc in db[OUTBOX].find({}, sort=[("order_key", 1)])]
    assert keys == ["event.changed", "event.status_changed", "event.changed"]


async def test_listings_make_the_price_search_filters_on(env, stub):
    created = await create(stub, env, "Arctic Monkeys")
    for listing, price, available in (("l1", "80.00", 2), ("l2", "45.50", 1), ("l3", "10.00", 0)):
        publish_event(
            env["AMQP_URL"],
            env["TICKETING_NAMESPACE"],
            tickets_pb2.TicketCreated(
                id=listing,
                price=price,
                currency_code="GBP",
                event_id=created.id,
                quantity=2,
                available=available,
            ),
        )

    async def read() -> pb.Event:
        return (await stub.GetEvent(pb.GetEventRequest(id=created.id))).event

    event = await until_async(read, lambda e: e.tickets_for_sale == 3)
    assert (event.lowest_price, event.currency_code) == ("45.50", "GBP")
    cheap = pb.SearchFilter(price_max="50", has_tickets=True)
    found = await until_async(
        lambda: search(stub, filter=cheap, sort=pb.EVENT_SORT_PRICE), lambda r: r.total_count == 1
    )
    assert found.events[0].lowest_price == "45.50"


async def test_the_feed_pages_every_change_in_sequence_order(env, stub, catalogue):
    """Each event once, at its latest change: a changed event moves to the end of the feed."""
    assert catalogue.infra.db is not None
    feed = MongoSearchFeed(catalogue.infra.db)
    first = await create(stub, env, "One")
    second = await create(stub, env, "Two")
    page = await feed.since(0, 1)
    rest = await feed.since(page.last_seq, 1)
    assert [d.event_id for d in page.documents + rest.documents] == [first.id, second.id]
    assert (await feed.since(rest.last_seq, 1)).documents == []

    admin = user(env, ("admin",))
    renamed = pb.UpdateEventRequest(id=first.id, event=event_input("One again"), expected_version=0)
    await stub.UpdateEvent(renamed, metadata=admin)
    changed = await feed.since(rest.last_seq, 10)
    assert [(d.event_id, d.name) for d in changed.documents] == [(first.id, "One again")]
    everything = await feed.since(0, 10)
    assert [d.event_id for d in everything.documents] == [second.id, first.id]


async def test_a_replica_serves_only_once_its_index_holds_what_mongodb_has(env, catalogue, stub):
    """A second replica started on the same database answers its first search with every event:
    it built its index before its gRPC server (and health) came up."""
    await create(stub, env, "Arctic Monkeys")
    await create(stub, env, "Muse")
    second = bootstrap(CatalogueSettings.from_env({**env, "SEARCH_POLL_SECONDS": "60"}))
    await second.start("127.0.0.1", 0)
    try:
        settings = second.infra.settings
        async with service_tokens.channel(settings, f"127.0.0.1:{second.port}") as channel:
            fresh = catalogue_pb2_grpc.CatalogueServiceStub(channel)
            found = await fresh.SearchEvents(pb.SearchEventsRequest())
        assert found.total_count == 2
    finally:
        await second.stop()
