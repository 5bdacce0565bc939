"""An operator's bulk import (`ticketing catalogue import`, ImportEvents): each row is upserted
by its `external_ref`, alone, in its own transaction, and answered with what happened to it. A
row already as the file says is left unchanged, so importing a file twice changes nothing."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from common.clock import Clock, stored_precision
from common.errors import AppError, InvalidInput
from common.retries import retry_transient
from svc_catalogue.domain.model import Event
from svc_catalogue.domain.values import EventDetails, InvalidDetails, parse_local_time
from svc_catalogue.service_layer.commands import EventInput, ImportRow
from svc_catalogue.service_layer.unit_of_work import CatalogueUnitOfWork

MAX_ROWS = 500
MAX_REF = 200


class Outcome(StrEnum):
    CREATED = "CREATED"
    UPDATED = "UPDATED"
    UNCHANGED = "UNCHANGED"
    FAILED = "FAILED"


@dataclass(frozen=True)
class RowResult:
    index: int
    external_ref: str
    outcome: Outcome
    event_id: str = ""
    errors: list[InvalidInput] = field(default_factory=list)


def row_details(row: ImportRow) -> EventDetails:
    """The row checked as an event: every field's failure at once (`InvalidDetails`)."""
    problems: list[InvalidInput] = []
    ref = row.external_ref.strip()
    if not ref:
        problems.append(InvalidInput("external_ref is required", field="external_ref"))
    elif len(ref) > MAX_REF:
        problems.append(
            InvalidInput(f"external_ref must be at most {MAX_REF} characters", "external_ref")
        )
    times: list[datetime | InvalidInput] = []
    for raw, name in ((row.starts_at, "starts_at"), (row.ends_at, "ends_at")):
        try:
            times.append(parse_local_time(raw, row.time_zone, name))
        except InvalidInput as exc:
            times.append(exc)
    given = EventInput(
        row.name,
        [name for name in row.performers if name.strip()],
        row.venue_name,
        row.city,
        row.country,
        row.time_zone,
        times[0],
        times[1],
        row.category,
    )
    try:
        details = given.checked()
    except InvalidDetails as exc:
        problems.extend(exc.problems)
    except InvalidInput as exc:
        problems.append(exc)
    if problems:
        raise InvalidDetails(problems)
    return details


class ImportHandlers:
    def __init__(
        self,
        uow: Callable[[], CatalogueUnitOfWork],
        clock: Clock,
        new_id: Callable[[], str] = lambda: str(uuid.uuid4()),
    ) -> None:
        self.uow = uow
        self.clock = clock
        self.new_id = new_id

    async def import_events(self, rows: list[ImportRow]) -> list[RowResult]:
        if len(rows) > MAX_ROWS:
            raise InvalidInput(f"At most {MAX_ROWS} rows at once", field="rows")
        results = []
        for index, row in enumerate(rows):
            ref = row.external_ref.strip()
            try:
                details = row_details(row)
                outcome, event_id = await self._upsert(ref, details)
            except InvalidDetails as exc:
                results.append(RowResult(index, ref, Outcome.FAILED, errors=exc.problems))
            except AppError as exc:  # e.g. the event is cancelled and cannot change
                failure = InvalidInput(exc.message, exc.field or "external_ref")
                results.append(RowResult(index, ref, Outcome.FAILED, errors=[failure]))
            else:
                results.append(RowResult(index, ref, outcome, event_id))
        return results

    @retry_transient(attempts=30)
    async def _upsert(self, ref: str, details: EventDetails) -> tuple[Outcome, str]:
        async with self.uow() as uow:
            event = await uow.events.by_external_ref(ref)
            if event is None:
                now = stored_precision(self.clock.now())
                event = Event.create(self.new_id(), details, now, external_ref=ref)
                await uow.events.add(event)
                outcome = Outcome.CREATED
            elif event.update(details):
                await uow.events.save(event)
                outcome = Outcome.UPDATED
            else:
                return Outcome.UNCHANGED, event.id
            await uow.commit()
            return outcome, event.id
