"""The generated catalogue (catalogue.py) as a running stack takes it, and the query mix
(queries.py) as its two doors take it: plain data only (no gRPC, no broker), so a unit test
checks it.

- `import_rows`: the events as `ticketing catalogue import` rows (dicts of ImportRow's fields),
  keyed by the generator's event id as external_ref; the service gives each its own id.
- `listing_event`: a listing as the tickets service announces it (`ticket.created`), for the
  catalogue's listing summaries.
- `graphql_variables` / `grpc_request`: one search as the gateway's `events(...)` variables and
  as a SearchEventsRequest in protobuf JSON (k6's gRPC client), the same search both ways.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from bench.search.catalogue import Catalogue, RawListing
from svc_catalogue.domain.search import SearchFilter, SearchQuery
from ticketing.events.v1 import tickets_pb2

# The zone of each country's venues (one per country is close enough for a benchmark).
TIME_ZONES = {
    "CH": "Europe/Zurich", "CA": "America/Toronto", "BR": "America/Sao_Paulo",
    "CO": "America/Bogota", "MX": "America/Mexico_City", "IS": "Atlantic/Reykjavik",
    "PL": "Europe/Warsaw", "SE": "Europe/Stockholm", "DK": "Europe/Copenhagen",
    "DE": "Europe/Berlin", "AT": "Europe/Vienna", "FR": "Europe/Paris", "GB": "Europe/London",
    "IE": "Europe/Dublin", "NL": "Europe/Amsterdam", "BE": "Europe/Brussels",
    "PT": "Europe/Lisbon", "ES": "Europe/Madrid", "IT": "Europe/Rome", "CZ": "Europe/Prague",
    "US": "America/New_York",
}  # fmt: skip
EVENT_HOURS = 3
_LISTINGS = uuid.UUID("5e1ec7ed-0000-4000-8000-000000000020")


def import_rows(catalogue: Catalogue) -> list[dict[str, Any]]:
    return [
        {
            "external_ref": event.event_id,
            "name": event.name,
            "performers": list(event.performers),
            "venue_name": event.venue.name,
            "city": event.venue.city,
            "country": event.venue.country,
            "time_zone": TIME_ZONES[event.venue.country],
            "starts_at": event.starts_at.isoformat(),
            "ends_at": (event.starts_at + timedelta(hours=EVENT_HOURS)).isoformat(),
            "category": event.category,
        }
        for event in catalogue.events
    ]


def listing_event(listing: RawListing, event_id: str) -> tickets_pb2.TicketCreated:
    """`event_id`: the catalogue's id of the listing's event. A listing no longer for sale is
    announced with no seats available (as a sold-out one would be)."""
    return tickets_pb2.TicketCreated(
        id=str(uuid.uuid5(_LISTINGS, listing.listing_id)),
        version=0,
        title=f"{listing.quantity} seats",
        price=f"{listing.price:.2f}",
        user_id=listing.seller,
        currency_code=listing.currency_code,
        event_id=event_id,
        quantity=listing.quantity,
        available=listing.quantity if listing.active else 0,
    )


def _stamp(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def _filter_fields(given: SearchFilter) -> dict[str, Any]:
    """The filter's set fields by their snake_case names, as strings or booleans."""
    out: dict[str, Any] = {}
    if given.city is not None:
        out["city"] = given.city
    if given.category is not None:
        out["category"] = given.category
    if given.starts_from is not None:
        out["starts_from"] = _stamp(given.starts_from)
    if given.starts_to is not None:
        out["starts_to"] = _stamp(given.starts_to)
    if given.price_min is not None:
        out["price_min"] = f"{given.price_min:.2f}"
    if given.price_max is not None:
        out["price_max"] = f"{given.price_max:.2f}"
    if given.has_tickets is not None:
        out["has_tickets"] = given.has_tickets
    return out


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def graphql_variables(query: SearchQuery, cursor_of) -> dict[str, Any]:
    """`cursor_of(rank)`: the connection's cursor of the event at that rank (the gateway's
    `search_cursor`); a page after the first starts after the one before it."""
    variables: dict[str, Any] = {"sort": query.sort.value, "first": query.limit}
    if query.text:
        variables["query"] = query.text
    fields = _filter_fields(query.filter)
    if fields:
        variables["filter"] = {_camel(k): v for k, v in fields.items()}
    if query.offset:
        variables["after"] = cursor_of(query.offset - 1)
    return variables


def grpc_request(query: SearchQuery) -> dict[str, Any]:
    request: dict[str, Any] = {
        "query": query.text,
        "sort": f"EVENT_SORT_{query.sort.value}",
        "page_size": query.limit,
        "offset": query.offset,
    }
    fields = _filter_fields(query.filter)
    if "category" in fields:
        fields["category"] = f"EVENT_CATEGORY_{fields['category']}"
    if fields:
        request["filter"] = fields
    return request
