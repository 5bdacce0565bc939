"""`slow-loris`: normal requests' latency while 300 slow clients hold connections to the gateway
(issue 18: "normal requests keep p99 under 2x their unloaded value").

A gateway of its own (`python -m gateway`, one worker, the services nowhere: `{ __typename }`
needs none, so the figure is the gateway's edge and middleware, not a service), with its header
and body timeouts at 3 s (10 and 30 by default) so that slow clients are closed, and come back,
within each measure. Four normal clients (keep-alive, from 127.0.0.1) POST `{ __typename }` one
after another for a fixed time: alone, then while 300 slow clients (`python -m
bench.slow_clients`, a process of its own as an attacker would be: request lines and headers,
bodies, silence and CRLFs between requests, a byte a second, from ten loopback addresses, 30
each, under CONNECTIONS_PER_ADDRESS) hold connections and reconnect as soon as the gateway
closes them; rounds of both. Run it on a quiet machine: on two cores shared with other work,
the load's noise is larger than the effect measured."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import redis

from bench import procs
from bench.report import Latency, RatioTarget, Row
from bench.scenarios.base import OFFLINE, Context, Scenario
from bench.slow_clients import MIXED
from common.jwt import generate_key_pair
from common.ports import free_port, wait_for_port
from common.processes import GRPC_SERVICES
from common.service_identity import GATEWAY, generate_keys, key_settings
from gateway.config import RATE_LIMITS

CLIENTS = 4
TIMEOUT_SECONDS = 3
UNLOADED = "slow-loris: unloaded"
TYPENAME = {"query": "{ __typename }"}


def _gateway(namespace: str) -> tuple[subprocess.Popen, int]:
    port = free_port()
    _, public_key = generate_key_pair()
    # Its service identity (it calls no service here, but will not start without one); read as
    # it starts, so the directory goes once it listens.
    keys = Path(tempfile.mkdtemp(prefix="bench-service-keys-"))
    generate_keys(keys, [GATEWAY])
    env = {
        **key_settings(keys),
        **os.environ,
        "TICKETING_NAMESPACE": namespace,
        "JWT_PUBLIC_KEY": public_key,
        "BIND_HOST": "127.0.0.1",
        "GATEWAY_PORT": str(port),
        "GATEWAY_ADMIN_PORT": str(free_port()),
        "GATEWAY_WORKERS": "1",
        "WEB_APP": "false",
        "LOG_LEVEL": "WARNING",
        "HTTP_HEADER_TIMEOUT_SECONDS": str(TIMEOUT_SECONDS),
        "HTTP_BODY_TIMEOUT_SECONDS": str(TIMEOUT_SECONDS),
        **{f"{s.name.upper()}_ADDR": f"127.0.0.1:{free_port()}" for s in GRPC_SERVICES},
        **{f"{name.upper()}_LIMIT": "0" for name in RATE_LIMITS},
    }
    proc = subprocess.Popen([sys.executable, "-m", "gateway"], env=env)
    try:
        if not wait_for_port(port, 60, proc):
            proc.kill()
            raise RuntimeError("the gateway did not start")
    finally:
        shutil.rmtree(keys, ignore_errors=True)
    return proc, port


async def _normal_requests(url: str, seconds: float) -> tuple[list[float], int]:
    """Milliseconds per request of CLIENTS clients for `seconds`, and the failed ones."""
    samples: list[float] = []
    failed = 0
    deadline = time.monotonic() + seconds

    async def client() -> None:
        nonlocal failed
        async with httpx.AsyncClient(base_url=url, timeout=30) as http:
            await http.post("/graphql", json=TYPENAME)  # its connection, opened
            while time.monotonic() < deadline:
                started = time.perf_counter()
                try:
                    reply = await http.post("/graphql", json=TYPENAME)
                    ok = reply.status_code == 200
                except httpx.HTTPError:
                    ok = False
                samples.append((time.perf_counter() - started) * 1000)
                failed += not ok
                await asyncio.sleep(0.01)

    await asyncio.gather(*(client() for _ in range(CLIENTS)))
    return samples, failed


@dataclass
class Phase:
    """The normal requests of one condition over every round, and the gateway's CPU meanwhile."""

    samples: list[float] = field(default_factory=list)
    failed: int = 0
    seconds: float = 0.0
    cpu_seconds: float = 0.0

    async def measure(self, url: str, seconds: float, gateway: int) -> None:
        cpu = procs.cpu_seconds(gateway)
        samples, failed = await _normal_requests(url, seconds)
        self.cpu_seconds += procs.cpu_seconds(gateway) - cpu
        self.samples += samples
        self.failed += failed
        self.seconds += seconds

    def cpu_note(self) -> str:
        per_request = self.cpu_seconds / len(self.samples) * 1000 if self.samples else 0.0
        return (
            f"gateway CPU {self.cpu_seconds / self.seconds * 100:.0f} % of a core, "
            f"{per_request:.2f} ms per normal request"
        )


async def run(ctx: Context) -> list[Row]:
    # Rounds of alone, then attacked: the machine's other load drifts over a run, and each
    # condition gets its share of every stretch of it.
    rounds, seconds = ctx.load(3, 2), ctx.load(5, 3)
    namespace = f"bench{uuid.uuid4().hex[:8]}"
    proc, port = _gateway(namespace)
    url = f"http://127.0.0.1:{port}"
    alone, attacked = Phase(), Phase()
    try:
        for round_ in range(1, rounds + 1):
            ctx.say(f"slow-loris round {round_}/{rounds}: {seconds} s alone")
            await alone.measure(url, seconds, proc.pid)
            ctx.say(f"slow-loris round {round_}/{rounds}: {seconds} s with {len(MIXED)} slow")
            slow = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bench.slow_clients", str(port)
            )
            try:
                await asyncio.sleep(2)  # until they are all connected
                await attacked.measure(url, seconds, proc.pid)
            finally:
                slow.terminate()
                await slow.wait()
    finally:
        proc.terminate()
        proc.wait(15)
        with redis.Redis.from_url(os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")) as r:
            keys = list(r.scan_iter(f"{namespace}:*"))
            if keys:
                r.delete(*keys)
    load_text = f"{CLIENTS} clients, {rounds} x {seconds} s, `{{ __typename }}`"
    return [
        Row(
            scenario=UNLOADED,
            load=load_text,
            latency=Latency.of(alone.samples),
            errors=alone.failed,
            notes=alone.cpu_note(),
        ),
        Row(
            scenario=f"slow-loris: {len(MIXED)} slow connections",
            load=f"{load_text}; slow clients closed after {TIMEOUT_SECONDS} s reconnect",
            latency=Latency.of(attacked.samples),
            errors=attacked.failed,
            baseline=UNLOADED,
            ratio_target=RatioTarget("p99", at_most=2.0),
            notes=f"{attacked.cpu_note()}; load average {os.getloadavg()[0]:.1f} at the end",
        ),
    ]


SCENARIO = Scenario(
    "slow-loris",
    OFFLINE,
    run,
    "normal requests' p50/p99 alone and while 300 slow clients hold connections to the gateway",
)
