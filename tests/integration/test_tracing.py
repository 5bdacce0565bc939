"""One trace across processes: a createOrder sent to the gateway, through orders' gRPC server,
its MongoDB transaction and outbox, RabbitMQ, to the tickets service's consumer and the events
that causes, and on to the order's expiry, fired from the schedule in Redis.

The gateway app, tickets, orders and expiration run in this process on real gRPC, SecantusDB,
RabbitMQ and Redis, sharing the test session's tracer provider (tests/support/tracing.py) whose
spans are kept in memory; in production each is a process of its own, and the context crosses
exactly the same wires (gRPC metadata, the outbox document, the AMQP headers, Redis)."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Callable

import httpx
import pika.exceptions
import pytest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.trace import SpanKind

from common import bus
from gateway.app import create_app
from gateway.config import GatewaySettings
from svc_expiration.bootstrap import bootstrap as expiration_bootstrap
from svc_expiration.config import ExpirationSettings
from svc_orders.bootstrap import bootstrap as orders_bootstrap
from svc_orders.config import OrdersSettings
from svc_tickets.bootstrap import bootstrap as tickets_bootstrap
from svc_tickets.config import TicketsSettings
from tests.support import servers
from tests.support.bus_probe import eventually
from tests.support.tokens import issuer_for
from tests.support.tracing import parent_of, recorder

pytestmark = pytest.mark.integration

CREATE_TICKET = (
    'mutation($k: String!) { createTicket(input: {title: "Traced", idempotencyKey: $k, '
    'price: {amount: "20", currencyCode: USD}}) { ticket { id } userErrors { code } } }'
)
CREATE_ORDER = (
    "mutation($id: ID!, $k: String!) { createOrder(input: {ticketId: $id, idempotencyKey: $k}) "
    "{ order { id } userErrors { code } } }"
)


async def until_spans(
    exporter, found: Callable[[list[ReadableSpan]], bool], timeout: float = 20
) -> list[ReadableSpan]:
    for _ in range(int(timeout / 0.05)):
        spans = list(exporter.get_finished_spans())
        if found(spans):
            return spans
        await asyncio.sleep(0.05)
    raise AssertionError(f"never saw the spans; had: {[s.name for s in spans]}")


async def consuming(amqp_url: str, queue: str) -> bool:
    def consumers() -> int:
        connection = bus.connect(amqp_url)
        try:
            return connection.channel().queue_declare(queue, passive=True).method.consumer_count
        except pika.exceptions.ChannelClosedByBroker:  # not declared yet
            return 0
        finally:
            connection.close()

    return await asyncio.to_thread(consumers) > 0


def one(spans: list[ReadableSpan], name: str, kind: SpanKind, **attributes) -> ReadableSpan:
    matching = [
        s
        for s in spans
        if s.name == name
        and s.kind is kind
        and all(s.attributes.get(k) == v for k, v in attributes.items())
    ]
    assert len(matching) == 1, (name, attributes, [s.name for s in spans])
    return matching[0]


async def test_one_trace_from_a_graphql_request_to_every_consumer_and_the_expiry(
    env, namespace, amqp_url
):
    ports = {f"{name.upper()}_PORT": servers.free_port() for name in ("tickets", "orders")}
    ports["EXPIRATION_PORT"] = servers.free_port()
    env = {
        **env,
        **{k: str(v) for k, v in ports.items()},
        "ORDER_EXPIRATION_SECONDS": "1",
        "EXPIRATION_POLL_MS": "50",
    }
    issuer = issuer_for(env)
    seller = issuer.issue(str(uuid.uuid4()), "seller@example.com")[0]
    buyer_id = str(uuid.uuid4())
    buyer = issuer.issue(buyer_id, "buyer@example.com")[0]

    with recorder().recording(trace_mongo=True) as exporter:
        # Made while recording: their MongoDB clients get the command listener.
        processes = [
            tickets_bootstrap(TicketsSettings.from_env(env)),
            orders_bootstrap(OrdersSettings.from_env(env)),
            expiration_bootstrap(ExpirationSettings.from_env(env)),
        ]
        app = create_app(GatewaySettings.from_env(env))
        async with contextlib.AsyncExitStack() as stack:
            for process, port in zip(processes, ports.values(), strict=True):
                await process.start("127.0.0.1", port)
                stack.push_async_callback(process.stop)
                await process.wait_consumers_ready()
            await stack.enter_async_context(app.public.router.lifespan_context(app))
            transport = httpx.ASGITransport(app=app)
            client = await stack.enter_async_context(
                httpx.AsyncClient(transport=transport, base_url="http://gateway", timeout=30)
            )

            async def ask(query: str, token: str, **variables) -> dict:
                reply = await client.post(
                    "/graphql",
                    json={"query": query, "variables": variables},
                    headers={"authorization": f"Bearer {token}"},
                )
                assert reply.status_code == 200, reply.text
                body = reply.json()
                assert not body.get("errors"), body
                return body["data"]

            queue = f"{namespace}.%s"
            await eventually(lambda: consuming(amqp_url, queue % "gateway"))  # its ticket cache
            created = (await ask(CREATE_TICKET, seller, k=str(uuid.uuid4())))["createTicket"]
            assert created["userErrors"] == [], created
            ordered = await ask(
                CREATE_ORDER, buyer, id=created["ticket"]["id"], k=str(uuid.uuid4())
            )
            assert ordered["createOrder"]["userErrors"] == [], ordered

            [request] = [
                s
                for s in exporter.get_finished_spans()
                if s.kind is SpanKind.SERVER
                and s.attributes.get("graphql.fields") == ("createOrder",)
            ]
            trace_id = request.context.trace_id

            def of_the_order(spans: list[ReadableSpan]) -> list[ReadableSpan]:
                return [s for s in spans if s.context.trace_id == trace_id]

            def consumed(spans: list[ReadableSpan], key: str, queue: str) -> bool:
                return any(
                    s.name == f"process {key}"
                    and s.attributes.get("messaging.consumer.group.name") == queue
                    for s in of_the_order(spans)
                )

            spans = await until_spans(
                exporter,
                lambda spans: (
                    consumed(spans, "ticket.updated", queue % "gateway")
                    and consumed(spans, "order.created", queue % "expiration")
                    and consumed(spans, "order.expired", queue % "orders")
                    and consumed(spans, "order.cancelled", queue % "tickets")
                ),
            )

    trace = of_the_order(spans)
    create_order = "/ticketing.orders.v1.OrdersService/CreateOrder"
    # gateway: the request, and its gRPC call to orders
    assert request.name == "POST /graphql" and request.parent is None
    assert request.attributes["enduser.id"] == buyer_id
    call = one(trace, create_order, SpanKind.CLIENT)
    assert parent_of(call, trace) is request
    # orders: its gRPC server, its MongoDB transaction, the OrderCreated it published
    served = one(trace, create_order, SpanKind.SERVER)
    assert parent_of(served, trace) is call
    mongo = [s for s in trace if s.attributes.get("db.system") == "mongodb"]
    assert any(parent_of(s, trace) is served for s in mongo), [s.name for s in mongo]
    assert any(s.name.endswith(".commitTransaction") for s in mongo)
    published = one(trace, "publish order.created", SpanKind.PRODUCER)
    assert parent_of(published, trace) is served
    # tickets: orders asked it for the seats (HoldSeats) while serving the order, and the
    # TicketUpdated the hold recorded went on
    hold_seats = "/ticketing.tickets.v1.TicketsService/HoldSeats"
    asked = one(trace, hold_seats, SpanKind.CLIENT)
    assert parent_of(asked, trace) is served
    holding = one(trace, hold_seats, SpanKind.SERVER)
    assert parent_of(holding, trace) is asked
    [updated] = [
        s for s in trace if s.name == "publish ticket.updated" and parent_of(s, trace) is holding
    ]
    # every consumer of those events: the gateway's cache, expiration's schedule
    for key, service, cause in [
        ("ticket.updated", "gateway", updated),
        ("order.created", "expiration", published),
    ]:
        group = {"messaging.consumer.group.name": queue % service}
        [span] = [
            s
            for s in trace
            if s.name == f"process {key}"
            and parent_of(s, trace) is cause
            and all(s.attributes.get(k) == v for k, v in group.items())
        ]
        assert span.kind is SpanKind.CONSUMER
    # the expiry, a second later, from the schedule in Redis: the same trace, through orders
    # cancelling the order to tickets releasing the ticket
    scheduled = one(
        trace,
        "process order.created",
        SpanKind.CONSUMER,
        **{"messaging.consumer.group.name": queue % "expiration"},
    )
    expired = one(trace, "publish order.expired", SpanKind.PRODUCER)
    assert parent_of(expired, trace) is scheduled
    cancelling = one(
        trace,
        "process order.expired",
        SpanKind.CONSUMER,
        **{"messaging.consumer.group.name": queue % "orders"},
    )
    assert parent_of(cancelling, trace) is expired
    cancelled = one(trace, "publish order.cancelled", SpanKind.PRODUCER)
    assert parent_of(cancelled, trace) is cancelling
    released = one(
        trace,
        "process order.cancelled",
        SpanKind.CONSUMER,
        **{"messaging.consumer.group.name": queue % "tickets"},
    )
    assert parent_of(released, trace) is cancelled
