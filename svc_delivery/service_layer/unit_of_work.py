"""The delivery service's unit of work, as the handlers see it (a port): deliveries, sellers'
records, the consumed events' inbox, the e-ticket files and the passes, in one transaction.
`svc_delivery/adapters/unit_of_work.py` implements it on MongoDB (the files in GridFS); the unit
tests' fakes in memory; `bootstrap.py` chooses."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from common.pagination import Page, PageRequest
from svc_delivery.domain.deliveries import Delivery, SellerRecord
from svc_delivery.domain.methods import DeliveryStatus
from svc_delivery.domain.passes import Pass


class DeliveryRepository(Protocol):
    async def get(self, order_id: str) -> Delivery | None: ...

    async def many(self, order_ids: list[str]) -> list[Delivery]:
        """The stored ones among them, in no particular order."""
        ...

    async def add(self, delivery: Delivery) -> None: ...

    async def save(self, delivery: Delivery) -> None:
        """ConcurrentUpdate if it changed since it was loaded."""
        ...

    async def page_of(
        self,
        user_id: str,
        as_seller: bool,
        statuses: list[DeliveryStatus],
        request: PageRequest,
    ) -> Page[Delivery]:
        """The user's deliveries as the seller (or the buyer), newest first."""
        ...

    async def due_ids(self, now: datetime, limit: int) -> list[str]:
        """Deliveries whose next check (a reminder, a deadline) is at or before now, earliest
        first."""
        ...


class SellerRecordRepository(Protocol):
    async def get(self, seller_id: str) -> SellerRecord: ...

    async def count(self, seller_id: str, delivered: int = 0, missed: int = 0) -> None: ...


class FileStore(Protocol):
    """The delivered files' bytes, written in the unit of work's transaction."""

    async def put(self, file_id: str, filename: str, content: bytes, order_id: str) -> None: ...

    async def get(self, file_id: str) -> bytes | None: ...


class PassRepository(Protocol):
    async def get(self, pass_id: str) -> Pass | None: ...

    async def add(self, issued: Pass) -> None:
        """One pass per (order, seat): a second is refused by the store's unique index."""
        ...

    async def save(self, changed: Pass) -> None:
        """Conditional on the version it was loaded at: ConcurrentUpdate if it changed since."""
        ...

    async def of_order(self, order_id: str) -> list[Pass]:
        """The order's passes, by seat."""
        ...

    async def held_by(self, holder_id: str, event_id: str, request: PageRequest) -> Page[Pass]:
        """The passes the user holds (not void), newest issue first; `event_id`: that event's."""
        ...

    async def offered_to(self, email: str) -> list[Pass]:
        """The passes offered for transfer to `email` (lower case), not accepted yet."""
        ...


class Admissions(Protocol):
    """The entry records (`admissions`, keyed by (event_id, pass_id), written by the entry side):
    only whether, and when, a pass was admitted."""

    async def entered_at(self, event_id: str, pass_ids: list[str]) -> dict[str, datetime]:
        """When each of the event's passes among `pass_ids` was admitted (absent: not)."""
        ...


class DeliveryUnitOfWork(Protocol):
    deliveries: DeliveryRepository
    sellers: SellerRecordRepository
    files: FileStore
    passes: PassRepository
    admissions: Admissions

    async def __aenter__(self) -> DeliveryUnitOfWork: ...

    async def __aexit__(self, *exc: object) -> None: ...

    async def already_processed(self, event_id: str) -> bool: ...

    async def commit(self) -> None: ...
