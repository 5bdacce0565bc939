"""The gateway's catalogue fields against a stand-in catalogue service: an event by id (and
through node), search as a ranked connection with counts and cursors, and the operators'
mutations (admins only, refusals as userErrors on the input's fields)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest

from common.errors import Conflict, InvalidInput, NotFound
from common.jwt import Claims
from common.protos import timestamp
from gateway.context import Context
from gateway.loaders import payments_loader, tickets_loader
from gateway.schema import build_schema
from gateway.ticket_cache import TicketReads
from tests.unit.gateway_v1_world import CALLER, Services, gid
from ticketing.catalogue.v1 import catalogue_pb2 as pb

STARTS = datetime(2027, 6, 1, 19, tzinfo=UTC)
EVENT_ID = "e0000000-0000-4000-8000-000000000001"


def event(i: int = 1, **more) -> pb.Event:
    fields = {
        "id": f"e0000000-0000-4000-8000-{i:012d}",
        "name": f"Show {i}",
        "performers": [pb.Performer(id="performer:muse", name="Muse")],
        "venue": pb.Venue(
            id="venue:arena-london",
            name="Arena",
            city="London",
            country="GB",
            time_zone="Europe/London",
        ),
        "start_time": timestamp(STARTS + timedelta(days=i)),
        "end_time": timestamp(STARTS + timedelta(days=i, hours=3)),
        "category": pb.EVENT_CATEGORY_CONCERT,
        "status": pb.EVENT_STATUS_SCHEDULED,
        "version": 0,
    }
    fields.update(more)
    return pb.Event(**fields)


class Catalogue(Services):
    """The v1 stand-ins, and a catalogue of 45 events."""

    def __init__(self) -> None:
        super().__init__()
        names = [
            "GetEvent",
            "BatchGetEvents",
            "SearchEvents",
            "CreateEvent",
            "UpdateEvent",
            "ChangeEventStatus",
        ]
        self.catalogue = SimpleNamespace(**{m: f"catalogue.{m}" for m in names})
        self.events = [event(i) for i in range(1, 46)]

    def GetEvent(self, r):
        for e in self.events:
            if e.id == r.id:
                return pb.GetEventResponse(event=e)
        raise NotFound("Event not found", field="id")

    def BatchGetEvents(self, r):
        return pb.BatchGetEventsResponse(events=[e for e in self.events if e.id in r.ids])

    def SearchEvents(self, r):
        page = self.events[r.offset : r.offset + r.page_size]
        return pb.SearchEventsResponse(
            events=page,
            total_count=len(self.events),
            categories=[pb.FacetCount(value="CONCERT", count=len(self.events))],
            cities=[pb.FacetCount(value=f"City {i}", count=1) for i in range(60)],
        )

    def CreateEvent(self, r):
        if r.event.venue.time_zone != "Europe/London":
            raise InvalidInput("Time zone is not an IANA time zone", field="time_zone")
        return pb.CreateEventResponse(event=event(1, name=r.event.name))

    def UpdateEvent(self, r):
        raise Conflict("The event changed since version 0", field="expected_version")

    def ChangeEventStatus(self, r):
        if r.status == pb.EVENT_STATUS_SCHEDULED:
            raise Conflict("A cancelled event cannot change status", field="status")
        return pb.ChangeEventStatusResponse(event=event(1, status=r.status, version=1))


class Admin(Context):
    async def user(self):
        return Claims(
            sub=CALLER, email="op@example.com", iat=0, exp=2**31, jti="j", roles=("admin",)
        )


class Member(Context):
    async def user(self):
        return Claims(sub=CALLER, email="me@example.com", iat=0, exp=2**31, jti="j")


class Anonymous(Context):
    async def user(self):
        return None


async def run(services: Catalogue, query: str, variables: dict | None = None, *, as_=Anonymous):
    reads = TicketReads(services, cache=None)
    context = as_(
        request=None,
        response=None,
        clients=services,
        accounts=None,
        token=None if as_ is Anonymous else "token",
        ticket_reads=reads,
        tickets=tickets_loader(reads),
        payments=payments_loader(services, "token"),
    )
    return await build_schema().execute(query, variable_values=variables, context_value=context)


@pytest.fixture
def services() -> Catalogue:
    return Catalogue()


SEARCH = """
query ($after: String, $first: Int) {
  events(query: "mu", filter: {city: "London", priceMax: "50", hasTickets: true},
         sort: PRICE, first: $first, after: $after) {
    totalCount
    edges { cursor node { id name venue { city timeZone slug } category status } }
    pageInfo { hasNextPage hasPreviousPage endCursor }
    facets { categories { value count } cities { value count } }
  }
}
"""


async def test_search_pages_forwards_with_counts_and_cursors(services):
    first = await run(services, SEARCH, {"first": 20})
    assert first.errors is None
    page = first.data["events"]
    assert page["totalCount"] == 45
    assert [e["node"]["name"] for e in page["edges"]][:2] == ["Show 1", "Show 2"]
    assert page["edges"][0]["node"]["id"] == gid("Event", event(1).id)
    assert page["edges"][0]["node"]["venue"] == {
        "city": "London",
        "timeZone": "Europe/London",
        "slug": "venue:arena-london",
    }
    assert page["pageInfo"] == {
        "hasNextPage": True,
        "hasPreviousPage": False,
        "endCursor": page["edges"][-1]["cursor"],
    }
    assert page["facets"]["categories"] == [{"value": "CONCERT", "count": 45}]
    assert len(page["facets"]["cities"]) == 50
    [asked] = services.asked("catalogue.SearchEvents")
    assert (asked.query, asked.filter.city, asked.filter.price_max) == ("mu", "London", "50")
    assert (asked.sort, asked.filter.has_tickets, asked.offset) == (pb.EVENT_SORT_PRICE, True, 0)

    last = await run(services, SEARCH, {"first": 20, "after": page["pageInfo"]["endCursor"]})
    last = await run(
        services, SEARCH, {"first": 20, "after": last.data["events"]["pageInfo"]["endCursor"]}
    )
    tail = last.data["events"]
    assert [e["node"]["name"] for e in tail["edges"]] == [f"Show {i}" for i in range(41, 46)]
    assert tail["pageInfo"]["hasNextPage"] is False and tail["pageInfo"]["hasPreviousPage"]


BACKWARDS = """
query ($before: String, $last: Int) {
  events(last: $last, before: $before) {
    totalCount edges { cursor node { name } } pageInfo { hasNextPage hasPreviousPage startCursor }
  }
}
"""


async def test_search_pages_backwards_from_the_end_and_from_a_cursor(services):
    end = (await run(services, BACKWARDS, {"last": 10})).data["events"]
    assert [e["node"]["name"] for e in end["edges"]] == [f"Show {i}" for i in range(36, 46)]
    assert (end["pageInfo"]["hasNextPage"], end["pageInfo"]["hasPreviousPage"]) == (False, True)
    before = await run(services, BACKWARDS, {"last": 40, "before": end["pageInfo"]["startCursor"]})
    page = before.data["events"]
    assert [e["node"]["name"] for e in page["edges"]] == [f"Show {i}" for i in range(1, 36)]
    assert page["pageInfo"]["hasPreviousPage"] is False
    first_cursor = page["edges"][0]["cursor"]
    nothing = await run(services, BACKWARDS, {"last": 5, "before": first_cursor})
    assert nothing.data["events"]["edges"] == [] and nothing.data["events"]["totalCount"] == 45


@pytest.mark.parametrize(
    ("variables", "field"),
    [({"first": 0}, "first"), ({"first": 101}, "first"), ({"after": "bm9wZQ"}, "after")],
)
async def test_a_bad_size_or_cursor_is_refused_before_any_call(services, variables, field):
    result = await run(services, SEARCH, variables)
    assert result.data == {"events": None}
    [error] = result.errors
    assert (error.extensions["code"], error.extensions["field"]) == ("BAD_USER_INPUT", field)
    assert services.asked("catalogue.SearchEvents") == []


async def test_an_event_by_id_and_through_node(services):
    query = "query ($id: ID!) { event(id: $id) { name } node(id: $id) { ... on Event { name } } }"
    result = await run(services, query, {"id": gid("Event", event(3).id)})
    assert result.data == {"event": {"name": "Show 3"}, "node": {"name": "Show 3"}}
    unknown = await run(services, query, {"id": gid("Ticket", event(3).id)})
    assert unknown.data == {"event": None, "node": None}
    assert {e.extensions["code"] for e in unknown.errors} == {"NOT_FOUND"}


EVERY_FIELD = """
query ($id: ID!) {
  events(first: 2) { nodes { ...all } edges { node { id name } } }
  event(id: $id) { ...all }
  node(id: $id) { id ... on Event { name startsAt } }
}
fragment all on Event {
  __typename id name performers { slug name } venue { slug name city country timeZone }
  startsAt endsAt timeZone category status version lowestPrice { amount currencyCode }
  ticketCount
}
"""


async def test_every_field_of_an_event_from_its_message(services):
    """Searched, by id and through node alike: every field as the catalogue's message says it
    (microseconds of its times, the price's decimals, no price when none is for sale)."""
    starts = timestamp(STARTS)
    starts.nanos = 123_456_789
    services.events[0] = event(
        1,
        start_time=starts,
        category=pb.EVENT_CATEGORY_FESTIVAL,
        status=pb.EVENT_STATUS_POSTPONED,
        version=4,
        lowest_price="20.50",
        currency_code="EUR",
        tickets_for_sale=7,
        performers=[
            pb.Performer(id="performer:a", name="A"),
            pb.Performer(id="performer:b", name="B"),
        ],
    )
    result = await run(services, EVERY_FIELD, {"id": gid("Event", services.events[0].id)})
    assert result.errors is None
    first = {
        "__typename": "Event",
        "id": gid("Event", services.events[0].id),
        "name": "Show 1",
        "performers": [{"slug": "performer:a", "name": "A"}, {"slug": "performer:b", "name": "B"}],
        "venue": {
            "slug": "venue:arena-london",
            "name": "Arena",
            "city": "London",
            "country": "GB",
            "timeZone": "Europe/London",
        },
        "startsAt": "2027-06-01T19:00:00.123456Z",
        "endsAt": "2027-06-02T22:00:00Z",
        "timeZone": "Europe/London",
        "category": "FESTIVAL",
        "status": "POSTPONED",
        "version": 4,
        "lowestPrice": {"amount": "20.50", "currencyCode": "EUR"},
        "ticketCount": 7,
    }
    second = result.data["events"]["nodes"][1]
    assert result.data["events"]["nodes"][0] == result.data["event"] == first
    assert (second["lowestPrice"], second["ticketCount"], second["category"]) == (
        None,
        0,
        "CONCERT",
    )
    assert result.data["events"]["edges"][0]["node"] == {"id": first["id"], "name": "Show 1"}
    assert result.data["node"] == {
        "id": first["id"],
        "name": "Show 1",
        "startsAt": "2027-06-01T19:00:00.123456Z",
    }


CREATE = """
mutation ($tz: String!) {
  createEvent(input: {name: "Muse", performers: ["Muse"], venueName: "Arena", city: "London",
    country: "GB", timeZone: $tz, startsAt: "2027-06-01T19:00:00Z",
    endsAt: "2027-06-01T22:00:00Z", category: CONCERT, idempotencyKey: "k1"}) {
    event { name status category }
    userErrors { code field message }
  }
}
"""


async def test_only_an_admin_creates_and_a_refusal_names_its_input_field(services):
    member = await run(services, CREATE, {"tz": "Europe/London"}, as_=Member)
    payload = member.data["createEvent"]
    assert payload["event"] is None
    assert [e["code"] for e in payload["userErrors"]] == ["FORBIDDEN"]
    assert services.asked("catalogue.CreateEvent") == []

    signed_out = await run(services, CREATE, {"tz": "Europe/London"})
    assert [e.extensions["code"] for e in signed_out.errors] == ["UNAUTHENTICATED"]

    created = await run(services, CREATE, {"tz": "Europe/London"}, as_=Admin)
    assert created.data["createEvent"] == {
        "event": {"name": "Muse", "status": "SCHEDULED", "category": "CONCERT"},
        "userErrors": [],
    }
    refused = await run(services, CREATE, {"tz": "Mars/Base"}, as_=Admin)
    assert refused.data["createEvent"]["userErrors"] == [
        {
            "code": "BAD_USER_INPUT",
            "field": ["input", "timeZone"],
            "message": "Time zone is not an IANA time zone",
        }
    ]


async def test_status_changes_and_their_conflicts(services):
    change = """
    mutation ($id: ID!, $status: EventStatus!) {
      changeEventStatus(input: {id: $id, expectedVersion: 0, status: $status}) {
        event { status version } userErrors { code field }
      }
    }"""
    event_id = gid("Event", event(1).id)
    done = await run(services, change, {"id": event_id, "status": "CANCELLED"}, as_=Admin)
    assert done.data["changeEventStatus"] == {
        "event": {"status": "CANCELLED", "version": 1},
        "userErrors": [],
    }
    refused = await run(services, change, {"id": event_id, "status": "SCHEDULED"}, as_=Admin)
    assert refused.data["changeEventStatus"]["userErrors"] == [
        {"code": "CONFLICT", "field": ["input", "status"]}
    ]
    unknown = await run(services, change, {"id": "nope", "status": "POSTPONED"}, as_=Admin)
    assert unknown.data["changeEventStatus"]["userErrors"] == [
        {"code": "NOT_FOUND", "field": ["input", "id"]}
    ]
