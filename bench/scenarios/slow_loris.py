"""`slow-loris`: normal requests' latency while 300 slow clients hold connections to the gateway
(issue 18: "normal requests keep p99 under 2x their unloaded value").

A gateway of its own (`python -m gateway`, one worker, the services nowhere: `{ __typename }`
needs none, so the figure is the gateway's edge and middleware, not a service), with its default
limits. Four normal clients (keep-alive, from 127.0.0.1) POST `{ __typename }` one after another
for a fixed time: first alone, then while 300 slow clients (`python -m bench.slow_clients`, a
process of its own as an attacker would be: request lines and headers, bodies, silence and
CRLFs between requests, a byte a second, from ten loopback addresses, 30 each, under
CONNECTIONS_PER_ADDRESS) hold connections and reconnect as soon as the gateway closes them
(after HTTP_HEADER_TIMEOUT_SECONDS, 10, for most). Run it on a quiet machine: on two cores
shared with other work, the load's noise is larger than the effect measured."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
import uuid

import httpx
import redis

from bench.report import Latency, RatioTarget, Row
from bench.scenarios.base import OFFLINE, Context, Scenario
from bench.slow_clients import MIXED
from common.jwt import generate_key_pair
from common.ports import free_port, wait_for_port
from common.processes import GRPC_SERVICES
from gateway.config import RATE_LIMITS

CLIENTS = 4
UNLOADED = "slow-loris: unloaded"
TYPENAME = {"query": "{ __typename }"}


def _gateway(namespace: str) -> tuple[subprocess.Popen, int]:
    port = free_port()
    _, public_key = generate_key_pair()
    env = {
        **os.environ,
        "TICKETING_NAMESPACE": namespace,
        "JWT_PUBLIC_KEY": public_key,
        "BIND_HOST": "127.0.0.1",
        "GATEWAY_PORT": str(port),
        "GATEWAY_ADMIN_PORT": str(free_port()),
        "GATEWAY_WORKERS": "1",
        "WEB_APP": "false",
        "LOG_LEVEL": "WARNING",
        **{f"{s.name.upper()}_ADDR": f"127.0.0.1:{free_port()}" for s in GRPC_SERVICES},
        **{f"{name.upper()}_LIMIT": "0" for name in RATE_LIMITS},
    }
    proc = subprocess.Popen([sys.executable, "-m", "gateway"], env=env)
    if not wait_for_port(port, 60, proc):
        proc.kill()
        raise RuntimeError("the gateway did not start")
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


async def run(ctx: Context) -> list[Row]:
    seconds = ctx.load(12, 6)
    namespace = f"bench{uuid.uuid4().hex[:8]}"
    proc, port = _gateway(namespace)
    url = f"http://127.0.0.1:{port}"
    try:
        ctx.say(f"slow-loris: {seconds} s of normal requests alone")
        unloaded, unloaded_failed = await _normal_requests(url, seconds)
        ctx.say(f"slow-loris: {len(MIXED)} slow clients, then {seconds} s of normal requests")
        slow = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bench.slow_clients", str(port)
        )
        try:
            await asyncio.sleep(2)  # until they are all connected
            loaded, loaded_failed = await _normal_requests(url, seconds)
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
    load_text = f"{CLIENTS} clients, {seconds} s, `{{ __typename }}`"
    return [
        Row(
            scenario=UNLOADED, load=load_text, latency=Latency.of(unloaded), errors=unloaded_failed
        ),
        Row(
            scenario=f"slow-loris: {len(MIXED)} slow connections",
            load=f"{load_text}; slow clients reconnect when closed",
            latency=Latency.of(loaded),
            errors=loaded_failed,
            baseline=UNLOADED,
            ratio_target=RatioTarget("p99", at_most=2.0),
            notes=f"load average {os.getloadavg()[0]:.1f} at the end",
        ),
    ]


SCENARIO = Scenario(
    "slow-loris",
    OFFLINE,
    run,
    "normal requests' p50/p99 alone and while 300 slow clients hold connections to the gateway",
)
