"""What event search takes and answers: the contract between the catalogue's handlers and the
search read model (docs/design/marketplace.md, decision 4).

Plain data, no engine: the catalogue's handlers build a `SearchQuery` from a request and read a
`SearchResult`; an adapter (tantivy in RAM, built from MongoDB) implements `EventSearchIndex`.
The authority stays MongoDB: the index is rebuilt from a `SearchFeed` at start and follows its
changes by sequence number.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:  # the model builds SearchDocuments: imported for the annotation only
    from svc_catalogue.domain.model import Event


class EventSort(StrEnum):
    RELEVANCE = "RELEVANCE"  # best match first; without a query, the same as DATE
    DATE = "DATE"  # soonest first
    PRICE = "PRICE"  # cheapest ticket for sale first; events with none last


@dataclass(frozen=True)
class SearchDocument:
    """One event as search sees it: the catalogue's event joined with the summary of its
    listings (from listings' events). `lowest_price` is None when nothing is for sale."""

    event_id: str
    name: str
    performers: tuple[str, ...]
    venue_name: str
    city: str
    country: str  # ISO 3166-1 alpha-2
    category: str  # e.g. CONCERT, SPORTS, THEATRE, COMEDY, FESTIVAL
    starts_at: datetime  # timezone-aware, UTC
    status: str  # SCHEDULED, POSTPONED, RESCHEDULED, CANCELLED
    lowest_price: Decimal | None = None
    currency_code: str = ""
    tickets_for_sale: int = 0


@dataclass(frozen=True)
class SearchFilter:
    city: str | None = None  # exact, case- and accent-insensitive
    category: str | None = None
    starts_from: datetime | None = None  # inclusive
    starts_to: datetime | None = None  # exclusive
    price_min: Decimal | None = None  # on lowest_price; an event with nothing for sale fails
    price_max: Decimal | None = None
    has_tickets: bool | None = None  # True: tickets_for_sale > 0; False: none for sale


@dataclass(frozen=True)
class SearchQuery:
    """`text`: words, each a prefix ("arct mon" finds "Arctic Monkeys"), case- and
    accent-insensitive, all required; empty: every event. `offset`/`limit` page the ranked
    matches. Cancelled events are included only when `include_cancelled`."""

    text: str = ""
    filter: SearchFilter = field(default_factory=SearchFilter)
    sort: EventSort = EventSort.RELEVANCE
    offset: int = 0
    limit: int = 20
    include_cancelled: bool = False


@dataclass(frozen=True)
class FacetCount:
    value: str
    count: int


@dataclass(frozen=True)
class SearchResult:
    event_ids: list[str]  # the page, in order
    total: int  # matches in all (before paging)
    categories: list[FacetCount]  # over all matches, most first, then by value
    cities: list[FacetCount]


class EventSearchIndex(Protocol):
    """The read model. `upsert` replaces documents by event_id; `remove` drops them. Changes are
    visible to `search` once `refresh` returns."""

    def upsert(self, documents: list[SearchDocument]) -> None: ...

    def remove(self, event_ids: list[str]) -> None: ...

    def refresh(self) -> None: ...

    def search(self, query: SearchQuery) -> SearchResult: ...

    def __len__(self) -> int: ...


@dataclass(frozen=True)
class FeedPage:
    """Changes after a sequence number: the documents to upsert (an event or its listings'
    summary changed) and the ids to remove, and the sequence number reached; `events`, the
    changed events themselves (the documents' source), for the replica's copy search pages are
    answered from."""

    documents: list[SearchDocument]
    removed: list[str]
    last_seq: int
    events: list[Event] = field(default_factory=list)


class SearchFeed(Protocol):
    """The authority's changes (MongoDB): every change to an event or its listings' summary
    takes the next sequence number; `since(0)` pages through everything."""

    async def since(self, seq: int, limit: int) -> FeedPage: ...
