"""The gateway-level search benchmark's seeding and query mix (bench/search/seeding.py): the
generated events are rows the catalogue's import takes as they are, a listing is announced as
the tickets service would, and each search of the mix is the same search through the gateway
(GraphQL variables) and straight over gRPC (a SearchEventsRequest in protobuf JSON)."""

from __future__ import annotations

from google.protobuf import json_format

from bench.search.catalogue import CatalogueSpec, documents, generate
from bench.search.queries import query_mix
from bench.search.seeding import graphql_variables, grpc_request, import_rows, listing_event
from gateway.resolvers.events import _rank_after, search_cursor
from svc_catalogue.service_layer.commands import ImportRow
from svc_catalogue.service_layer.imports import row_details
from ticketing.catalogue.v1 import catalogue_pb2 as pb

SMALL = CatalogueSpec(events=300, listings=3_000, performers=200)


def test_every_generated_event_is_a_row_the_import_takes_at_its_own_time() -> None:
    catalogue = generate(SMALL)
    rows = import_rows(catalogue)
    assert [r["external_ref"] for r in rows] == [e.event_id for e in catalogue.events]
    for row, event in zip(rows, catalogue.events, strict=True):
        details = row_details(ImportRow(**row))
        assert details.starts_at == event.starts_at
        assert details.name == event.name
        assert details.venue.city == event.venue.city


def test_a_listing_is_announced_for_the_catalogues_event_with_its_seats_for_sale() -> None:
    catalogue = generate(SMALL)
    active = next(lst for lst in catalogue.listings if lst.active)
    gone = next(lst for lst in catalogue.listings if not lst.active)
    announced = listing_event(active, "event-1")
    assert announced.event_id == "event-1"
    assert announced.available == announced.quantity == active.quantity
    assert announced.price == f"{active.price:.2f}" and announced.currency_code == "EUR"
    assert listing_event(gone, "event-1").available == 0
    assert listing_event(active, "event-1").id == announced.id  # the same id every run
    assert listing_event(gone, "event-1").id != announced.id


def test_each_search_is_the_same_through_the_gateway_and_over_grpc() -> None:
    queries = query_mix(documents(generate(SMALL)), 300)
    graphql_fields = {"city", "category", "startsFrom", "startsTo", "priceMin", "priceMax"}
    graphql_fields |= {"hasTickets"}
    assert {q.offset for q in queries} == {0, 20, 40}
    assert any(q.filter.city for q in queries) and any(q.filter.starts_from for q in queries)
    for query in queries:
        request = json_format.ParseDict(grpc_request(query), pb.SearchEventsRequest())
        variables = graphql_variables(query, search_cursor)
        assert request.query == query.text == variables.get("query", "")
        assert pb.EventSort.Name(request.sort) == f"EVENT_SORT_{variables['sort']}"
        assert request.page_size == variables["first"] == 20
        after = variables.get("after")
        assert request.offset == (_rank_after(after, "after") + 1 if after else 0)
        given = variables.get("filter", {})
        assert set(given) <= graphql_fields
        assert request.filter.city == given.get("city", "")
        if "category" in given:
            assert request.filter.category == pb.EventCategory.Value(
                f"EVENT_CATEGORY_{given['category']}"
            )
        assert request.filter.price_min == given.get("priceMin", "")
        assert request.filter.HasField("has_tickets") == ("hasTickets" in given)
        assert request.filter.HasField("starts_from") == ("startsFrom" in given)
