"""Tickets stored before listings of several seats, as `ticketing migrate` finds and rewrites
them (svc_tickets/service_layer/migration.py). Every query here scans the collection: they run
in that one-off command only, never as the service starts or serves."""

from __future__ import annotations

from pymongo.asynchronous.database import AsyncDatabase

from svc_tickets.adapters.documents import TICKETS, as_listing
from svc_tickets.domain.model import Ticket

# A ticket stored before listings of several seats has no `holds` (TicketDocument).
LEGACY = {"holds": {"$exists": False}}


class MongoLegacyListings:
    def __init__(self, db: AsyncDatabase) -> None:
        self.tickets = db.tickets

    async def legacy(self) -> list[Ticket]:
        cursor = self.tickets.find(LEGACY).sort("_id", 1)
        return [TICKETS.from_doc(as_listing(doc)) async for doc in cursor]

    async def rewrite(self, ticket_id: str) -> bool:
        """The ticket as a one-seat listing, its holder (`order_id`) as its hold: the rewrite
        the service did on every start before `ticketing migrate`. Conditional, so two runs at
        once rewrite each ticket once."""
        doc = await self.tickets.find_one({"_id": ticket_id, **LEGACY})
        if doc is None:
            return False
        upgraded = TICKETS.to_doc(TICKETS.from_doc(as_listing(doc)))
        del upgraded["_id"]  # immutable: a real MongoDB refuses it in $set
        result = await self.tickets.update_one(
            {"_id": ticket_id, **LEGACY}, {"$set": upgraded, "$unset": {"order_id": ""}}
        )
        return result.modified_count == 1

    async def unsold_holds(self) -> list[tuple[str, str]]:
        query = {"holds": {"$elemMatch": {"sold": {"$ne": True}}}}
        projection = {"holds.order_id": 1, "holds.sold": 1}
        return [
            (doc["_id"], hold["order_id"])
            async for doc in self.tickets.find(query, projection).sort("_id", 1)
            for hold in doc["holds"]
            if not hold.get("sold")
        ]
