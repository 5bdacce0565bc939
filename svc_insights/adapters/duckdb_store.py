"""The analytical store: DuckDB, embedded, one file, one row per event (docs/analytics.md says
why DuckDB and how the same table moves to ClickHouse or BigQuery).

DuckDB lets one process write a database file at a time (it locks the file), so the insights
service runs as one writer replica. Writes go through one thread and are grouped: the events
that arrive while a batch is being committed go together in the next one (a row alone costs
~1 ms to commit, a row in a batch of hundreds ~0.03 ms). A row's caller is answered once its
batch committed (DuckDB's write-ahead log is synced on commit), so an event is acked on the bus
only once it is durable. Reads run on threads of their own, each with its own cursor, beside
the writer (DuckDB's MVCC: a read sees the last commit before it began).
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC
from pathlib import Path
from typing import Protocol, TypeVar

import duckdb

from common.settings import ConfigError
from svc_insights.domain.model import EventRow

log = logging.getLogger(__name__)

T = TypeVar("T")

SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
  event_id     VARCHAR PRIMARY KEY,
  type         VARCHAR NOT NULL,
  occurred_at  TIMESTAMP NOT NULL,
  user_id      VARCHAR,
  anonymous_id VARCHAR,
  ticket_id    VARCHAR,
  order_id     VARCHAR,
  seller_id    VARCHAR,
  price        DECIMAL(18, 2),
  title        VARCHAR,
  detail       VARCHAR,
  version      INTEGER,
  currency     VARCHAR,
  catalogue_event_id VARCHAR,
  quantity     INTEGER
);
-- A store from before v1 gets the column (last, as in a new one); its rows have none: USD.
ALTER TABLE events ADD COLUMN IF NOT EXISTS currency VARCHAR;
-- A store from before events gets the column too; its rows have none.
ALTER TABLE events ADD COLUMN IF NOT EXISTS catalogue_event_id VARCHAR;
ALTER TABLE events ADD COLUMN IF NOT EXISTS quantity INTEGER;
"""

# The table's columns, as EventRow's fields (one INSERT names them, in this order).
COLUMNS = tuple(field.name for field in dataclasses.fields(EventRow))

# How many events are stored and the latest one's time: a recommender retrains when it changed.
VERSION_SQL = "SELECT count(*), max(occurred_at) FROM events"

# Rows in one INSERT statement (DuckDB binds at most 65,535 parameters: 15 per row).
MAX_BATCH_ROWS = 2000


def row_values(row: EventRow) -> list[object]:
    """A row's values, in COLUMNS' order, as the table holds them (occurred_at: naive UTC)."""
    occurred = row.occurred_at
    if occurred.tzinfo is not None:
        occurred = occurred.astimezone(UTC).replace(tzinfo=None)
    return [occurred if column == "occurred_at" else getattr(row, column) for column in COLUMNS]


def insert_sql(table: str, rows: int) -> str:
    """An INSERT of `rows` rows of COLUMNS into `table`, its values bound as parameters."""
    one = "(" + ", ".join("?" * len(COLUMNS)) + ")"
    return f"INSERT INTO {table} ({', '.join(COLUMNS)}) VALUES " + ", ".join([one] * rows)


class DerivedTables(Protocol):
    """Tables kept in step with `events` by the writer (the reports' report_tables.py)."""

    def create(self, connection: duckdb.DuckDBPyConnection) -> None:
        """Creates them if missing (deriving them from the events already there)."""
        ...

    def apply_new(self, connection: duckdb.DuckDBPyConnection, rows: Sequence[EventRow]) -> None:
        """Applies events kept for the first time, inside the writer's transaction."""
        ...


class StoreLocked(ConfigError):
    """Another process has the database file open for writing."""


class DuckDBEventStore:
    """The `events` table in the DuckDB file at `path` (`:memory:` for a private one)."""

    def __init__(
        self,
        path: str,
        *,
        read_threads: int = 4,
        memory_mb: int = 0,
        derived: Sequence[DerivedTables] = (),
    ) -> None:
        self.path = path
        self.memory_mb = memory_mb
        self._derived = tuple(derived)
        self._connection: duckdb.DuckDBPyConnection | None = None
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="duckdb-writer")
        self._readers = ThreadPoolExecutor(
            max_workers=read_threads, thread_name_prefix="duckdb-reader"
        )
        self._cursors = threading.local()
        self._cursor_lock = threading.Lock()
        self._opened_cursors: list[duckdb.DuckDBPyConnection] = []
        self._pending: list[tuple[EventRow, asyncio.Future[bool]]] = []
        self._flusher: asyncio.Task[None] | None = None

    # -- lifecycle ----------------------------------------------------------------------------

    def open(self) -> None:
        """Opens (creating) the file and the table. Raises StoreLocked if another process has
        it open."""
        if self._connection is not None:
            return
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        try:
            config = {"memory_limit": f"{self.memory_mb}MB"} if self.memory_mb else {}
            connection = duckdb.connect(self.path, config=config)
        except duckdb.IOException as exc:
            if "lock" in str(exc).lower():
                raise StoreLocked(
                    f"INSIGHTS_DB_PATH={self.path} is open in another process: DuckDB allows one "
                    "writer per file (run one insights replica per file)"
                ) from exc
            raise
        connection.execute(SCHEMA)
        for tables in self._derived:
            tables.create(connection)
        self._connection = connection
        log.info("event store open", extra={"path": self.path})

    async def start(self) -> None:
        await asyncio.get_running_loop().run_in_executor(self._writer, self.open)

    async def close(self) -> None:
        if self._flusher is not None:
            await asyncio.gather(self._flusher, return_exceptions=True)
        self._readers.shutdown(wait=True)
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._writer, self._close_connection)
        self._writer.shutdown(wait=True)

    def _close_connection(self) -> None:
        # Every cursor holds the database (and its file lock) open, not only the connection.
        for cursor in self._opened_cursors:
            cursor.close()
        self._opened_cursors.clear()
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    @property
    def connection(self) -> duckdb.DuckDBPyConnection:
        if self._connection is None:
            raise RuntimeError("the event store is not open")
        return self._connection

    # -- writes -------------------------------------------------------------------------------

    async def add(self, row: EventRow) -> bool:
        future: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._pending.append((row, future))
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush(), name="duckdb-flush")
        return await future

    async def add_many(self, rows: Sequence[EventRow]) -> int:
        """Keeps every row not kept yet, in batches; returns how many were new (a bulk load:
        a replay, a benchmark)."""
        loop = asyncio.get_running_loop()
        added = 0
        for start in range(0, len(rows), MAX_BATCH_ROWS):
            batch = rows[start : start + MAX_BATCH_ROWS]
            added += len(await loop.run_in_executor(self._writer, self._insert, batch))
        return added

    async def _flush(self) -> None:
        loop = asyncio.get_running_loop()
        while self._pending:
            batch = self._pending[:MAX_BATCH_ROWS]
            del self._pending[: len(batch)]
            rows = [row for row, _ in batch]
            try:
                new_ids = await loop.run_in_executor(self._writer, self._insert, rows)
            except Exception:
                # One bad row must not fail the others: each alone, so only it is retried.
                await self._one_by_one(batch)
                continue
            answered: set[str] = set()
            for row, future in batch:
                if not future.done():
                    future.set_result(row.event_id in new_ids and row.event_id not in answered)
                answered.add(row.event_id)

    async def _one_by_one(self, batch: list[tuple[EventRow, asyncio.Future[bool]]]) -> None:
        loop = asyncio.get_running_loop()
        for row, future in batch:
            try:
                new_ids = await loop.run_in_executor(self._writer, self._insert, [row])
            except Exception as exc:
                if not future.done():
                    future.set_exception(exc)
            else:
                if not future.done():
                    future.set_result(row.event_id in new_ids)

    def _insert(self, rows: Sequence[EventRow]) -> set[str]:
        """On the writer thread: one transaction (the events, and what they change in the
        derived tables); the ids that were new."""
        unique: dict[str, EventRow] = {}
        for row in rows:
            unique.setdefault(row.event_id, row)
        params: list[object] = []
        for row in unique.values():
            params.extend(row_values(row))
        connection = self.connection
        connection.begin()
        try:
            inserted = connection.execute(
                insert_sql("events", len(unique)) + " ON CONFLICT DO NOTHING RETURNING event_id",
                params,
            ).fetchall()
            new_ids = {event_id for (event_id,) in inserted}
            new_rows = [row for row in unique.values() if row.event_id in new_ids]
            for tables in self._derived:
                tables.apply_new(connection, new_rows)
            connection.commit()
        except BaseException:
            connection.rollback()
            raise
        return new_ids

    # -- reads --------------------------------------------------------------------------------

    async def read(self, query: Callable[[duckdb.DuckDBPyConnection], T]) -> T:
        """Runs `query(cursor)` on a reader thread with a cursor of its own; what it returns.
        The reports and the recommender read through this."""
        return await asyncio.get_running_loop().run_in_executor(
            self._readers, self._with_cursor, query
        )

    def _with_cursor(self, query: Callable[[duckdb.DuckDBPyConnection], T]) -> T:
        cursor = getattr(self._cursors, "cursor", None)
        if cursor is None:
            with self._cursor_lock:
                cursor = self.connection.cursor()
                self._opened_cursors.append(cursor)
            self._cursors.cursor = cursor
        return query(cursor)

    async def count_by_type(
        self, ticket_id: str | None = None, order_id: str | None = None
    ) -> Mapping[str, int]:
        def query(cursor: duckdb.DuckDBPyConnection) -> dict[str, int]:
            if ticket_id is None and order_id is None:
                rows = cursor.execute("SELECT type, count(*) FROM events GROUP BY type")
            else:
                rows = cursor.execute(
                    "SELECT type, count(*) FROM events WHERE ticket_id = ? OR order_id = ? "
                    "GROUP BY type",
                    [ticket_id, order_id],
                )
            return {event_type: count for event_type, count in rows.fetchall()}

        return await self.read(query)
