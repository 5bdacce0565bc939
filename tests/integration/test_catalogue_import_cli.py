"""`ticketing catalogue import FILE` (the real command, in a process of its own) against a
catalogue service on a free port: JSON and CSV files, every refused row named with its field, a
summary, and a second run that changes nothing (writes no event, takes no sequence number and
publishes nothing, however many batches the file spans)."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from common.mongo import OUTBOX
from common.service import ServiceProcess
from svc_catalogue.adapters.repository import COUNTERS
from svc_catalogue.bootstrap import bootstrap
from svc_catalogue.config import CatalogueSettings
from tests.support import service_tokens
from ticketing.catalogue.v1 import catalogue_pb2 as pb
from ticketing.catalogue.v1 import catalogue_pb2_grpc

pytestmark = pytest.mark.integration

ROWS = [
    {
        "external_ref": "am-london",
        "name": "Arctic Monkeys",
        "performers": "Arctic Monkeys;The Hives",
        "venue_name": "O2 Arena",
        "city": "London",
        "country": "GB",
        "time_zone": "Europe/London",
        "starts_at": "2027-06-01T20:00",
        "ends_at": "2027-06-01T23:00",
        "category": "CONCERT",
    },
    {
        "external_ref": "zurich-open-air",
        "name": "Zürich Open Air",
        "performers": ["Muse"],
        "venue_name": "Rümlang",
        "city": "Zürich",
        "country": "ch",
        "time_zone": "Europe/Zurich",
        "starts_at": "2027-08-20T16:00+02:00",
        "ends_at": "2027-08-23T01:00+02:00",
        "category": "festival",
    },
    {
        "external_ref": "broken",
        "name": "",
        "performers": "",
        "venue_name": "Somewhere",
        "city": "Paris",
        "country": "France",
        "time_zone": "Europe/Paris",
        "starts_at": "next friday",
        "ends_at": "2027-01-01T00:00",
        "category": "OPERA",
    },
]


@pytest.fixture
async def catalogue(env) -> AsyncIterator[ServiceProcess]:
    process = bootstrap(CatalogueSettings.from_env(env))
    await process.start("127.0.0.1", 0)
    yield process
    await process.stop()


def ticketing_catalogue(env, port: int, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", "from common.cli import main; main()", "catalogue", *args],
        env={**os.environ, **env, "CATALOGUE_ADDR": f"127.0.0.1:{port}"},
        capture_output=True,
        text=True,
        timeout=120,
    )


async def run(env, catalogue, *args: str) -> subprocess.CompletedProcess:
    return await asyncio.to_thread(ticketing_catalogue, env, catalogue.port, *args)


async def all_events(catalogue) -> list[pb.Event]:
    settings = catalogue.infra.settings
    async with service_tokens.channel(settings, f"127.0.0.1:{catalogue.port}") as channel:
        stub = catalogue_pb2_grpc.CatalogueServiceStub(channel)
        assert catalogue.infra.db is not None
        ids = [doc["_id"] async for doc in catalogue.infra.db.events.find({}, {"_id": 1})]
        reply = await stub.BatchGetEvents(pb.BatchGetEventsRequest(ids=ids))
    return sorted(reply.events, key=lambda e: e.external_ref)


async def test_a_json_file_is_imported_row_by_row_and_again_changes_nothing(
    env, catalogue, tmp_path: Path
):
    path = tmp_path / "events.json"
    path.write_text(json.dumps(ROWS))

    first = await run(env, catalogue, "import", str(path))
    assert first.returncode == 1, first.stderr
    lines = first.stdout.splitlines()
    assert lines[-1] == "3 rows: 2 created, 0 updated, 0 unchanged, 1 failed"
    refused = [line for line in lines if line.startswith('row 3 (external_ref "broken")')]
    fields = [line.split(": ")[1] for line in refused]
    assert fields == ["name", "performers", "country", "starts_at", "category"]
    assert any("next friday" in line for line in refused)

    events = await all_events(catalogue)
    assert [(e.external_ref, e.venue.country, e.category) for e in events] == [
        ("am-london", "GB", pb.EVENT_CATEGORY_CONCERT),
        ("zurich-open-air", "CH", pb.EVENT_CATEGORY_FESTIVAL),
    ]
    # 20:00 in London in June is 19:00 UTC.
    assert events[0].start_time.ToJsonString() == "2027-06-01T19:00:00Z"
    assert [p.id for p in events[0].performers] == [
        "performer:arctic-monkeys",
        "performer:the-hives",
    ]

    again = await run(env, catalogue, "import", str(path))
    assert again.stdout.splitlines()[-1] == "3 rows: 0 created, 0 updated, 2 unchanged, 1 failed"
    assert [(e.id, e.version) for e in await all_events(catalogue)] == [
        (e.id, e.version) for e in events
    ]


async def test_a_csv_file_updates_by_external_ref(env, catalogue, tmp_path: Path):
    header = (
        "external_ref,name,performers,venue_name,city,country,time_zone,starts_at,ends_at,category"
    )
    path = tmp_path / "events.csv"
    path.write_text(
        f"{header}\n"
        "am-london,Arctic Monkeys,Arctic Monkeys;The Hives,O2 Arena,London,GB,Europe/London,"
        "2027-06-01T20:00,2027-06-01T23:00,CONCERT\n"
    )
    first = await run(env, catalogue, "import", str(path))
    assert first.returncode == 0, first.stdout + first.stderr
    assert first.stdout.splitlines()[-1] == "1 rows: 1 created, 0 updated, 0 unchanged, 0 failed"

    path.write_text(
        f"{header}\n"
        "am-london,Arctic Monkeys (late show),Arctic Monkeys,O2 Arena,London,GB,Europe/London,"
        "2027-06-01T21:00,2027-06-01T23:30,CONCERT\n"
        "gap,Clocks forward,Nobody,Hall,London,GB,Europe/London,"
        "2027-03-28T01:30,2027-03-28T03:00,COMEDY\n"
    )
    second = await run(env, catalogue, "import", str(path))
    assert second.returncode == 1
    lines = second.stdout.splitlines()
    assert lines[-1] == "2 rows: 0 created, 1 updated, 0 unchanged, 1 failed"
    assert lines[0].startswith('row 2 (line 3) (external_ref "gap"): starts_at: ')
    [event] = await all_events(catalogue)
    assert (event.name, event.version) == ("Arctic Monkeys (late show)", 1)


async def test_a_file_without_the_columns_is_refused_whole(env, catalogue, tmp_path: Path):
    path = tmp_path / "events.csv"
    path.write_text("external_ref,name\nx,y\n")
    done = await run(env, catalogue, "import", str(path))
    assert done.returncode == 2
    assert "the CSV header lacks performers, venue_name" in done.stderr
    assert await all_events(catalogue) == []


async def written(catalogue) -> tuple[list[dict], list[dict], int]:
    """What an import writes: the events (with their sequence numbers), the sequence counter,
    and the outbox's messages."""
    db = catalogue.infra.db
    events = [doc async for doc in db.events.find({}, sort=[("_id", 1)])]
    counters = [doc async for doc in db[COUNTERS].find({})]
    return events, counters, await db[OUTBOX].count_documents({})


async def test_a_file_of_many_batches_imported_again_writes_and_publishes_nothing(
    env, catalogue, tmp_path: Path
):
    rows = [
        {**ROWS[0], "external_ref": f"tour-{i}", "name": f"Arctic Monkeys, night {i}"}
        for i in range(1, 1_201)
    ] + [ROWS[2]]
    path = tmp_path / "tour.json"
    path.write_text(json.dumps(rows))

    first = await run(env, catalogue, "import", str(path))
    assert first.stdout.splitlines()[-1] == (
        "1201 rows: 1200 created, 0 updated, 0 unchanged, 1 failed"
    ), first.stderr
    assert first.stdout.startswith('row 1201 (external_ref "broken"): name: ')
    events, counters, published = await written(catalogue)
    assert len(events) == 1_200
    assert sorted(doc["seq"] for doc in events) == list(range(1, 1_201))
    assert published == 1_200  # an EventChanged per event

    again = await run(env, catalogue, "import", str(path))

    assert again.stdout.splitlines()[-1] == (
        "1201 rows: 0 created, 0 updated, 1200 unchanged, 1 failed"
    )
    assert await written(catalogue) == (events, counters, published)
