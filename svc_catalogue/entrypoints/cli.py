"""`ticketing catalogue import FILE`: an operator's bulk import of events, through the catalogue's
ImportEvents in batches of at most 500 rows, signed as the `cli` identity (whose private key only
operators hold: SERVICE_PRIVATE_KEY(_FILE), else the key a `ticketing run` beside it made).

Every row is checked by the catalogue's domain code and answered alone: the failures are printed
(row, field, message), then a summary. Rows are upserted by external_ref, so importing the same
file again changes nothing. Exit status: 0 every row imported, 1 some row failed or the catalogue
could not be asked, 2 the file or the configuration is unusable."""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

import grpc

from common.config import CommonSettings
from common.service_identity import CLI, ServiceTokens, load_private_key
from common.settings import ConfigError
from svc_catalogue.bootstrap import NAME
from svc_catalogue.entrypoints.import_file import FileRow, ImportFileError, read_rows
from ticketing.catalogue.v1 import catalogue_pb2 as pb
from ticketing.catalogue.v1 import catalogue_pb2_grpc

PROGRAM = "ticketing catalogue import"
BATCH = 500
CALL_TIMEOUT_SECONDS = 120

_OUTCOMES = {
    pb.IMPORT_OUTCOME_CREATED: "created",
    pb.IMPORT_OUTCOME_UPDATED: "updated",
    pb.IMPORT_OUTCOME_UNCHANGED: "unchanged",
    pb.IMPORT_OUTCOME_FAILED: "failed",
}


def _to_proto(file_row: FileRow) -> pb.ImportRow:
    row = file_row.row
    return pb.ImportRow(
        external_ref=row.external_ref,
        name=row.name,
        performers=row.performers,
        venue_name=row.venue_name,
        city=row.city,
        country=row.country,
        time_zone=row.time_zone,
        starts_at=row.starts_at,
        ends_at=row.ends_at,
        category=row.category,
    )


@dataclass
class ImportReport:
    """What the catalogue answered for each row."""

    rows: int
    counts: Counter[str] = field(default_factory=Counter)  # outcome -> rows
    event_ids: dict[str, str] = field(default_factory=dict)  # external_ref -> event id
    failures: list[str] = field(default_factory=list)  # "row 3: field: message", one per error

    def summary(self) -> str:
        outcomes = ", ".join(f"{self.counts[name]} {name}" for name in _OUTCOMES.values())
        return f"{self.rows} rows: {outcomes}"


class ImportCallError(RuntimeError):
    """The catalogue could not be asked, or refused a batch as a whole."""


def import_rows(rows: list[FileRow], settings: CommonSettings) -> ImportReport:
    """`rows` sent to the catalogue in batches, signed as the `cli` identity: ImportCallError
    (saying how many rows were imported before) when a batch gets no answer. ConfigError or
    ValueError when the `cli` key cannot be read."""
    tokens = ServiceTokens(CLI, load_private_key(settings.service_private_key_of(CLI)))
    addr = settings.addr_of(NAME)
    report = ImportReport(len(rows))
    with grpc.insecure_channel(addr) as channel:
        stub = catalogue_pb2_grpc.CatalogueServiceStub(channel)
        for start in range(0, len(rows), BATCH):
            batch = rows[start : start + BATCH]
            request = pb.ImportEventsRequest(rows=[_to_proto(r) for r in batch])
            try:
                reply = stub.ImportEvents(
                    request,
                    metadata=(tokens.metadata_for(NAME),),
                    timeout=CALL_TIMEOUT_SECONDS,
                )
            except grpc.RpcError as exc:
                raise ImportCallError(
                    f"the catalogue at {addr} answered {exc.code().name}: {exc.details()} "
                    f"({sum(report.counts.values())} of {len(rows)} rows were imported before)"
                ) from None
            for result in reply.results:
                outcome = _OUTCOMES.get(result.outcome, "failed")
                report.counts[outcome] += 1
                if outcome != "failed":
                    report.event_ids[result.external_ref] = result.event_id
                    continue
                where = batch[result.index].where
                ref = f' (external_ref "{result.external_ref}")' if result.external_ref else ""
                for error in result.errors:
                    report.failures.append(f"{where}{ref}: {error.field}: {error.message}")
    return report


def import_file(path: Path, env: Mapping[str, str], out: TextIO = sys.stdout) -> int:
    err = sys.stderr
    try:
        rows = read_rows(path)
    except ImportFileError as exc:
        print(f"{PROGRAM}: {path}: {exc}", file=err)
        return 2
    try:
        report = import_rows(rows, CommonSettings.from_env(env))
    except (ConfigError, ValueError) as exc:
        print(f"{PROGRAM}: configuration error: {exc}", file=err)
        return 2
    except ImportCallError as exc:
        print(f"{PROGRAM}: {exc}", file=err)
        return 1
    for failure in report.failures:
        print(failure, file=out)
    print(report.summary(), file=out)
    return 1 if report.counts["failed"] else 0
