"""The catalogue's commands and reads: operators create and change events; anyone reads and
searches them. Bulk imports are `service_layer/imports.py`, listings' events
`service_layer/listing_summaries.py`."""

from __future__ import annotations

import base64
import binascii
import uuid
from collections.abc import Callable, Mapping

from common.clock import Clock, stored_precision
from common.errors import Forbidden, InvalidInput, NotFound
from common.idempotency import IdempotencyRecord, check_key, fingerprint, replayed_object
from common.retries import retry_transient
from svc_catalogue.domain.fees import check_fee_override
from svc_catalogue.domain.model import Event
from svc_catalogue.domain.search import (
    EventSearchIndex,
    EventSort,
    SearchQuery,
    SearchResult,
)
from svc_catalogue.domain.values import EventDetails
from svc_catalogue.service_layer.commands import (
    ChangeEventStatus,
    CreateEvent,
    Operator,
    SearchEvents,
    SetEventFees,
    UpdateEvent,
)
from svc_catalogue.service_layer.unit_of_work import CatalogueUnitOfWork

MAX_BATCH = 500
DEFAULT_PAGE = 20
MAX_PAGE = 100
MAX_OFFSET = 10_000  # deeper than anyone pages a search


def require_admin(by: Operator) -> None:
    if not by.is_admin:
        raise Forbidden("Only an operator (admin) can change the catalogue")


def details_fingerprint(details: EventDetails) -> str:
    return fingerprint(
        details.name,
        "|".join(f"{p.id}={p.name}" for p in details.performers),
        repr(details.venue),
        details.starts_at.isoformat(),
        details.ends_at.isoformat(),
        details.category.value,
    )


class CatalogueHandlers:
    def __init__(
        self,
        uow: Callable[[], CatalogueUnitOfWork],
        clock: Clock,
        index: EventSearchIndex,
        new_id: Callable[[], str] = lambda: str(uuid.uuid4()),
        copies: Mapping[str, Event] | None = None,
    ) -> None:
        self.uow = uow
        self.clock = clock
        self.index = index
        self.new_id = new_id
        # The replica's copy of every event, kept by the search sync with the index.
        self.copies: Mapping[str, Event] = copies if copies is not None else {}

    async def create_event(self, cmd: CreateEvent) -> Event:
        """Idempotent by the operator's key (docs/api.md §6), as tickets' CreateTicket."""
        require_admin(cmd.by)
        key = check_key(cmd.idempotency_key)
        details = cmd.event.checked()
        return await self._create(cmd.by.user_id, key, details_fingerprint(details), details)

    @retry_transient(attempts=30)
    async def _create(self, user_id: str, key: str, request: str, details: EventDetails) -> Event:
        async with self.uow() as uow:
            now = stored_precision(self.clock.now())
            record = await uow.idempotency.find(user_id, key, now)
            if record is not None:
                return await self._get(uow, replayed_object(record, request))
            event = Event.create(self.new_id(), details, now)
            await uow.events.add(event)
            await uow.idempotency.claim(IdempotencyRecord(user_id, key, request, event.id, now))
            await uow.commit()
            return event

    @retry_transient()
    async def update_event(self, cmd: UpdateEvent) -> Event:
        require_admin(cmd.by)
        details = cmd.event.checked()
        async with self.uow() as uow:
            event = await self._get(uow, cmd.event_id)
            if not event.check_version(cmd.expected_version, event.details == details):
                return event  # our own change, asked again
            if event.update(details):
                await uow.events.save(event)
                await uow.commit()
            return event

    @retry_transient()
    async def set_fees(self, cmd: SetEventFees) -> Event:
        require_admin(cmd.by)
        override = check_fee_override(
            cmd.buyer_fee_percent, cmd.buyer_fee_fixed, cmd.seller_commission_percent
        )
        async with self.uow() as uow:
            event = await self._get(uow, cmd.event_id)
            if not event.check_version(cmd.expected_version, event.fee_override == override):
                return event  # our own change, asked again
            if event.set_fees(override):
                await uow.events.save(event)
                await uow.commit()
            return event

    @retry_transient()
    async def change_status(self, cmd: ChangeEventStatus) -> Event:
        require_admin(cmd.by)
        if cmd.status is None:
            raise InvalidInput("Give the new status", field="status")
        async with self.uow() as uow:
            event = await self._get(uow, cmd.event_id)
            asked_done = event.is_status(cmd.status, cmd.starts_at, cmd.ends_at)
            if not event.check_version(cmd.expected_version, asked_done):
                return event
            event.change_status(cmd.status, cmd.starts_at, cmd.ends_at)
            await uow.events.save(event)
            await uow.commit()
            return event

    @retry_transient()  # a read: safe to run again on a fresh connection
    async def get_event(self, event_id: str) -> Event:
        async with self.uow() as uow:
            return await self._get(uow, event_id)

    @retry_transient()
    async def batch_get(self, ids: list[str]) -> list[Event]:
        if len(ids) > MAX_BATCH:
            raise InvalidInput(f"At most {MAX_BATCH} ids at once", field="ids")
        if not ids:
            return []
        async with self.uow() as uow:
            return await uow.events.many(list(dict.fromkeys(ids)))

    async def search(self, cmd: SearchEvents) -> tuple[list[Event], SearchResult, str]:
        """The index ranks and counts; the page's events come from the replica's copy, which
        the search sync keeps from the same feed as the index (so a page is as fresh as its
        ranking); those the copy lacks are read from MongoDB (the authority) in one query. All
        are answered in the index's order; an event neither has is left out. Returns the
        events, the result (total, facets) and the next page's token ("" on the last page)."""
        size = cmd.page_size or DEFAULT_PAGE
        if not 1 <= size <= MAX_PAGE:
            raise InvalidInput(f"page_size must be 1 to {MAX_PAGE}", field="page_size")
        try:
            sort = EventSort(cmd.sort or EventSort.RELEVANCE)
        except ValueError:
            raise InvalidInput("Unknown sort", field="sort") from None
        offset = decode_page_token(cmd.page_token) if cmd.page_token else cmd.offset
        if not 0 <= offset <= MAX_OFFSET:
            raise InvalidInput(f"offset must be 0 to {MAX_OFFSET}", field="offset")
        query = SearchQuery(cmd.text.strip(), cmd.filter, sort, offset, size, cmd.include_cancelled)
        result = self.index.search(query)
        copied = {i: self.copies[i] for i in result.event_ids if i in self.copies}
        missing = [i for i in result.event_ids if i not in copied]
        read = {event.id: event for event in await self._in_order(missing)}
        events = [e for i in result.event_ids if (e := copied.get(i) or read.get(i))]
        more = offset + len(result.event_ids) < result.total
        return events, result, encode_page_token(offset + size) if more else ""

    @retry_transient()
    async def _in_order(self, ids: list[str]) -> list[Event]:
        if not ids:
            return []
        async with self.uow() as uow:
            found = {event.id: event for event in await uow.events.many(ids)}
        return [found[i] for i in ids if i in found]

    async def _get(self, uow: CatalogueUnitOfWork, event_id: str) -> Event:
        event = await uow.events.get(event_id) if event_id else None
        if event is None:
            raise NotFound("Event not found", field="id")
        return event


# A search's page token: the offset of the page in the ranked matches, opaque to clients.
_TOKEN_PREFIX = "o:"


def encode_page_token(offset: int) -> str:
    return base64.urlsafe_b64encode(f"{_TOKEN_PREFIX}{offset}".encode()).decode()


def decode_page_token(token: str) -> int:
    if not token:
        return 0
    try:
        text = base64.urlsafe_b64decode(token.encode()).decode()
        if text.startswith(_TOKEN_PREFIX):
            offset = int(text.removeprefix(_TOKEN_PREFIX))
            if 0 <= offset <= MAX_OFFSET:
                return offset
    except (ValueError, binascii.Error, UnicodeDecodeError):
        pass
    raise InvalidInput("Not a page token from this search", field="page_token")
