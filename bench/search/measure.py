"""The search read model in the bench's own process (no stack, no gRPC): the tantivy index over
the generated catalogue, its build, its searches, its writes and its memory, as rows of the
bench's table (bench/scenarios/search.py runs it in `make bench`, __main__.py alone)."""

from __future__ import annotations

import dataclasses
import gc
import time
from collections import defaultdict
from datetime import timedelta
from decimal import Decimal

from bench.report import Latency, Row
from bench.search.catalogue import CatalogueSpec, documents, generate
from bench.search.queries import query_mix
from svc_catalogue.adapters.tantivy_index import TantivyEventIndex
from svc_catalogue.domain.search import SearchDocument, SearchQuery

TARGET_P99_MS = 50.0  # issue 20: p99 < 50 ms (the gateway's; here the index's share of it)
WARM_UP = 200


def rss_mib() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def ms_since(started: float) -> float:
    return (time.perf_counter() - started) * 1000


def measure(*, quick: bool) -> list[Row]:
    spec = CatalogueSpec(events=2_000, listings=20_000) if quick else CatalogueSpec()
    started = time.perf_counter()
    catalogue = generate(spec)
    docs = documents(catalogue)
    generate_s = time.perf_counter() - started
    load = (
        f"{len(docs):,} events, {len(catalogue.listings):,} listings, "
        f"{len({d.city for d in docs})} cities; seed {spec.seed}"
    )
    gc.collect()
    rss = {"start": rss_mib()}

    index = TantivyEventIndex()
    started = time.perf_counter()
    index.upsert(docs)
    upserted_s = time.perf_counter() - started
    index.refresh()
    build_s = time.perf_counter() - started
    rss["built"] = rss_mib()
    rows = [
        Row(
            scenario="search: index build",
            load=load,
            count=len(index),
            throughput=len(docs) / build_s,
            throughput_unit="docs/s",
            notes=(
                f"{build_s:.2f} s: upsert {upserted_s:.2f} s, commit and reload "
                f"{build_s - upserted_s:.2f} s (generating took {generate_s:.1f} s)"
            ),
            extra={"build_seconds": build_s, "upsert_seconds": upserted_s},
        )
    ]

    queries = query_mix(docs, 300 if quick else 2_000)
    for query in queries[:WARM_UP]:
        index.search(query)
    samples: list[tuple[SearchQuery, float, int]] = []
    started = time.perf_counter()
    for query in queries:
        one = time.perf_counter()
        total = index.search(query).total
        samples.append((query, ms_since(one), total))
    wall_s = time.perf_counter() - started
    rss["searched"] = rss_mib()
    rows += search_rows(samples, wall_s, load)

    rows.append(write_row(index, docs, rounds=5 if quick else 20, load=load))
    rows.append(visibility_row(index, docs[0], rounds=10 if quick else 30, load=load))
    rss["written"] = rss_mib()
    rows.append(
        Row(
            scenario="search: memory (RSS)",
            load=load,
            notes=(
                f"{rss['start']:.0f} MiB before the index; +{rss['built'] - rss['start']:.0f} "
                f"after the build, +{rss['searched'] - rss['start']:.0f} after the searches, "
                f"+{rss['written'] - rss['start']:.0f} after the writes"
            ),
            extra={f"rss_mib_{k}": v for k, v in rss.items()},
        )
    )
    return rows


def search_rows(
    samples: list[tuple[SearchQuery, float, int]], wall_s: float, load: str
) -> list[Row]:
    times = [ms for _, ms, _ in samples]
    by_kind: dict[str, list[float]] = defaultdict(list)
    for query, ms, _ in samples:
        words = len(query.text.split())
        by_kind[f"{words} word{'s' if words != 1 else ''}" if words else "no text"].append(ms)
        by_kind[query.sort.value].append(ms)
        if query.filter != type(query.filter)():
            by_kind["filtered"].append(ms)
    empty = sum(1 for _, _, total in samples if total == 0)
    p99 = Latency.of(times).p99 or 0.0
    rows = [
        Row(
            scenario="search: query mix, one thread",
            load=f"{len(samples):,} searches (1-3 prefix words or none, 40 % filtered, "
            f"each sort, pages 1-3 of 20); {load}",
            latency=Latency.of(times),
            throughput=len(samples) / wall_s,
            throughput_unit="searches/s",
            target=f"p99 < {TARGET_P99_MS:g} ms",
            met=p99 < TARGET_P99_MS,
            notes=f"in-process, warm ({WARM_UP} searches first); {empty} found nothing",
        )
    ]
    for kind in ("no text", "1 word", "2 words", "3 words", "filtered", "RELEVANCE", "DATE",
                 "PRICE"):  # fmt: skip
        if by_kind.get(kind):
            rows.append(
                Row(
                    scenario=f"search: {kind}",
                    load="the same mix, these searches only",
                    latency=Latency.of(by_kind[kind]),
                )
            )
    return rows


def write_row(index: TantivyEventIndex, docs: list[SearchDocument], rounds: int, load: str) -> Row:
    """100 events repriced (their listings changed), upserted and refreshed, `rounds` times."""
    samples = []
    for n in range(rounds):
        batch = [
            dataclasses.replace(d, lowest_price=Decimal(10 + n), tickets_for_sale=2)
            for d in docs[n * 100 : (n + 1) * 100]
        ]
        started = time.perf_counter()
        index.upsert(batch)
        index.refresh()
        samples.append(ms_since(started))
    return Row(
        scenario="search: upsert 100 repriced events + refresh",
        load=f"{rounds} batches; {load}",
        latency=Latency.of(samples),
        notes="upsert (delete by id + add) of 100 documents, commit, new searcher",
    )


def visibility_row(index: TantivyEventIndex, model: SearchDocument, rounds: int, load: str) -> Row:
    """From upserting a new event until a search for it finds it (searching every 0.1 ms)."""
    samples = []
    for n in range(rounds):
        word = f"zqvx{n:03d}"
        new = dataclasses.replace(
            model,
            event_id=f"new-{n}",
            name=f"{word} Quartet",
            starts_at=model.starts_at + timedelta(hours=n),
        )
        query = SearchQuery(text=word)
        started = time.perf_counter()
        index.upsert([new])
        index.refresh()
        while not index.search(query).event_ids:
            time.sleep(0.0001)
        samples.append(ms_since(started))
    return Row(
        scenario="search: upsert until found",
        load=f"{rounds} new events, one at a time; {load}",
        latency=Latency.of(samples),
        notes="upsert + refresh + the first search that finds it (the feed's poll not included)",
    )
