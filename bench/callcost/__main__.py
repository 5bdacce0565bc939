"""`python -m bench.callcost [--base DIR]`: the catalogue's CPU per SearchEvents call, the
server's side of one gRPC call (bench/README.md, "Per-call cost of a service").

Starts the catalogue of server.py (the code of this checkout) in a process of its own, sends it
the search query mix (bench/search/queries.py) over gRPC with the gateway's service token,
`--in-flight` calls at a time, in `--slices` slices of `--calls` calls, and reads the server's
CPU time (utime + stime of /proc/PID/stat) around each slice. With `--base DIR` (another
checkout of the project, e.g. `git archive <commit> | tar -x -C DIR`) a second server runs that
code beside it and the slices alternate between the two (A B, B A, ...), so both see the same
load on a shared machine; the paired ratio is the median of each pair's ratio. Profile either
server with `py-spy record --native -p PID` while it runs (its pid is printed first)."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import grpc
from google.protobuf import json_format

from bench.search.catalogue import CatalogueSpec, documents, generate
from bench.search.queries import query_mix
from bench.search.seeding import grpc_request
from common.service_identity import GATEWAY, ServiceTokens, load_private_key
from ticketing.catalogue.v1 import catalogue_pb2 as pb
from ticketing.catalogue.v1 import catalogue_pb2_grpc

ROOT = Path(__file__).resolve().parents[2]
TICKS = os.sysconf("SC_CLK_TCK")
WARM_UP = 300


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Server:
    name: str
    code: Path
    port: int = 0
    process: subprocess.Popen | None = None
    pid: int = 0
    slices: list[tuple[float, float]] = field(default_factory=list)  # (cpu ms/call, calls/s)

    def start(self, keys: Path, events: int, logs: Path) -> None:
        self.port = free_port()
        env = {**os.environ, "PYTHONPATH": str(self.code)}
        command = [sys.executable, "-m", "bench.callcost.server", str(keys), str(self.port)]
        self.process = subprocess.Popen(
            [*command, str(events)],
            cwd=self.code,
            env=env,
            stdout=subprocess.PIPE,
            stderr=(logs / f"{self.name}.log").open("w"),
            text=True,
            start_new_session=True,
        )

    def wait_ready(self) -> None:
        assert self.process is not None and self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line.startswith("READY"):
            raise RuntimeError(f"{self.name}'s server did not start: {line!r}")
        self.pid = int(line.split()[1])
        print(f"[bench.callcost] {self.name}: {self.code}, pid {self.pid}", file=sys.stderr)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, 15)
            self.process.wait(10)


async def drive(servers: list[Server], args: argparse.Namespace, keys: Path) -> None:
    spec = CatalogueSpec(events=args.events, listings=args.events * 10)
    requests = [
        json_format.ParseDict(grpc_request(query), pb.SearchEventsRequest())
        for query in query_mix(documents(generate(spec)), 2_000)
    ]
    private = load_private_key((keys / "private" / f"{GATEWAY}.pem").read_text())
    metadata = (ServiceTokens(GATEWAY, private).metadata_for("catalogue"),)
    channels = [grpc.aio.insecure_channel(f"127.0.0.1:{s.port}") for s in servers]
    stubs = [catalogue_pb2_grpc.CatalogueServiceStub(channel) for channel in channels]
    for stub in stubs:
        for request in requests[:WARM_UP]:
            await stub.SearchEvents(request, metadata=metadata)
    for n in range(args.slices):
        order = list(zip(servers, stubs, strict=True))
        for server, stub in order if n % 2 == 0 else order[::-1]:
            sent = 0

            async def caller(stub=stub) -> None:
                nonlocal sent
                while sent < args.calls:
                    request = requests[sent % len(requests)]
                    sent += 1
                    await stub.SearchEvents(request, metadata=metadata)

            cpu, started = cpu_seconds(server.pid), time.perf_counter()
            await asyncio.gather(*(caller() for _ in range(args.in_flight)))
            cpu, wall = cpu_seconds(server.pid) - cpu, time.perf_counter() - started
            server.slices.append((cpu * 1000 / args.calls, args.calls / wall))
    for channel in channels:
        await channel.close()


def summary(server: Server) -> dict[str, object]:
    ms = [cpu for cpu, _ in server.slices]
    return {
        "server": server.name,
        "code": str(server.code),
        "cpu_ms_per_call_median": round(statistics.median(ms), 3),
        "cpu_ms_per_call_mean": round(statistics.mean(ms), 3),
        "calls_per_s_median": round(statistics.median(rate for _, rate in server.slices), 1),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.callcost", description=__doc__)
    parser.add_argument("--base", type=Path, help="another checkout to compare with")
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--slices", type=int, default=20)
    parser.add_argument("--calls", type=int, default=1_500, help="calls per slice")
    parser.add_argument("--in-flight", type=int, default=8)
    args = parser.parse_args(argv)
    servers = [Server("head", ROOT)]
    if args.base:
        servers.insert(0, Server("base", args.base.resolve()))
    with tempfile.TemporaryDirectory(prefix="callcost-") as work:
        keys, logs = Path(work) / "keys", Path(work)
        try:
            servers[0].start(keys, args.events, logs)
            servers[0].wait_ready()  # it made the keys
            for server in servers[1:]:
                server.start(keys, args.events, logs)
                server.wait_ready()
            asyncio.run(drive(servers, args, keys))
        finally:
            for server in servers:
                server.stop()
    load = Path("/proc/loadavg").read_text().split()[0]
    for server in servers:
        print(json.dumps({**summary(server), "load_average_after": load}))
    if len(servers) == 2:
        pairs = zip(servers[0].slices, servers[1].slices, strict=True)
        ratio = statistics.median(head[0] / base[0] for base, head in pairs)
        print(json.dumps({"head_over_base_cpu_per_call_paired_median": round(ratio, 3)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
