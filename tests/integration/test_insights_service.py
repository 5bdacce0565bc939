"""The insights service in-process with the machine's RabbitMQ: every event published on the
exchange becomes one row of its DuckDB file, once, kept across a restart; what it has is seen
through GetEventCounts."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import duckdb
import grpc
import pytest
from google.protobuf.message import Message

from common import events
from common.bus import RabbitPublisher
from common.service import ServiceProcess
from common.service_identity import CLI
from svc_insights.bootstrap import bootstrap
from svc_insights.config import InsightsSettings
from svc_insights.entrypoints.events import COLUMNS_OF
from tests.support import service_tokens
from tests.support.bus_probe import eventually
from ticketing.events.v1 import (
    behaviour_pb2,
    catalogue_pb2,
    delivery_pb2,
    orders_pb2,
    payments_pb2,
    tickets_pb2,
    users_pb2,
)
from ticketing.insights.v1 import insights_pb2, insights_pb2_grpc

pytestmark = pytest.mark.integration

RECORDED = datetime(2026, 3, 1, 12, 30, 15, 250000, tzinfo=UTC)


def one_of_each() -> list[Message]:
    order_ticket = orders_pb2.OrderCreated.Ticket(id="t-1", price="20.00")
    return [
        tickets_pb2.TicketCreated(id="t-1", title="Row F", price="20.00", user_id="seller"),
        tickets_pb2.TicketUpdated(id="t-1", version=1, price="20.00", order_id="o-1"),
        orders_pb2.OrderCreated(id="o-1", user_id="buyer", ticket=order_ticket),
        orders_pb2.OrderCancelled(id="o-2", ticket=orders_pb2.OrderCancelled.Ticket(id="t-2")),
        orders_pb2.OrderUpdated(id="o-1", version=1, user_id="buyer"),
        orders_pb2.OrderExpired(order_id="o-2"),
        payments_pb2.ChargeCreated(id="p-1", order_id="o-1", stripe_id="pi_1", amount=2000),
        payments_pb2.ChargeFailed(order_id="o-3", reason="declined"),
        payments_pb2.ChargePending(id="p-2", order_id="o-4", stripe_id="pi_2", amount=100),
        users_pb2.UserCreated(id="buyer", email="buyer@example.com"),
        users_pb2.UserUpdated(id="buyer", email="buyer@example.com", version=1),
        behaviour_pb2.TicketViewed(ticket_id="t-1", anonymous_id="anon"),
        behaviour_pb2.TicketsBrowsed(anonymous_id="anon", first=10, ticket_ids=["t-1"]),
        behaviour_pb2.OrderStarted(ticket_id="t-1", user_id="buyer", anonymous_id="anon"),
        catalogue_pb2.EventChanged(id="e-1", version=0, name="Arctic Monkeys", status="SCHEDULED"),
        catalogue_pb2.EventStatusChanged(
            id="e-1", version=1, status="CANCELLED", previous_status="SCHEDULED"
        ),
        behaviour_pb2.EventViewed(event_id="e-1", anonymous_id="anon"),
        payments_pb2.PayoutPaid(
            id="po-1", order_id="o-5", seller_id="seller", transfer_id="tr_1", amount=2000
        ),
        payments_pb2.RefundIssued(
            id="rf-1", order_id="o-6", buyer_id="buyer", stripe_refund_id="re_1", amount=2000
        ),
        payments_pb2.DisputeOpened(id="du_1", order_id="o-7", amount=2000, status="needs_response"),
        payments_pb2.DisputeClosed(id="du_1", order_id="o-7", amount=2000, status="won"),
        delivery_pb2.DeliveryCompleted(order_id="o-8", seller_id="seller", buyer_id="buyer"),
        delivery_pb2.DeliveryMissed(order_id="o-9", seller_id="seller", buyer_id="buyer"),
        delivery_pb2.DeliveryDeadlineApproaching(order_id="o-9", seller_id="seller"),
        delivery_pb2.PassIssued(pass_id="pa-1", event_id="e-1", order_id="o-8", holder_id="buyer"),
        delivery_pb2.PassTransferOffered(
            pass_id="pa-1", event_id="e-1", holder_id="buyer", to_email="friend@example.com"
        ),
        delivery_pb2.PassReissued(
            pass_id="pa-1", event_id="e-1", previous_holder_id="buyer", holder_id="friend"
        ),
    ]


class Insights:
    def __init__(self, env: dict[str, str], db_path: str) -> None:
        self.env = {**env, "INSIGHTS_DB_PATH": db_path}
        self.process: ServiceProcess | None = None

    async def start(self) -> ServiceProcess:
        self.process = bootstrap(InsightsSettings.from_env(self.env))
        await self.process.start("127.0.0.1", 0)
        await self.process.wait_consumers_ready()
        return self.process

    async def stop(self) -> None:
        if self.process is not None:
            await self.process.stop()
            self.process = None

    async def call(self, method: str, request: Message) -> Message:
        assert self.process is not None
        async with service_tokens.channel(
            self.env, f"127.0.0.1:{self.process.port}", CLI
        ) as channel:
            stub = insights_pb2_grpc.InsightsServiceStub(channel)
            return await getattr(stub, method)(request, timeout=5)

    async def counts(self, **about: str) -> dict[str, int]:
        reply = await self.call("GetEventCounts", insights_pb2.GetEventCountsRequest(**about))
        assert reply.total == sum(reply.counts.values())
        return dict(reply.counts)


@pytest.fixture
async def insights(env, tmp_path) -> AsyncIterator[Insights]:
    service = Insights(env, str(tmp_path / "insights" / "events.duckdb"))
    yield service
    await service.stop()


@pytest.fixture
async def publisher(env) -> AsyncIterator[RabbitPublisher]:
    publisher = RabbitPublisher(env["AMQP_URL"], env["TICKETING_NAMESPACE"])
    yield publisher
    await publisher.close()


async def publish(publisher: RabbitPublisher, *batch: tuple[Message, str]) -> None:
    """As the outbox relay publishes: with the time the event was recorded."""
    await publisher.publish(
        [events.message_doc(event, event_id, "test", RECORDED) for event, event_id in batch]
    )


async def test_every_event_on_the_exchange_is_recorded_once(insights, publisher) -> None:
    await insights.start()
    sent = one_of_each()
    assert {type(event) for event in sent} == set(COLUMNS_OF)
    ids = [str(uuid.uuid4()) for _ in sent]

    await publish(publisher, *zip(sent, ids, strict=True))
    await publish(publisher, (sent[0], ids[0]), (sent[6], ids[6]))  # redelivered duplicates

    expected = {events.routing_key(event): 1 for event in sent}

    async def all_arrived() -> bool:
        return await insights.counts() == expected

    await eventually(all_arrived)
    # A sentinel after the duplicates: once it is in, the duplicates were handled before it.
    sentinel = tickets_pb2.TicketCreated(id="t-9", title="Sentinel", price="1.00", user_id="s")
    await publish(publisher, (sentinel, str(uuid.uuid4())))

    async def sentinel_arrived() -> bool:
        return (await insights.counts(ticket_id="t-9")).get("ticket.created") == 1

    await eventually(sentinel_arrived)
    assert await insights.counts() == {**expected, "ticket.created": 2}
    # About one purchase: the ticket's and the order's events.
    assert await insights.counts(ticket_id="t-1", order_id="o-1") == {
        "ticket.created": 1,
        "ticket.updated": 1,
        "order.created": 1,
        "order.updated": 1,
        "charge.created": 1,
        "ticket.viewed": 1,
        "order.started": 1,
    }


async def test_rows_are_kept_across_a_restart_and_events_sent_meanwhile_arrive(
    insights, publisher, tmp_path
) -> None:
    await insights.start()
    first = tickets_pb2.TicketCreated(id="t-1", title="Row F", price="20.00", user_id="s")
    await publish(publisher, (first, "event-1"))

    async def first_arrived() -> bool:
        return await insights.counts() == {"ticket.created": 1}

    await eventually(first_arrived)
    await insights.stop()

    # Published while insights is down: its durable queue keeps it.
    viewed = behaviour_pb2.TicketViewed(ticket_id="t-1", anonymous_id="anon")
    await publish(publisher, (viewed, "event-2"))
    await insights.start()

    async def both_there() -> bool:
        return await insights.counts() == {"ticket.created": 1, "ticket.viewed": 1}

    await eventually(both_there)
    await insights.stop()
    # The row, as the file holds it: the time the publisher recorded, to the millisecond.
    with duckdb.connect(insights.env["INSIGHTS_DB_PATH"], read_only=True) as db:
        [(occurred_at, seller, price)] = db.execute(
            "SELECT occurred_at, seller_id, price FROM events WHERE event_id = 'event-1'"
        ).fetchall()
    assert occurred_at == RECORDED.replace(tzinfo=None)
    assert (seller, str(price)) == ("s", "20.00")


async def test_counts_are_an_operators_only(insights) -> None:
    """Without a service token, or with the gateway's, GetEventCounts is refused (it answered
    anyone who could reach the port before); with the operator's `cli` token it answers."""
    process = await insights.start()
    target = f"127.0.0.1:{process.port}"
    request = insights_pb2.GetEventCountsRequest(ticket_id="t1")
    async with (
        grpc.aio.insecure_channel(target) as plain,
        service_tokens.channel(insights.env, target) as as_gateway,
    ):
        for channel, code in (
            (plain, grpc.StatusCode.UNAUTHENTICATED),
            (as_gateway, grpc.StatusCode.PERMISSION_DENIED),
        ):
            with pytest.raises(grpc.aio.AioRpcError) as refused:
                await insights_pb2_grpc.InsightsServiceStub(channel).GetEventCounts(
                    request, timeout=5
                )
            assert refused.value.code() == code
    assert await insights.counts(ticket_id="t1") == {}
