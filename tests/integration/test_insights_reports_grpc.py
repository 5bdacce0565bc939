"""The report RPCs of the insights service in-process, fed through the machine's RabbitMQ: a
seller reads their own figures and nobody else's, the market report is for operators, and a
malformed range is the caller's mistake."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from decimal import Decimal

import grpc
import pytest
from google.protobuf.message import Message

from common import events
from common.bus import RabbitPublisher
from common.grpc_errors import from_rpc_error
from common.jwt import ADMIN
from common.service import ServiceProcess
from svc_insights.bootstrap import bootstrap
from svc_insights.config import InsightsSettings
from tests.support import service_tokens
from tests.support.bus_probe import eventually
from tests.support.tokens import issuer_for
from ticketing.events.v1 import orders_pb2, payments_pb2, tickets_pb2
from ticketing.insights.v1 import insights_pb2, insights_pb2_grpc

pytestmark = pytest.mark.integration

LISTED = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
PAID = datetime(2026, 3, 2, 9, 0, 30, tzinfo=UTC)


@pytest.fixture
async def insights(env, tmp_path) -> AsyncIterator[ServiceProcess]:
    settings = InsightsSettings.from_env(
        {**env, "INSIGHTS_DB_PATH": str(tmp_path / "events.duckdb")}
    )
    process = bootstrap(settings)
    await process.start("127.0.0.1", 0)
    await process.wait_consumers_ready()
    yield process
    await process.stop()


@pytest.fixture
async def stub(insights) -> AsyncIterator[insights_pb2_grpc.InsightsServiceStub]:
    async with service_tokens.channel(
        insights.infra.settings, f"127.0.0.1:{insights.port}"
    ) as channel:
        yield insights_pb2_grpc.InsightsServiceStub(channel)


def token(env, user_id: str, roles: tuple[str, ...] = ()) -> list[tuple[str, str]]:
    issued, _ = issuer_for(env, 600).issue(user_id, f"{user_id}@example.com", roles=roles)
    return [("authorization", f"Bearer {issued}")]


async def publish_sale(env) -> None:
    """Seller s lists t-1 on March 1st; buyer b orders it and pays on March 2nd."""
    publisher = RabbitPublisher(env["AMQP_URL"], env["TICKETING_NAMESPACE"])
    sale: list[tuple[Message, datetime]] = [
        (tickets_pb2.TicketCreated(id="t-1", title="Row F", price="20.00", user_id="s"), LISTED),
        (
            orders_pb2.OrderCreated(
                id="o-1", user_id="b", ticket=orders_pb2.OrderCreated.Ticket(id="t-1", price="20")
            ),
            PAID,
        ),
        (payments_pb2.ChargeCreated(id="p-1", order_id="o-1", amount=2000), PAID),
    ]
    try:
        await publisher.publish(
            [
                events.message_doc(event, f"e-{n}", "test", recorded)
                for n, (event, recorded) in enumerate(sale)
            ]
        )
    finally:
        await publisher.close()


async def test_a_seller_reads_their_own_sale(env, stub) -> None:
    await publish_sale(env)
    request = insights_pb2.GetSellerReportRequest(from_day="2026-03-01", to_day="2026-03-03")

    async def sold() -> bool:
        reply = await stub.GetSellerReport(request, metadata=token(env, "s"))
        return reply.report.totals.sold == 1

    await eventually(sold)
    report = (await stub.GetSellerReport(request, metadata=token(env, "s"))).report
    assert report.seller_id == "s"
    assert [(d.day, d.listed, d.sold, d.revenue) for d in report.days] == [
        ("2026-03-01", 1, 0, "0.00"),
        ("2026-03-02", 0, 1, "20.00"),
        ("2026-03-03", 0, 0, "0.00"),
    ]
    assert report.totals.median_seconds_to_sell == 86_430.0  # a day and 30 seconds
    assert not report.days[0].HasField("median_seconds_to_sell")  # no sale that day
    assert [(t.ticket_id, t.title, t.views) for t in report.ticket_views] == [("t-1", "Row F", 0)]


async def test_an_operator_reads_the_market_and_any_seller(env, stub) -> None:
    await publish_sale(env)
    operator = token(env, "ops", roles=(ADMIN,))
    request = insights_pb2.GetMarketReportRequest(from_day="2026-03-02", to_day="2026-03-02")

    async def paid() -> bool:
        reply = await stub.GetMarketReport(request, metadata=operator)
        return reply.report.totals.paid_orders == 1

    await eventually(paid)
    report = (await stub.GetMarketReport(request, metadata=operator)).report
    assert (report.totals.gmv, report.totals.orders, report.totals.active_users) == ("20.00", 1, 1)
    assert [(s.seller_id, s.revenue, s.sold) for s in report.top_sellers] == [("s", "20.00", 1)]
    assert (report.expiry_rate, report.ended_orders, report.charge_attempts) == (0.0, 1, 1)
    assert report.funnel.viewed == 0 and report.funnel.view_to_order == 0.0  # nothing viewed
    sold = [(b.lower, b.upper, b.sold) for b in report.price_distribution if b.sold]
    assert sold == [("10.00", "25.00", 1)]
    seller = insights_pb2.GetSellerReportRequest(
        seller_id="s", from_day="2026-03-01", to_day="2026-03-02"
    )
    assert (await stub.GetSellerReport(seller, metadata=operator)).report.totals.sold == 1


async def test_sales_in_two_currencies_are_reported_apart(env, stub) -> None:
    """A USD sale and a EUR sale of one seller on one day: two revenue amounts, never a sum."""
    seller, day = f"s-{uuid.uuid4().hex[:8]}", datetime(2026, 5, 1, 10, tzinfo=UTC)
    publisher = RabbitPublisher(env["AMQP_URL"], env["TICKETING_NAMESPACE"])
    sales: list[Message] = []
    for n, (price, currency) in enumerate([("20.00", "USD"), ("30.00", "EUR")]):
        ticket, order = f"t-{seller}-{n}", f"o-{seller}-{n}"
        sales += [
            tickets_pb2.TicketCreated(
                id=ticket, title="Row F", price=price, user_id=seller, currency_code=currency
            ),
            orders_pb2.OrderCreated(
                id=order,
                user_id="b",
                ticket=orders_pb2.OrderCreated.Ticket(
                    id=ticket, price=price, currency_code=currency
                ),
            ),
            payments_pb2.ChargeCreated(
                id=f"p-{order}",
                order_id=order,
                amount=int(Decimal(price) * 100),
                currency_code=currency,
            ),
        ]
    try:
        await publisher.publish(
            [events.message_doc(event, str(uuid.uuid4()), "test", day) for event in sales]
        )
    finally:
        await publisher.close()
    request = insights_pb2.GetSellerReportRequest(from_day="2026-05-01", to_day="2026-05-01")

    async def sold() -> bool:
        reply = await stub.GetSellerReport(request, metadata=token(env, seller))
        return reply.report.totals.sold == 2

    await eventually(sold)
    report = (await stub.GetSellerReport(request, metadata=token(env, seller))).report
    assert [(a.amount, a.currency_code) for a in report.totals.revenue_by_currency] == [
        ("30.00", "EUR"),
        ("20.00", "USD"),
    ]
    assert [(a.amount, a.currency_code) for a in report.days[0].revenue_by_currency] == [
        ("30.00", "EUR"),
        ("20.00", "USD"),
    ]
    operator = token(env, "ops", roles=(ADMIN,))
    market_request = insights_pb2.GetMarketReportRequest(from_day="2026-05-01", to_day="2026-05-01")
    market = (await stub.GetMarketReport(market_request, metadata=operator)).report
    assert [(a.amount, a.currency_code) for a in market.totals.gmv_by_currency] == [
        ("30.00", "EUR"),
        ("20.00", "USD"),
    ]
    [top] = market.top_sellers
    assert (top.seller_id, top.sold) == (seller, 2)
    assert [(a.amount, a.currency_code) for a in top.revenue_by_currency] == [
        ("30.00", "EUR"),
        ("20.00", "USD"),
    ]
    sold_buckets = [
        (b.currency_code, b.lower, b.upper, b.sold) for b in market.price_distribution if b.sold
    ]
    assert sold_buckets == [("EUR", "25.00", "50.00", 1), ("USD", "10.00", "25.00", 1)]


async def code_of(call) -> str:
    with pytest.raises(grpc.aio.AioRpcError) as failed:
        await call
    error = from_rpc_error(failed.value)
    return f"{error.code.value} {error.field or ''}".strip()


async def test_reports_refuse_other_sellers_non_operators_and_bad_ranges(env, stub) -> None:
    buyer = token(env, "b")

    other = insights_pb2.GetSellerReportRequest(
        seller_id="s", from_day="2026-03-01", to_day="2026-03-01"
    )
    assert await code_of(stub.GetSellerReport(other, metadata=buyer)) == "FORBIDDEN"
    market = insights_pb2.GetMarketReportRequest(from_day="2026-03-01", to_day="2026-03-01")
    assert await code_of(stub.GetMarketReport(market, metadata=buyer)) == "FORBIDDEN"
    assert await code_of(stub.GetMarketReport(market)) == "UNAUTHENTICATED"

    def own(from_day: str, to_day: str) -> insights_pb2.GetSellerReportRequest:
        return insights_pb2.GetSellerReportRequest(from_day=from_day, to_day=to_day)

    for request, expected in [
        (own("2026-3-1", "2026-03-01"), "BAD_USER_INPUT from_day"),
        (own("2026-02-30", "2026-03-01"), "BAD_USER_INPUT from_day"),
        (own("2026-03-01", ""), "BAD_USER_INPUT to_day"),
        (own("2026-03-02", "2026-03-01"), "BAD_USER_INPUT to"),
        (own("2026-01-01", "2027-01-01"), None),  # 366 days: the most
        (own("2025-12-31", "2027-01-01"), "BAD_USER_INPUT to"),
    ]:
        if expected is None:
            reply = await stub.GetSellerReport(request, metadata=buyer)
            assert len(reply.report.days) == 366
        else:
            assert await code_of(stub.GetSellerReport(request, metadata=buyer)) == expected


async def test_days_past_the_calendars_end_are_invalid_arguments_saying_which_days(
    env, stub
) -> None:
    """9999-12-31 was INTERNAL (a date overflow); a grpcurl user reads the accepted days."""
    seller, operator = token(env, "s"), token(env, "ops", roles=(ADMIN,))
    for first, last, field in [
        ("9999-12-01", "9999-12-31", "to"),
        ("9999-12-31", "9999-12-31", "from"),
    ]:
        calls = [
            stub.GetSellerReport(
                insights_pb2.GetSellerReportRequest(from_day=first, to_day=last), metadata=seller
            ),
            stub.GetMarketReport(
                insights_pb2.GetMarketReportRequest(from_day=first, to_day=last),
                metadata=operator,
            ),
        ]
        for call in calls:
            with pytest.raises(grpc.aio.AioRpcError) as failed:
                await call
            assert failed.value.code() is grpc.StatusCode.INVALID_ARGUMENT
            assert "between 0001-01-01 and 9999-12-30" in (failed.value.details() or "")
            assert from_rpc_error(failed.value).field == field

    # The calendar's first days and the last accepted ones are reports like any other.
    for first, last in [("0001-01-01", "0001-01-02"), ("9999-12-29", "9999-12-30")]:
        own = insights_pb2.GetSellerReportRequest(from_day=first, to_day=last)
        report = (await stub.GetSellerReport(own, metadata=seller)).report
        assert [d.day for d in report.days] == [first, last]
        market = insights_pb2.GetMarketReportRequest(from_day=first, to_day=last)
        report = (await stub.GetMarketReport(market, metadata=operator)).report
        assert [d.day for d in report.days] == [first, last]
