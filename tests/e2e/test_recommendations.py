"""Recommendations in the running stack: a visitor who viewed a few tickets of one band is shown
that band's other tickets (by their anonymous id, before signing up too), a ticket's similar
tickets are its band's, and nobody is shown their own tickets or one already ordered."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import grpc
import httpx
import pytest

from common.service_identity import CLI
from tests.support import service_tokens
from tests.support.ids import raw_id
from tests.support.market import Api
from tests.support.stack import graphql
from tests.support.waiting import until
from ticketing.insights.v1 import insights_pb2, insights_pb2_grpc

pytestmark = pytest.mark.e2e

# Long enough for the insights service to retrain (INSIGHTS_RETRAIN_SECONDS in the e2e stack)
# and for behaviour events to arrive through the gateway's stream and the bus.
SETTLE_SECONDS = 40
RECOMMENDED = (
    "query($n: Int) { recommendedTickets(first: $n) { nodes { id title seller { id } state } } }"
)
SIMILAR = (
    "query($id: ID!, $n: Int) "
    "{ similarTickets(id: $id, first: $n) { nodes { id seller { id } state } } }"
)
VIEW = "query($id: ID!) { ticket(id: $id) { id } }"


class Visitor:
    """A browser: keeps its anon_id cookie across requests, signed in or not."""

    def __init__(self, base_url: str, token: str | None = None) -> None:
        self.client = httpx.Client(base_url=base_url, timeout=20)
        self.token = token

    def data(self, query: str, **variables) -> dict:
        result = graphql(self.client, query, self.token, **variables)
        assert not result.get("errors"), result
        return result["data"]

    def view(self, ticket_id: str) -> None:
        self.data(VIEW, id=ticket_id)

    def recommended(self, first: int = 10) -> list[dict]:
        return self.data(RECOMMENDED, n=first)["recommendedTickets"]["nodes"]

    def similar(self, ticket_id: str, first: int = 10) -> list[dict]:
        return self.data(SIMILAR, id=ticket_id, n=first)["similarTickets"]["nodes"]


@pytest.fixture
def api(client) -> Api:
    return Api(client)


@pytest.fixture
def visitors(stack) -> Iterator[list[Visitor]]:
    made: list[Visitor] = []
    yield made
    for visitor in made:
        visitor.client.close()


def ids(tickets: list[dict]) -> list[str]:
    return [t["id"] for t in tickets]


def views_recorded(stack, ticket_ids: list[str], times: int) -> None:
    """Until insights has stored each ticket's views (they travel through the gateway's stream
    and the bus), so a recommendation asked next is asked after all of them."""

    def counts() -> list[int]:
        as_operator = service_tokens.metadata(service_tokens.of_run(stack.run_dir), "insights", CLI)
        with grpc.insecure_channel(f"127.0.0.1:{stack.port('insights')}") as channel:
            stub = insights_pb2_grpc.InsightsServiceStub(channel)
            return [
                stub.GetEventCounts(
                    insights_pb2.GetEventCountsRequest(ticket_id=raw_id(ticket_id, "Ticket")),
                    metadata=as_operator,
                    timeout=5,
                ).counts["ticket.viewed"]
                for ticket_id in ticket_ids
            ]

    until(counts, lambda found: min(found) >= times, timeout=SETTLE_SECONDS)


def test_views_lead_to_the_same_bands_tickets_never_own_or_ordered(api, stack, visitors):
    band = f"The Velvet Foxes {uuid.uuid4().hex[:6]}"
    other = f"Neon Harbor {uuid.uuid4().hex[:6]}"
    seller, fan_seller, other_seller, buyer = api.user(), api.user(), api.user(), api.user()
    band_tickets = [
        api.sell(seller, f"{band} — Roxy Hall, Berlin", str(40 + i))["id"] for i in range(6)
    ]
    own_listed = [api.sell(fan_seller, f"{band} — Roxy Hall, Berlin", "45") for _ in range(2)]
    own = [t["id"] for t in own_listed]
    for i in range(6):  # another band, far from this one's price
        api.sell(other_seller, f"{other} — Apollo Arena, Lisbon", str(180 + i))
    anonymous = Visitor(stack.base_url)
    fan = Visitor(stack.base_url, fan_seller)
    visitors += [anonymous, fan]

    # Similar tickets: the band's, once a model has seen them.
    similar = until(
        lambda: ids(anonymous.similar(band_tickets[0], 5)),
        lambda found: set(found) <= set(band_tickets[1:] + own) and len(found) == 5,
        timeout=SETTLE_SECONDS,
    )
    assert band_tickets[0] not in similar

    # A visitor who viewed three of the band's tickets (not signed in) is shown the others.
    for ticket_id in band_tickets[:3]:
        anonymous.view(ticket_id)
    views_recorded(stack, band_tickets[:3], times=1)
    rest = set(band_tickets[3:] + own)
    shown = until(
        lambda: ids(anonymous.recommended(5)),
        lambda found: len(set(found) & rest) >= 4,
        timeout=SETTLE_SECONDS,
    )
    assert not set(shown) & set(band_tickets[:3])  # already seen

    # A seller of the band's tickets who views the band is shown the band, never their own.
    for ticket_id in band_tickets[:2]:
        fan.view(ticket_id)
    views_recorded(stack, band_tickets[:2], times=2)
    for_the_fan = until(
        lambda: ids(fan.recommended(5)),
        lambda found: len(set(found) & set(band_tickets[2:])) >= 3,
        timeout=SETTLE_SECONDS,
    )
    assert not set(for_the_fan) & set(own)
    assert not set(ids(fan.similar(band_tickets[3], 10))) & set(own)
    assert own_listed[0]["seller"] not in [t["seller"] for t in fan.recommended(20)]

    # A ticket ordered is shown to nobody once the gateway has heard of the order (its ticket
    # cache follows the tickets service's events).
    ordered = shown[0]
    api.order(buyer, ordered)
    until(
        lambda: ids(anonymous.recommended(10)) + ids(anonymous.similar(band_tickets[0], 10)),
        lambda found: ordered not in found,
        timeout=10,
    )
    assert all(t["state"] == "FOR_SALE" for t in anonymous.recommended(20))


def test_a_first_visit_is_shown_tickets_for_sale(api, stack, visitors):
    seller = api.user()
    api.sell(seller, f"First visit {uuid.uuid4().hex[:6]} — Hall, City", "30")
    stranger = Visitor(stack.base_url)
    visitors.append(stranger)

    shown = until(lambda: stranger.recommended(10), lambda found: len(found) > 0, SETTLE_SECONDS)

    assert all(t["state"] == "FOR_SALE" for t in shown)


def test_first_is_bounded(api, stack, visitors):
    visitor = Visitor(stack.base_url)
    visitors.append(visitor)
    result = graphql(visitor.client, RECOMMENDED, n=101)
    assert [e["extensions"]["code"] for e in result["errors"]] == ["BAD_USER_INPUT"]
    assert result["errors"][0]["extensions"]["field"] == "first"
