"""The gateway's CPU per `events(...)` search, A/B between two versions of its code, no stack.

`python -m bench.search.gateway_cost [--base COMMIT] [--rounds 3] [--vus 8] [--seconds 8]`

A stand-in catalogue (its own process: a grpc.aio server answering every SearchEvents with 20
events of the generated catalogue, their venues, prices and tickets, and facets of 6 categories
and 50 cities, as the real one answers a page) and one gateway per side (`python -m gateway`,
one worker, rate limits off, on this machine's Redis), the side `head` from this checkout, the
side `base` from `git archive COMMIT gateway common` in a temporary directory. k6 sends
bench/k6/search_gateway.js (the query mix of `search`) to each side in turn, `rounds` times,
after a warm-up of each; the gateway process's CPU (/proc/PID/stat, utime + stime) over each
run, divided by the requests k6 made, is its CPU per search. Prints one line per run and a
summary per side; `uptime` before and after. Timings only: no target is checked.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from bench.k6run import run_k6
from bench.search.catalogue import CatalogueSpec, documents, generate
from bench.search.queries import query_mix
from bench.search.seeding import graphql_variables

REPO = Path(__file__).resolve().parents[2]
PAGE = 20


def _events():  # the catalogue's messages, built in the stand-in's process only
    from common.protos import timestamp as to_timestamp
    from ticketing.catalogue.v1 import catalogue_pb2 as pb

    catalogue = generate(CatalogueSpec(events=400, listings=4_000))
    out = []
    for doc, raw in zip(documents(catalogue), catalogue.events, strict=True):
        venue = raw.venue
        slug = f"venue:{venue.name.lower().replace(' ', '-')}-{venue.city.lower()}"
        out.append(
            pb.Event(
                id=raw.event_id,
                name=raw.name,
                performers=[
                    pb.Performer(id=f"performer:{p.lower().replace(' ', '-')}", name=p)
                    for p in raw.performers
                ],
                venue=pb.Venue(
                    id=slug,
                    name=venue.name,
                    city=venue.city,
                    country=venue.country,
                    time_zone=venue.time_zone,
                ),
                start_time=to_timestamp(raw.starts_at),
                end_time=to_timestamp(raw.starts_at + timedelta(hours=3)),
                category=pb.EventCategory.Value(f"EVENT_CATEGORY_{raw.category}"),
                status=pb.EventStatus.Value(f"EVENT_STATUS_{raw.status}"),
                version=3,
                lowest_price=f"{doc.lowest_price:.2f}" if doc.lowest_price else "",
                currency_code=doc.currency_code,
                tickets_for_sale=doc.tickets_for_sale,
                create_time=to_timestamp(raw.starts_at - timedelta(days=90)),
            )
        )
    return out


def serve_standin(port: int) -> None:
    """The stand-in catalogue: every search answers a page of 20 events (by its offset)."""
    import grpc

    from ticketing.catalogue.v1 import catalogue_pb2 as pb
    from ticketing.catalogue.v1 import catalogue_pb2_grpc

    events = _events()
    categories = [
        pb.FacetCount(value=c, count=900 - 100 * i)
        for i, c in enumerate(("CONCERT", "SPORTS", "THEATRE", "COMEDY", "FESTIVAL", "OTHER"))
    ]
    cities = sorted({e.venue.city for e in events})[:50]
    city_counts = [pb.FacetCount(value=c, count=200 - i) for i, c in enumerate(cities)]

    class StandIn(catalogue_pb2_grpc.CatalogueServiceServicer):
        async def SearchEvents(self, request, context):
            start = request.offset % (len(events) - PAGE)
            return pb.SearchEventsResponse(
                events=events[start : start + (request.page_size or PAGE)],
                total_count=4_000,
                categories=categories,
                cities=city_counts,
            )

    async def main() -> None:
        server = grpc.aio.server()
        catalogue_pb2_grpc.add_CatalogueServiceServicer_to_server(StandIn(), server)
        server.add_insecure_port(f"127.0.0.1:{port}")
        await server.start()
        await server.wait_for_termination()

    asyncio.run(main())


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_port(port: int, proc: subprocess.Popen, timeout: float = 60) -> None:
    import socket

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"process exited {proc.returncode}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise RuntimeError(f"port {port} not open after {timeout} s")


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class Side:
    name: str
    code: Path
    proc: subprocess.Popen | None = None
    port: int = 0


def _start_gateway(side: Side, env: dict[str, str], log: Path) -> None:
    side.port = _free_port()
    pythonpath = os.pathsep.join((str(side.code), str(REPO / "gen"), str(REPO)))
    child = {
        **env,
        "PYTHONPATH": pythonpath,
        "GATEWAY_PORT": str(side.port),
        "GATEWAY_ADMIN_PORT": str(_free_port()),
    }
    with log.open("wb") as out:
        side.proc = subprocess.Popen(
            [sys.executable, "-m", "gateway"],
            cwd=side.code,
            env=child,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    _wait_port(side.port, side.proc)


def _uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


def _run(
    side: Side, queries: Path, vus: int, seconds: float, work: Path, profile: str = ""
) -> dict:
    assert side.proc is not None
    env = {
        "GATEWAY_URL": f"http://127.0.0.1:{side.port}",
        "QUERIES_PATH": str(queries),
        "VUS": str(vus),
        "DURATION": f"{seconds:g}s",
    }
    spy = None
    if profile:  # py-spy on the gateway during the run (its own process, not counted)
        argv = [profile, "record", "--nonblocking", "-r", "200", "-f", "raw"]
        argv += ["-d", f"{max(1, int(seconds) - 2)}", "-p", str(side.proc.pid)]
        argv += ["-o", str(REPO / f"gateway-{side.name}.pyspy.txt")]
        spy = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    before = _cpu_seconds(side.proc.pid)
    result = asyncio.run(run_k6("search_gateway.js", env, work, timeout=seconds + 90))
    used = _cpu_seconds(side.proc.pid) - before
    if spy:
        spy.wait(30)
    count = result.count("http_reqs")
    latency = result.trend("http_req_duration", "search")
    return {
        "side": side.name,
        "searches": count,
        "per_s": result.rate(count),
        "cpu_ms": 1000 * used / count,
        "p50": latency.p50,
        "p99": latency.p99,
        "failed": result.count("failures"),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base", help="the commit to compare with (default: only this checkout)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--vus", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=8)
    parser.add_argument("--py-spy", default="", help="py-spy's path: profile the first round")
    args = parser.parse_args(argv)

    from common.jwt import generate_key_pair
    from common.service_identity import generate_keys, key_settings
    from gateway.config import RATE_LIMITS

    with tempfile.TemporaryDirectory(prefix="gwcost-") as tmp:
        work = Path(tmp)
        queries = work / "search-graphql.json"
        mix = query_mix(documents(generate(CatalogueSpec(events=2_000, listings=20_000))), 500)
        from gateway.resolvers.events import search_cursor

        queries.write_text(json.dumps([graphql_variables(q, search_cursor) for q in mix]))
        private, public = generate_key_pair()
        (work / "private.pem").write_text(private)
        (work / "public.pem").write_text(public)
        generate_keys(work / "service-keys")
        catalogue_port = _free_port()
        env = {
            **{k: v for k, v in os.environ.items() if not k.endswith(("_PORT", "_ADDR"))},
            "TICKETING_NAMESPACE": f"gwcost{uuid.uuid4().hex[:8]}",
            "JWT_PRIVATE_KEY_FILE": str(work / "private.pem"),
            "JWT_PUBLIC_KEY_FILE": str(work / "public.pem"),
            **key_settings(work / "service-keys"),
            "CATALOGUE_ADDR": f"127.0.0.1:{catalogue_port}",
            "GATEWAY_WORKERS": "1",
            "LOG_LEVEL": "WARNING",
            **{f"{name.upper()}_LIMIT": "0" for name in RATE_LIMITS},
        }
        standin = subprocess.Popen(
            [
                sys.executable,
                "-c",
                f"from bench.search.gateway_cost import serve_standin; "
                f"serve_standin({catalogue_port})",
            ],
            cwd=REPO,
            env={**env, "PYTHONPATH": os.pathsep.join((str(REPO), str(REPO / "gen")))},
            start_new_session=True,
        )
        sides = [Side("head", REPO)]
        if args.base:
            base = work / "base"
            base.mkdir()
            archive = subprocess.run(
                ["git", "-C", str(REPO), "archive", args.base, "gateway", "common", "web/dist"],
                capture_output=True,
                check=False,
            )
            if archive.returncode:
                archive = subprocess.run(
                    ["git", "-C", str(REPO), "archive", args.base, "gateway", "common"],
                    capture_output=True,
                    check=True,
                )
            subprocess.run(["tar", "-x", "-C", str(base)], input=archive.stdout, check=True)
            for extra in ("persisted", "schema.graphql"):
                src = REPO / extra
                if src.exists() and not (base / extra).exists():
                    (base / extra).symlink_to(src)
            sides.insert(0, Side("base", base))
        try:
            _wait_port(catalogue_port, standin)
            for side in sides:
                _start_gateway(side, env, work / f"gateway-{side.name}.log")
            print("start:", _uptime(), flush=True)
            for side in sides:  # warm-up
                _run(side, queries, args.vus, 2, work)
            results = []
            for n in range(args.rounds):
                order = sides if n % 2 == 0 else list(reversed(sides))
                for side in order:
                    spy = args.py_spy if n == 0 else ""
                    row = _run(side, queries, args.vus, args.seconds, work, spy)
                    results.append(row)
                    print(
                        f"round {n + 1} {row['side']}: {row['searches']} searches, "
                        f"{row['per_s']:.0f}/s, p50 {row['p50']:.1f} p99 {row['p99']:.1f} ms, "
                        f"gateway CPU {row['cpu_ms']:.2f} ms/search, failures {row['failed']}",
                        flush=True,
                    )
            print("end:", _uptime())
            for side in sides:
                rows = [r for r in results if r["side"] == side.name]
                cpu = ", ".join(f"{r['cpu_ms']:.2f}" for r in rows)
                rates = ", ".join(f"{r['per_s']:.0f}" for r in rows)
                median = statistics.median(r["cpu_ms"] for r in rows)
                print(
                    f"{side.name}: CPU ms/search median {median:.2f} (runs {cpu}); "
                    f"searches/s {rates}"
                )
        finally:
            for side in sides:
                if side.proc and side.proc.poll() is None:
                    os.killpg(side.proc.pid, 15)
                    side.proc.wait(15)
            standin.terminate()
            standin.wait(15)
            for side in sides:
                log = work / f"gateway-{side.name}.log"
                text = log.read_text(errors="replace") if log.exists() else ""
                if "Traceback" in text or "ERROR" in text:
                    print(f"--- gateway {side.name} log:\n{text[-3000:]}")


if __name__ == "__main__":
    main()
