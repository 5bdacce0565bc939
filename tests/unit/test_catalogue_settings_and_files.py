"""The catalogue's setting (its search poll) and the import file reader of
`ticketing catalogue import` (JSON or CSV, performers split, rows located for the operator)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from common.settings import ConfigError
from svc_catalogue.config import CatalogueSettings
from svc_catalogue.entrypoints.import_file import ImportFileError, read_rows


def test_search_follows_mongodb_every_200_ms_by_default() -> None:
    assert CatalogueSettings.from_env({}).search_poll_seconds == 0.2
    assert CatalogueSettings.from_env({}).catalogue_port == 50057


@pytest.mark.parametrize("raw", ["0", "-1", "61", "soon"])
def test_a_poll_out_of_range_names_the_variable(raw: str) -> None:
    with pytest.raises(ConfigError, match="SEARCH_POLL_SECONDS"):
        CatalogueSettings.from_env({"SEARCH_POLL_SECONDS": raw})


def test_json_rows_take_performers_as_a_list_or_semicolons(tmp_path: Path) -> None:
    path = tmp_path / "events.json"
    path.write_text(
        json.dumps(
            [
                {"external_ref": " a ", "performers": ["Muse", " "], "country": "gb"},
                {"external_ref": "b", "performers": "Arctic Monkeys; The Hives;", "name": 7},
            ]
        )
    )
    rows = read_rows(path)
    assert [r.where for r in rows] == ["row 1", "row 2"]
    assert rows[0].row.external_ref == "a" and rows[0].row.performers == ["Muse"]
    assert rows[1].row.performers == ["Arctic Monkeys", "The Hives"]
    assert rows[1].row.name == "7"  # the domain checks it, not the reader


def test_csv_rows_say_their_line(tmp_path: Path) -> None:
    path = tmp_path / "events.csv"
    header = (
        "external_ref,name,performers,venue_name,city,country,time_zone,starts_at,ends_at,category"
    )
    path.write_text(f'{header}\na,"Muse, live",Muse,Hall,Paris,FR,Europe/Paris,x,y,CONCERT\n')
    [row] = read_rows(path)
    assert (row.where, row.row.name, row.row.city) == ("row 1 (line 2)", "Muse, live", "Paris")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("[1, 2]", "row 1: an object with the columns was expected"),
        ("[{", "not valid JSON"),
        ("external_ref,name\n", "the CSV header lacks performers"),
    ],
)
def test_an_unreadable_file_is_refused_whole(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "events"
    path.write_text(content)
    with pytest.raises(ImportFileError, match=message):
        read_rows(path)
