"""Keeps a replica's search index following MongoDB (docs/design/marketplace.md, decision 4):
built from the whole feed at start (`since(0)`, page by page) before the replica reports ready,
then every SEARCH_POLL_SECONDS the changes since the last sequence number seen are upserted (or
removed) and made visible. The same changes keep `copies`, the replica's copy of every event
(by id), which search pages are answered from: the page and its ranking come from one feed, and
a search reads nothing from MongoDB (reading a page's 20 events there cost more CPU than the
search itself; bench `search-gateway`)."""

from __future__ import annotations

import asyncio
import logging

from common.retries import is_outage
from svc_catalogue.domain.model import Event
from svc_catalogue.domain.search import EventSearchIndex, SearchFeed

log = logging.getLogger(__name__)

FEED_PAGE = 1000


class SearchSync:
    def __init__(
        self,
        feed: SearchFeed,
        index: EventSearchIndex,
        poll_seconds: float,
        page_size: int = FEED_PAGE,
        copies: dict[str, Event] | None = None,
    ) -> None:
        self.feed = feed
        self.index = index
        self.copies = copies if copies is not None else {}
        self.poll_seconds = poll_seconds
        self.page_size = page_size
        self.last_seq = 0
        self.built = asyncio.Event()

    async def build(self) -> None:
        """The whole feed into the index; `built` is set once it is searchable."""
        await self.catch_up()
        self.built.set()
        log.info("search index built", extra={"events": len(self.index), "seq": self.last_seq})

    async def catch_up(self) -> int:
        """Applies every change after `last_seq`; the number of changes applied."""
        applied = 0
        while True:
            page = await self.feed.since(self.last_seq, self.page_size)
            if page.documents:
                self.index.upsert(page.documents)
            self.copies.update((event.id, event) for event in page.events)
            if page.removed:
                self.index.remove(page.removed)
                for event_id in page.removed:
                    self.copies.pop(event_id, None)
            applied += len(page.documents) + len(page.removed)
            self.last_seq = max(self.last_seq, page.last_seq)
            if len(page.documents) + len(page.removed) < self.page_size:
                break
        if applied:
            self.index.refresh()
        return applied

    async def run(self) -> None:
        """Polls for ever (a background loop of the service process); a failed round is logged
        and the next one tries again, the index serving as it was meanwhile."""
        if not self.built.is_set():
            await self.build()
        while True:
            await asyncio.sleep(self.poll_seconds)
            try:
                await self.catch_up()
            except Exception as exc:
                if is_outage(exc):
                    log.warning("search index cannot follow MongoDB", extra={"error": repr(exc)})
                else:  # a bug: logged, and the next round tries again
                    log.exception("search index update failed")
