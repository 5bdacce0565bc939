"""The search feed on MongoDB (`svc_catalogue.domain.search.SearchFeed`): event documents with
`seq` above a number, in `seq` order, on the index on `seq`; each joined with its listings'
summary, which the document carries (`repository.set_summaries`). Outside any transaction: a
document's seq is committed in the order it was taken (see `adapters/repository.py`)."""

from __future__ import annotations

from typing import Any

from pymongo import ASCENDING
from pymongo.asynchronous.database import AsyncDatabase

from svc_catalogue.adapters.repository import EVENTS
from svc_catalogue.domain.search import FeedPage


class MongoSearchFeed:
    def __init__(self, db: AsyncDatabase) -> None:
        self.events = db.events

    async def since(self, seq: int, limit: int) -> FeedPage:
        cursor = self.events.find({"seq": {"$gt": seq}}, sort=[("seq", ASCENDING)], limit=limit)
        docs: list[dict[str, Any]] = [doc async for doc in cursor]
        events = [EVENTS.from_doc(doc) for doc in docs]
        return FeedPage(
            documents=[event.search_document() for event in events],
            removed=[],
            last_seq=int(docs[-1]["seq"]) if docs else seq,
            events=events,
        )
