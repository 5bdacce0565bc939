"""A purchase in `ticketing run` shows within seconds in the seller's report and in the market
report of an operator (granted by `ticketing users grant-admin`), both through GraphQL; the
market report is refused to anyone else, and a range longer than a year to everyone."""

from __future__ import annotations

import subprocess
import sys
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from tests.support.market import Api
from tests.support.stack import error_codes

pytestmark = pytest.mark.e2e

PASSWORD = "s3cret-pass"
SELLER_REPORT = """
query($from: Date!, $to: Date!) {
  sellerReport(from: $from, to: $to) {
    totals { listed sold revenue { amount currencyCode } medianSecondsToSell views }
    days { day figures { sold revenue { amount currencyCode } } }
    mostViewedTickets { ticket { id title } views }
  }
}"""
MARKET_REPORT = """
query($from: Date!, $to: Date!) {
  marketReport(from: $from, to: $to) {
    totals { gmv { amount currencyCode } orders paidOrders activeUsers }
    funnel { viewed ordered paid }
    topSellers(first: 100) { seller { id } revenue { amount currencyCode } sold }
  }
}"""
USD_20 = [{"amount": "20.00", "currencyCode": "USD"}]


def usd(amounts: list[dict]) -> Decimal:
    """The US dollars of a per-currency total (DOM-5: one entry per currency present)."""
    return sum((Decimal(m["amount"]) for m in amounts if m["currencyCode"] == "USD"), Decimal(0))


@pytest.fixture
def api(client) -> Api:
    return Api(client)


def around_today() -> dict[str, str]:
    """Yesterday to tomorrow (UTC): today's figures, even if the day turns during the test."""
    today = datetime.now(UTC).date()
    return {"from": str(today - timedelta(days=1)), "to": str(today + timedelta(days=1))}


def operator(api: Api, stack) -> str:
    """A new user made an admin by the operators' command; the token of their next sign-in."""
    email = f"ops{uuid.uuid4().hex[:8]}@example.com"
    api.sign_up(email, PASSWORD)
    ticketing = str(Path(sys.executable).parent / "ticketing")
    done = subprocess.run(
        [ticketing, "users", "grant-admin", email],
        env=stack.env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return api.sign_in(email, PASSWORD)


def test_a_purchase_shows_in_the_sellers_and_the_operators_reports(api, stack):
    admin = operator(api, stack)
    days = around_today()
    before = api.data(MARKET_REPORT, admin, **days)["marketReport"]["totals"]
    seller, buyer = api.user(), api.user()
    seller_id = api.data("{ currentUser { id } }", seller)["currentUser"]["id"]

    ticket = api.sell(seller, "Arctic Monkeys, row F", "20")
    api.get_ticket(ticket["id"])  # viewed, anonymously
    order = api.order(buyer, ticket["id"])
    api.pay(buyer, order["id"])

    report = api.until(
        lambda: api.data(SELLER_REPORT, seller, **days)["sellerReport"],
        lambda report: report["totals"]["sold"] == 1 and report["totals"]["views"] == 1,
    )
    assert report["totals"]["listed"] == 1
    assert report["totals"]["revenue"] == USD_20
    assert report["totals"]["medianSecondsToSell"] > 0
    assert report["mostViewedTickets"] == [
        {"ticket": {"id": ticket["id"], "title": "Arctic Monkeys, row F"}, "views": 1}
    ]
    assert [d["day"] for d in report["days"]] == [
        str(datetime.fromisoformat(days["from"]).date() + timedelta(days=n)) for n in range(3)
    ]
    assert [m for d in report["days"] for m in d["figures"]["revenue"]] == USD_20

    market = api.until(
        lambda: api.data(MARKET_REPORT, admin, **days)["marketReport"],
        lambda market: (
            {"seller": {"id": seller_id}, "revenue": USD_20, "sold": 1} in market["topSellers"]
        ),
    )
    # Other tests of the session buy too: at least this purchase more than before it.
    assert usd(market["totals"]["gmv"]) >= usd(before["gmv"]) + 20
    assert market["totals"]["paidOrders"] >= before["paidOrders"] + 1
    assert market["totals"]["orders"] >= before["orders"] + 1
    assert market["totals"]["activeUsers"] >= 2  # the seller and the buyer at least


def test_the_market_report_is_for_operators_and_a_report_covers_a_year_at_most(api, stack):
    days = around_today()
    seller = api.user()

    assert api.codes(MARKET_REPORT, seller, **days) == [("FORBIDDEN", None)]
    admin = operator(api, stack)
    too_many = MARKET_REPORT.replace("topSellers(first: 100)", "topSellers(first: 101)")
    assert api.codes(too_many, admin, **days) == [("BAD_USER_INPUT", "first")]
    assert api.codes(MARKET_REPORT, None, **days) == [("UNAUTHENTICATED", None)]
    assert api.codes(SELLER_REPORT, None, **days) == [("UNAUTHENTICATED", None)]
    too_long = {"from": "2025-01-01", "to": "2026-01-02"}  # 367 days
    assert api.codes(SELLER_REPORT, seller, **too_long) == [("BAD_USER_INPUT", "to")]
    reversed_range = {"from": days["to"], "to": days["from"]}
    assert api.codes(SELLER_REPORT, seller, **reversed_range) == [("BAD_USER_INPUT", "to")]
    assert api.codes(SELLER_REPORT, seller, **{"from": "2026-02-30", "to": "2026-03-01"}) == [
        ("BAD_USER_INPUT", None)
    ]


def test_days_past_the_calendars_end_are_bad_input_saying_which_days(api, stack):
    """sellerReport(to: "9999-12-31") answered INTERNAL (a date overflow) to anyone signed in."""
    seller, admin = api.user(), operator(api, stack)
    for days, field in [
        ({"from": "9999-12-31", "to": "9999-12-31"}, "from"),
        ({"from": "9999-12-30", "to": "9999-12-31"}, "to"),  # straddles the last day
    ]:
        for query, token in [(SELLER_REPORT, seller), (MARKET_REPORT, admin)]:
            result = api.ask(query, token, **days)
            assert error_codes(result) == [("BAD_USER_INPUT", field)], result
            assert "between 0001-01-01 and 9999-12-30" in result["errors"][0]["message"]
    first_days = {"from": "0001-01-01", "to": "0001-01-02"}
    assert api.data(SELLER_REPORT, seller, **first_days)["sellerReport"]["totals"]["sold"] == 0
    market = api.data(MARKET_REPORT, admin, **{"from": "9999-12-29", "to": "9999-12-30"})
    assert market["marketReport"]["totals"]["orders"] == 0
    # A day the calendar has not (year 0, 10000) is refused by the Date type itself.
    for day in ("0000-12-31", "10000-01-01"):
        assert api.codes(SELLER_REPORT, seller, **{"from": day, "to": "0001-01-01"}) == [
            ("BAD_USER_INPUT", None)
        ]
