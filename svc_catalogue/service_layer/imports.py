"""An operator's bulk import (`ticketing catalogue import`, ImportEvents): every row is checked
first (a refused row is answered with every field at fault, and not written); then the valid
rows are upserted by their `external_ref`, WRITE_BATCH at a time, each batch in one transaction
with the outbox records of the events it creates or changes. A row already as the file says is
left unchanged (nothing written, nothing published), so importing a file twice changes nothing.

A row the domain refuses (a cancelled event cannot change) fails alone inside its batch. A batch
that fails as a whole (a conflict that outlasts its retries, a write the database refuses) is
written again one row per transaction, so only the row at fault fails; the database being
unreachable fails the call. One transaction per row ran at ~17 events a second in the bench's
seeding (bench/README.md)."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from common.clock import Clock, stored_precision
from common.errors import AppError, InvalidInput
from common.retries import is_outage, is_transient, retry_transient
from svc_catalogue.domain.model import Event
from svc_catalogue.domain.values import EventDetails, InvalidDetails, parse_local_time
from svc_catalogue.service_layer.commands import EventInput, ImportRow
from svc_catalogue.service_layer.unit_of_work import CatalogueUnitOfWork

log = logging.getLogger(__name__)

MAX_ROWS = 500
MAX_REF = 200
WRITE_BATCH = 250  # valid rows per transaction


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


@dataclass(frozen=True)
class _ValidRow:
    index: int
    external_ref: str
    details: EventDetails


def _failed(row: _ValidRow, message: str, field_name: str | None) -> RowResult:
    failure = InvalidInput(message, field_name or "external_ref")
    return RowResult(row.index, row.external_ref, Outcome.FAILED, errors=[failure])


def _unreachable(exc: Exception) -> bool:
    """The database down (not a lost conflict): every other row would fail the same way."""
    return is_outage(exc) and not is_transient(exc)


class ImportHandlers:
    def __init__(
        self,
        uow: Callable[[], CatalogueUnitOfWork],
        clock: Clock,
        new_id: Callable[[], str] = lambda: str(uuid.uuid4()),
        write_batch: int = WRITE_BATCH,
    ) -> None:
        self.uow = uow
        self.clock = clock
        self.new_id = new_id
        self.write_batch = write_batch

    async def import_events(self, rows: list[ImportRow]) -> list[RowResult]:
        if len(rows) > MAX_ROWS:
            raise InvalidInput(f"At most {MAX_ROWS} rows at once", field="rows")
        results: dict[int, RowResult] = {}
        valid: list[_ValidRow] = []
        for index, row in enumerate(rows):
            ref = row.external_ref.strip()
            try:
                valid.append(_ValidRow(index, ref, row_details(row)))
            except InvalidDetails as exc:
                results[index] = RowResult(index, ref, Outcome.FAILED, errors=exc.problems)
        for start in range(0, len(valid), self.write_batch):
            for result in await self._write(valid[start : start + self.write_batch]):
                results[result.index] = result
        return [results[index] for index in range(len(rows))]

    async def _write(self, batch: list[_ValidRow]) -> list[RowResult]:
        """The batch in one transaction; failing that, one row per transaction."""
        try:
            return await self._upsert(batch)
        except Exception as exc:
            if _unreachable(exc):
                raise
            if len(batch) == 1:
                log.exception("an import row could not be written", extra={"row": batch[0].index})
                return [_failed(batch[0], "The catalogue could not write this row", None)]
            log.warning("a batch of import rows failed: writing them one at a time", exc_info=True)
        results = []
        for row in batch:
            results.extend(await self._write([row]))
        return results

    @retry_transient(attempts=30)
    async def _upsert(self, batch: list[_ValidRow]) -> list[RowResult]:
        async with self.uow() as uow:
            known = await uow.events.by_external_refs(sorted({row.external_ref for row in batch}))
            now = stored_precision(self.clock.now())
            added: dict[str, Event] = {}
            changed: dict[str, Event] = {}
            results = []
            for row in batch:  # in file order: a ref given twice is created, then updated
                ref = row.external_ref
                event = known.get(ref)
                try:
                    if event is None:
                        event = Event.create(self.new_id(), row.details, now, external_ref=ref)
                        known[ref] = added[ref] = event
                        outcome = Outcome.CREATED
                    elif event.update(row.details):
                        if ref not in added:
                            changed[ref] = event
                        outcome = Outcome.UPDATED
                    else:
                        outcome = Outcome.UNCHANGED
                except AppError as exc:  # e.g. the event is cancelled and cannot change
                    results.append(_failed(row, exc.message, exc.field))
                else:
                    results.append(RowResult(row.index, ref, outcome, event.id))
            if added or changed:
                await uow.events.add_many(list(added.values()))
                await uow.events.save_many(list(changed.values()))
                await uow.commit()
            return results
