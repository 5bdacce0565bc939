"""recommendedEvents / similarEvents in the gateway: insights ranks catalogue event ids, the
catalogue says what each event is now (a cancelled or missing one is dropped), paged by rank
offset; reading an event records an event.viewed for the visitor; and eventReport is insights'
report of an event, for operators only."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

from common.jwt import Claims
from common.protos import timestamp
from gateway import global_ids
from gateway.behaviour.recorder import BehaviourRecorder
from gateway.context import Context
from gateway.loaders import payments_loader, tickets_loader
from gateway.schema import build_schema
from gateway.ticket_cache import TicketReads
from ticketing.catalogue.v1 import catalogue_pb2 as pb
from ticketing.events.v1 import behaviour_pb2
from ticketing.insights.v1 import insights_pb2

STARTS = datetime(2027, 6, 1, 19, tzinfo=UTC)


def catalogue_event(i: int) -> pb.Event:
    return pb.Event(
        id=f"ev{i}",
        name=f"Show {i}",
        performers=[pb.Performer(id="performer:muse", name="Muse")],
        venue=pb.Venue(id="venue:arena", name="Arena", city="London", country="GB"),
        start_time=timestamp(STARTS + timedelta(days=i)),
        end_time=timestamp(STARTS + timedelta(days=i, hours=3)),
        category=pb.EVENT_CATEGORY_CONCERT,
        # ev2 was cancelled since the model was trained.
        status=pb.EVENT_STATUS_CANCELLED if i == 2 else pb.EVENT_STATUS_SCHEDULED,
    )


# ev6 is gone from the catalogue.
EVENTS = {f"ev{i}": catalogue_event(i) for i in range(30) if i != 6}


class Clients:
    """Stands in for ServiceClients: insights ranks ev1, ev2, ... and the requests are kept."""

    def __init__(self) -> None:
        self.requests: list[object] = []
        self.catalogue = SimpleNamespace(BatchGetEvents="BatchGetEvents", GetEvent="GetEvent")
        self.insights = SimpleNamespace(
            RecommendEvents="RecommendEvents",
            SimilarEvents="SimilarEvents",
            GetEventReport="GetEventReport",
        )

    async def call(self, method, request, token=None, timeout=None):
        self.requests.append(request)
        if method == "BatchGetEvents":
            return pb.BatchGetEventsResponse(events=[EVENTS[i] for i in request.ids if i in EVENTS])
        if method == "GetEvent":
            return pb.GetEventResponse(event=EVENTS[request.id])
        if method == "GetEventReport":
            return insights_pb2.GetEventReportResponse(report=REPORT)
        ranked = [f"ev{i}" for i in range(1, request.first + 1)]
        if method == "RecommendEvents":
            return insights_pb2.RecommendEventsResponse(event_ids=ranked, model_version="v1")
        if method == "SimilarEvents":
            return insights_pb2.SimilarEventsResponse(event_ids=ranked, model_version="v1")
        raise AssertionError(f"unexpected call {method}")


class Recorded(BehaviourRecorder):
    """Keeps what would be accepted into the stream."""

    def __init__(self) -> None:
        self.recorded: list[object] = []
        super().__init__(redis=None, namespace="test")  # type: ignore[arg-type]

    async def record(self, event) -> bool:
        self.recorded.append(event)
        return True


class SignedIn(Context):
    async def user(self):
        return Claims(sub="caller", email="c@example.com", iat=0, exp=2**31, jti="j")


class Operator(Context):
    async def user(self):
        return Claims(sub="op", email="o@example.com", iat=0, exp=2**31, jti="j", roles=("admin",))


class Anonymous(Context):
    async def user(self):
        return None


async def run(query: str, *, signed_in: bool | str, recorder: BehaviourRecorder | None = None):
    clients = Clients()
    reads = TicketReads(clients, cache=None)
    kind = Operator if signed_in == "operator" else SignedIn if signed_in else Anonymous
    context = kind(
        request=None,
        response=None,
        clients=clients,
        accounts=None,
        token="token" if signed_in else None,
        ticket_reads=reads,
        tickets=tickets_loader(reads),
        payments=payments_loader(clients, None),
        recorder=recorder,
        anonymous_id="cookie-1",
    )
    return await build_schema().execute(query, context_value=context), clients


def events(*raw: int) -> list[str]:
    return [global_ids.encode("Event", f"ev{i}") for i in raw]


def ids(connection: dict) -> list[str]:
    return [edge["node"]["id"] for edge in connection["edges"]]


async def test_recommended_events_leave_out_cancelled_and_missing_ones_and_page_by_rank():
    query = "{ recommendedEvents(first: 4) { edges { cursor node { id name } } pageInfo { hasNextPage endCursor } } }"  # noqa: E501
    result, clients = await run(query, signed_in=True)

    assert result.errors is None, result.errors
    page = result.data["recommendedEvents"]
    assert ids(page) == events(1, 3, 4, 5)
    assert page["pageInfo"]["hasNextPage"] is True
    assert clients.requests[0] == insights_pb2.RecommendEventsRequest(
        user_id="caller", anonymous_id="cookie-1", first=100
    )
    after = page["pageInfo"]["endCursor"]
    second, _ = await run(
        f'{{ recommendedEvents(first: 2, after: "{after}") {{ edges {{ node {{ id }} }} }} }}',
        signed_in=True,
    )
    assert ids(second.data["recommendedEvents"]) == events(7, 8)


async def test_similar_events_never_include_the_event_itself_and_need_no_sign_in():
    [ev3] = events(3)
    result, clients = await run(
        f'{{ similarEvents(id: "{ev3}", first: 3) {{ nodes {{ id }} }} }}', signed_in=False
    )

    assert result.errors is None, result.errors
    assert [n["id"] for n in result.data["similarEvents"]["nodes"]] == events(1, 4, 5)
    assert clients.requests[0] == insights_pb2.SimilarEventsRequest(event_id="ev3", first=100)


async def test_reading_an_event_records_that_the_visitor_viewed_it():
    recorder = Recorded()
    [ev5] = events(5)

    result, _ = await run(f'{{ event(id: "{ev5}") {{ name }} }}', signed_in=True, recorder=recorder)

    assert result.errors is None, result.errors
    [viewed] = recorder.recorded
    assert isinstance(viewed, behaviour_pb2.EventViewed)
    assert (viewed.event_id, viewed.user_id, viewed.anonymous_id) == ("ev5", "caller", "cookie-1")


REPORT = insights_pb2.EventReport(
    event_id="ev5",
    from_day="2026-05-04",
    to_day="2026-05-04",
    event_views=5,
    listing_views=3,
    orders_placed=3,
    orders_paid=2,
    seats_sold=3,
    revenue=[insights_pb2.Amount(amount="150.00", currency_code="EUR")],
    funnel=insights_pb2.EventFunnel(viewed_event=4, viewed_listing=3, ordered=3, paid=2),
    listings=[
        insights_pb2.EventListingFigures(
            ticket_id="t-a",
            seller_id="s1",
            views=2,
            orders_placed=2,
            orders_paid=2,
            seats_sold=3,
            revenue=[insights_pb2.Amount(amount="150.00", currency_code="EUR")],
        )
    ],
)
REPORT_QUERY = """{ eventReport(id: "%s", from: "2026-05-04", to: "2026-05-04") {
  from eventViews seatsSold revenue { amount currencyCode }
  funnel { viewedEvent paid paidPerViewedEvent }
  listings { listingId seatsSold seller { id } } } }"""


async def test_an_events_report_is_insights_figures_for_operators_only():
    [ev5] = events(5)

    result, clients = await run(REPORT_QUERY % ev5, signed_in="operator")
    refused, untouched = await run(REPORT_QUERY % ev5, signed_in=True)

    assert result.errors is None, result.errors
    report = result.data["eventReport"]
    assert (report["from"], report["eventViews"], report["seatsSold"]) == ("2026-05-04", 5, 3)
    assert report["revenue"] == [{"amount": "150.00", "currencyCode": "EUR"}]
    assert report["funnel"] == {"viewedEvent": 4, "paid": 2, "paidPerViewedEvent": 0.5}
    [listing] = report["listings"]
    assert listing["listingId"] == global_ids.encode("Listing", "t-a")
    assert listing["seatsSold"] == 3
    assert clients.requests == [
        insights_pb2.GetEventReportRequest(
            event_id="ev5", from_day="2026-05-04", to_day="2026-05-04"
        )
    ]
    assert refused.data["eventReport"] is None
    assert refused.errors[0].extensions["code"] == "FORBIDDEN"
    assert untouched.requests == []
