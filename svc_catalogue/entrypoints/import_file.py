"""An import file's rows: a JSON array of objects, or CSV with a header. Columns: external_ref,
name, performers (`;`-separated, or a JSON list), venue_name, city, country, time_zone,
starts_at, ends_at (ISO 8601: local time in the venue's zone, or with an offset), category."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from pathlib import Path

from svc_catalogue.service_layer.commands import ImportRow

COLUMNS = (
    "external_ref",
    "name",
    "performers",
    "venue_name",
    "city",
    "country",
    "time_zone",
    "starts_at",
    "ends_at",
    "category",
)


class ImportFileError(ValueError):
    """The file as a whole cannot be read (not its rows: those are checked one by one)."""


@dataclass(frozen=True)
class FileRow:
    row: ImportRow
    where: str  # "row 3" (JSON) or "row 3 (line 4)" (CSV), as the operator finds it


def _performers(raw: object) -> list[str]:
    if isinstance(raw, list):
        return [str(name).strip() for name in raw if str(name).strip()]
    return [name.strip() for name in str(raw or "").split(";") if name.strip()]


def _row(values: dict[str, object]) -> ImportRow:
    def text(column: str) -> str:
        value = values.get(column)
        return "" if value is None else str(value).strip()

    return ImportRow(
        external_ref=text("external_ref"),
        name=text("name"),
        performers=_performers(values.get("performers")),
        venue_name=text("venue_name"),
        city=text("city"),
        country=text("country"),
        time_zone=text("time_zone"),
        starts_at=text("starts_at"),
        ends_at=text("ends_at"),
        category=text("category"),
    )


def read_rows(path: Path) -> list[FileRow]:
    try:
        content = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise ImportFileError(f"cannot read {path}: {exc}") from None
    if content.lstrip().startswith("["):
        return _json_rows(content)
    return _csv_rows(content)


def _json_rows(content: str) -> list[FileRow]:
    try:
        data = json.loads(content)
    except json.JSONDecodeError as exc:
        raise ImportFileError(f"not valid JSON: {exc}") from None
    if not isinstance(data, list):
        raise ImportFileError("a JSON array of objects was expected")
    return object_rows(data)


def object_rows(data: list[object]) -> list[FileRow]:
    """Rows given as objects with the columns (a JSON file's, or a program's own)."""
    rows = []
    for number, item in enumerate(data, start=1):
        if not isinstance(item, dict):
            raise ImportFileError(f"row {number}: an object with the columns was expected")
        rows.append(FileRow(_row(item), f"row {number}"))
    return rows


def _csv_rows(content: str) -> list[FileRow]:
    reader = csv.DictReader(io.StringIO(content, newline=""))
    header = [name.strip() for name in reader.fieldnames or []]
    missing = [column for column in COLUMNS if column not in header]
    if missing:
        raise ImportFileError(
            f"the CSV header lacks {', '.join(missing)} (it needs: {', '.join(COLUMNS)})"
        )
    reader.fieldnames = header
    rows = []
    for number, values in enumerate(reader, start=1):
        rows.append(FileRow(_row(dict(values)), f"row {number} (line {reader.line_num})"))
    return rows
