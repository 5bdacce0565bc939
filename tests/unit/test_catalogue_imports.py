"""svc_catalogue's bulk import against in-memory fakes: every row checked first, the valid ones
written a batch per transaction with their events, a second run writing and publishing nothing,
and a batch that fails falling back to one row per transaction so only its bad row fails."""

from __future__ import annotations

import dataclasses
from itertools import count

from common.clock import FrozenClock
from svc_catalogue.domain.values import EventStatus
from svc_catalogue.service_layer.imports import ImportHandlers, Outcome
from tests.unit.fakes_catalogue import CatalogueStore, FakeCatalogueUnitOfWork, import_row
from ticketing.events.v1 import catalogue_pb2


def importer(store: CatalogueStore, write_batch: int = 3, uow=FakeCatalogueUnitOfWork):
    ids = count(1)
    return ImportHandlers(
        lambda: uow(store), FrozenClock(), new_id=lambda: f"e{next(ids)}", write_batch=write_batch
    )


def snapshot(store: CatalogueStore) -> tuple:
    """Everything an import could change: the events as stored, their sequence numbers, the
    counter, the transactions committed and what was published."""
    return (dict(store.events), dict(store.seqs), store.seq, store.commits, len(store.published))


async def test_valid_rows_are_written_a_batch_per_transaction_each_with_its_events():
    store = CatalogueStore()
    rows = [import_row(f"r{i}") for i in range(7)] + [import_row("bad", country="Neverland")]
    results = await importer(store, write_batch=3).import_events(rows)

    assert [r.outcome for r in results] == [Outcome.CREATED] * 7 + [Outcome.FAILED]
    assert [e.field for e in results[7].errors] == ["country"]
    assert store.commits == 3  # 7 valid rows, 3 a transaction
    assert sorted(e.external_ref for e in store.events.values()) == [f"r{i}" for i in range(7)]
    changed = store.published_of(catalogue_pb2.EventChanged)
    assert sorted(e.id for e in changed) == sorted(r.event_id for r in results[:7])


async def test_importing_the_same_rows_again_writes_and_publishes_nothing():
    store = CatalogueStore()
    imports = importer(store)
    rows = [import_row(f"r{i}") for i in range(5)] + [import_row("", name="")]
    await imports.import_events(rows)
    before = snapshot(store)

    again = await imports.import_events(rows)

    assert [r.outcome for r in again] == [Outcome.UNCHANGED] * 5 + [Outcome.FAILED]
    assert snapshot(store) == before


async def test_a_batch_creates_updates_and_leaves_rows_as_sequential_rows_would():
    store = CatalogueStore()
    imports = importer(store, write_batch=10)
    first = await imports.import_events([import_row("a"), import_row("b"), import_row("gone")])
    gone = first[2].event_id
    store.events[gone] = dataclasses.replace(store.events[gone], status=EventStatus.CANCELLED)

    results = await imports.import_events(
        [
            import_row("a"),  # as stored
            import_row("b", name="Concert b (late show)"),
            import_row("gone", name="Back again"),  # cancelled: cannot change
            import_row("c"),
            import_row("c", name="Concert c, renamed"),  # the same ref again in the same batch
        ]
    )

    assert [(r.outcome, r.event_id) for r in results] == [
        (Outcome.UNCHANGED, first[0].event_id),
        (Outcome.UPDATED, first[1].event_id),
        (Outcome.FAILED, ""),
        (Outcome.CREATED, "e4"),
        (Outcome.UPDATED, "e4"),
    ]
    assert results[2].errors[0].message == "A cancelled event cannot be changed"
    assert store.events[first[1].event_id].name == "Concert b (late show)"
    assert store.events["e4"].name == "Concert c, renamed"
    assert store.events[gone].name == "Concert gone"
    assert store.commits == 2  # the first import's batch, then this one's


class RefusingUnitOfWork(FakeCatalogueUnitOfWork):
    """Its database refuses to write the event of external_ref `poison` (alone or not)."""

    async def __aenter__(self) -> RefusingUnitOfWork:
        await super().__aenter__()
        add_many = self.events.add_many

        async def refusing(events) -> None:
            if any(e.external_ref == "poison" for e in events):
                raise RuntimeError("document refused")
            await add_many(events)

        self.events.add_many = refusing  # type: ignore[method-assign]
        return self


async def test_a_failing_batch_is_written_row_by_row_so_only_its_bad_row_fails():
    store = CatalogueStore()
    imports = importer(store, write_batch=10, uow=RefusingUnitOfWork)

    results = await imports.import_events([import_row("a"), import_row("poison"), import_row("b")])

    assert [r.outcome for r in results] == [Outcome.CREATED, Outcome.FAILED, Outcome.CREATED]
    assert [(e.field, e.message) for e in results[1].errors] == [
        ("external_ref", "The catalogue could not write this row")
    ]
    assert sorted(e.external_ref for e in store.events.values()) == ["a", "b"]
    assert len(store.published_of(catalogue_pb2.EventChanged)) == 2
