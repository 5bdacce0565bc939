"""Starting and cleaning up the real servers the tests talk to."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pika
import pika.exceptions
import pymongo
import redis

from common import bus, devstack
from common.devstack import free_port
from common.revocations import loaded_key
from gateway.config import RATE_LIMITS
from svc_auth.config import SIGNIN_LIMITS

TEST_RETRY_DELAYS_MS = (50, 150)
# The suites sign up, sign in and query from one address far more than people would: the
# gateway's rate limits and auth's sign-in throttling are off in them, except in the tests of
# the limits themselves.
RATE_LIMITS_OFF = {f"{name.upper()}_LIMIT": "0" for name in (*RATE_LIMITS, *SIGNIN_LIMITS)}
# Every consumer name a test may declare queues for; removed with the namespace.
CONSUMERS = (
    "auth",
    "tickets",
    "orders",
    "payments",
    "expiration",
    "insights",
    "catalogue",
    "delivery",
    "gateway",
    "probe",
    "flaky",
)


def venv_tool(name: str) -> str:
    path = Path(sys.executable).parent / name
    if not path.exists():
        raise RuntimeError(f"{name} is not installed in {path.parent}: run `make install`")
    return str(path)


def require_rabbitmq(url: str) -> None:
    try:
        bus.wait_for_broker(url, timeout=5)
    except pika.exceptions.AMQPError as exc:
        raise RuntimeError(
            f"RabbitMQ does not answer at {url} ({exc!r}); start it: rabbitmq-server -detached"
        ) from None


def require_redis(url: str) -> None:
    try:
        redis.Redis.from_url(url, socket_timeout=3).ping()
    except redis.RedisError as exc:
        raise RuntimeError(
            f"Redis does not answer at {url} ({exc!r}); start it: "
            'redis-server --daemonize yes --port 6379 --save ""'
        ) from None


def wait_for_port(port: int, timeout: float, proc: subprocess.Popen | None = None) -> None:
    """As `ticketing run` waits for its children, but failing the test with the reason."""
    if devstack.wait_for_port(port, timeout, proc):
        return
    if proc is not None and proc.poll() is not None:
        raise RuntimeError(f"process exited with {proc.returncode} before listening on {port}")
    raise TimeoutError(f"nothing listening on {port} after {timeout}s")


def stop_process(proc: subprocess.Popen, timeout: float = 15) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@contextlib.contextmanager
def secantus() -> Iterator[str]:
    port = free_port()
    proc = subprocess.Popen(
        [
            *(venv_tool("secantusd-py"), "--host", "127.0.0.1", "--port", str(port)),
            *("--storage-path", ":memory:", "--log-level", "WARNING"),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_port(port, 60, proc)
        url = f"mongodb://127.0.0.1:{port}/?replicaSet=secantus"
        pymongo.MongoClient(url, serverSelectionTimeoutMS=20000).admin.command("ping")
        yield url
    finally:
        stop_process(proc)


def remove_namespace(ns: str, amqp_url: str, redis_url: str, mongo_url: str) -> None:
    """Deletes what a test's namespace created on the shared RabbitMQ, Redis and database."""
    with contextlib.suppress(Exception):
        connection = bus.connect(amqp_url)
        channel = connection.channel()
        for service in CONSUMERS:
            names = [bus.queue_name(ns, service), bus.dead_queue_name(ns, service)]
            names += [bus.retry_queue_name(ns, service, d) for d in TEST_RETRY_DELAYS_MS]
            names += [bus.retry_queue_name(ns, service, d) for d in (200, 1000, 5000, 15000)]
            for name in names:
                channel.queue_delete(name)
        channel.exchange_delete(bus.exchange_name(ns))
        connection.close()
    with contextlib.suppress(Exception):
        client = redis.Redis.from_url(redis_url)
        keys = list(client.scan_iter(f"{ns}:*"))
        if keys:
            client.delete(*keys)
    with contextlib.suppress(Exception):
        mongo = pymongo.MongoClient(mongo_url, serverSelectionTimeoutMS=2000)
        for name in mongo.list_database_names():
            if name.startswith(f"{ns}_"):
                mongo.drop_database(name)


def mark_revocations_loaded(redis_url: str, namespace: str) -> None:
    """What auth does once it has copied every revocation into a Redis (there are none in a new
    namespace): without it, verifiers refuse to decide on any token (UNAVAILABLE). For services
    tested without auth; with auth running, it does this itself, and again whenever Redis loses
    its data."""
    with redis.Redis.from_url(redis_url) as client:
        client.set(loaded_key(namespace), "tests")


def wait_revocations_loaded(redis_url: str, namespace: str, timeout: float = 30) -> None:
    """Until auth has (re)loaded the revocations into this Redis."""
    deadline = time.monotonic() + timeout
    with redis.Redis.from_url(redis_url) as client:
        while not client.exists(loaded_key(namespace)):
            if time.monotonic() > deadline:
                raise TimeoutError(f"auth did not load the revocations into {redis_url}")
            time.sleep(0.05)


class TcpProxy:
    """A loopback TCP proxy that can be cut and restored: a broker outage without touching the
    shared broker. `stop()` closes the listener and every open connection."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.port = free_port()
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        code = (
            "import asyncio,sys\n"
            "async def pipe(r,w):\n"
            "    try:\n"
            "        while data := await r.read(65536):\n"
            "            w.write(data); await w.drain()\n"
            "    finally:\n"
            "        w.close()\n"
            "async def handle(r,w):\n"
            "    try:\n"
            f"        ur,uw = await asyncio.open_connection('127.0.0.1',{self.target_port})\n"
            "    except OSError:\n"
            "        w.close(); return\n"
            "    await asyncio.gather(pipe(r,uw),pipe(ur,w),return_exceptions=True)\n"
            "async def main():\n"
            f"    s = await asyncio.start_server(handle,'127.0.0.1',{self.port})\n"
            "    await s.serve_forever()\n"
            "asyncio.run(main())\n"
        )
        self.proc = subprocess.Popen([sys.executable, "-c", code])
        wait_for_port(self.port, 10, self.proc)

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
            self.proc = None


def amqp_url_via(port: int) -> str:
    return f"amqp://guest:guest@127.0.0.1:{port}/%2F"


def environ(extra: dict[str, str]) -> dict[str, str]:
    return {**os.environ, **extra}


@contextlib.contextmanager
def serving(argv: list[str], port: int) -> Iterator[str]:
    """A local HTTP server started by `argv` to listen on `port` of 127.0.0.1, stopped after;
    yields its base URL."""
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for_port(port, 30, proc)
        yield f"http://127.0.0.1:{port}"
    finally:
        stop_process(proc)


@contextlib.contextmanager
def stripe_standin(*options: str) -> Iterator[str]:
    """The project's Stripe stand-in on a free port of 127.0.0.1, as `ticketing run` starts it
    (`options`: `--webhook URL --webhook-secret S`...); yields its base URL (STRIPE_API_BASE)."""
    port = free_port()
    argv = [sys.executable, "-m", "stripe_standin", "--port", str(port), *options]
    with serving(argv, port) as url:
        yield url


def register_stripe_webhook(
    api_base: str, url: str, events: list[str] | None = None
) -> tuple[str, str]:
    """A webhook endpoint registered through the SDK, as a Stripe account holder registers one
    (`stripe.WebhookEndpoint.create`); its id and the secret it signs with."""
    import stripe

    client = stripe.StripeClient(
        "sk_test_standin",
        base_addresses={"api": api_base},
        http_client=stripe.HTTPXClient(timeout=10, allow_sync_methods=True),
        max_network_retries=0,
    )
    endpoint = client.v1.webhook_endpoints.create({"url": url, "enabled_events": events or ["*"]})
    return endpoint.id, endpoint.secret


def remove_stripe_webhook(api_base: str, endpoint_id: str) -> None:
    import httpx

    reply = httpx.delete(
        f"{api_base}/v1/webhook_endpoints/{endpoint_id}",
        headers={"authorization": "Bearer sk_test_standin"},
    )
    reply.raise_for_status()
