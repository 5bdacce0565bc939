"""What the chaos run kills: a private RabbitMQ, Redis and SecantusDB on ports of their own
(never the machine's shared ones; the database started as `ticketing run` starts it, on disk),
and every service and the gateway as a separate process; plus the parts it leaves alone (the
Stripe stand-in, and maildev as the mail relay notifications sends to). Everything comes back
on the same port with the same data, as a Kubernetes restart would."""

from __future__ import annotations

import concurrent.futures
import contextlib
import logging
import os
import shutil
import signal
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pika
import pika.exceptions
import pymongo
import redis

from common.devstack.infra import private_rabbitmq_env, rabbitmq_server, secantus_argv
from common.jwt import generate_key_pair
from common.processes import SERVICES
from common.service_identity import generate_keys, key_settings
from svc_delivery.adapters.signing_keys import generate as generate_ticket_keys
from tests.support import servers
from tests.support.maildev import Maildev
from tests.support.processes import ServiceSet
from tests.support.servers import free_port

STRIPE_KEY = "sk_test_chaos"
WEBHOOK_SECRET = "whsec_chaos"


def kill_group(proc: subprocess.Popen) -> None:
    """SIGKILL to the process and everything it started (RabbitMQ runs as a shell script that
    starts the Erlang VM)."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


@contextlib.contextmanager
def quiet_pika() -> Iterator[None]:
    """pika logs every refused connection (while the broker boots) and every passive declare of
    a missing queue (auth consumes nothing) at WARNING or ERROR: expected here, hundreds of times
    while waiting."""
    logger = logging.getLogger("pika")
    level = logger.level
    logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        logger.setLevel(level)


def _tail(path: Path, chars: int = 2000) -> str:
    try:
        return path.read_text(errors="replace")[-chars:]
    except OSError:
        return ""


class PrivateRabbit:
    """A RabbitMQ node of its own, as `ticketing run` starts one: node name, AMQP and
    distribution ports, config, mnesia and logs in `base` (common/devstack/infra.py)."""

    def __init__(self, base: Path) -> None:
        self.base = base
        self.port, self.dist_port = free_port(), free_port()
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"amqp://guest:guest@127.0.0.1:{self.port}/%2F"

    def _env(self) -> dict[str, str]:
        node = f"chaos{self.port}"
        return {**os.environ, **private_rabbitmq_env(self.base, self.port, self.dist_port, node)}

    def spawn(self) -> None:
        """Starts the node without waiting (it boots in ~5-15 s): `wait()` for it."""
        server = rabbitmq_server(shutil.which("rabbitmq-server") or "rabbitmq-server")
        env = self._env()
        with (self.base / "server.out").open("ab") as out:
            self.proc = subprocess.Popen(
                [server],
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )

    def answers(self) -> bool:
        params = pika.URLParameters(self.url)
        params.connection_attempts, params.socket_timeout = 1, 2
        try:
            with quiet_pika():
                pika.BlockingConnection(params).close()
            return True
        except pika.exceptions.AMQPError:
            return False

    def wait(self, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        while not self.answers():
            assert self.proc is not None
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(
                    f"private RabbitMQ did not start on {self.port}:\n"
                    + _tail(self.base / "server.out")
                )
            time.sleep(0.3)

    def start(self) -> None:
        self.spawn()
        self.wait()

    def list_queues(self) -> dict[str, int]:
        """Every queue and its messages (ready and unacknowledged), by rabbitmqctl: also the
        queues whose names the harness does not know (retry or waiting queues)."""
        ctl = "/usr/lib/rabbitmq/bin/rabbitmqctl"
        if not Path(ctl).exists():
            ctl = shutil.which("rabbitmqctl") or ctl
        node = self._env()["RABBITMQ_NODENAME"]
        argv = [ctl, "-q", "-n", node, "list_queues", "--no-table-headers", "name", "messages"]
        done = subprocess.run(
            argv, env=self._env(), capture_output=True, text=True, timeout=60, check=True
        )
        queues = {}
        for line in done.stdout.splitlines():
            name, _, count = line.rpartition("\t")
            if name and count.strip().isdigit():
                queues[name] = int(count)
        return queues

    def kill(self) -> None:
        if self.proc is not None:
            kill_group(self.proc)
            self.proc = None


class PrivateServer:
    """A server of the run's own: a free port, its data in `data_dir`, killed with SIGKILL."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.port = free_port()
        self.proc: subprocess.Popen | None = None

    def kill(self) -> None:
        if self.proc is not None:
            kill_group(self.proc)
            self.proc = None


class PrivateRedis(PrivateServer):
    """A Redis of its own, append-only (`appendfsync everysec` loses nothing to a process kill:
    every write reaches the file before its reply). `start(keep_data=False)` deletes the files
    first: a restart without persistence, or a failover to an empty replica."""

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, *, keep_data: bool = True, timeout: float = 20) -> None:
        if not keep_data:
            shutil.rmtree(self.data_dir, ignore_errors=True)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        server = shutil.which("redis-server")
        if server is None:
            raise RuntimeError("redis-server is not installed")
        argv = [server, "--port", str(self.port), "--bind", "127.0.0.1", "--dir"]
        argv += [str(self.data_dir), "--appendonly", "yes", "--appendfsync", "everysec"]
        argv += ["--save", "", "--loglevel", "warning"]
        self.proc = subprocess.Popen(
            argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
        )
        client = redis.Redis.from_url(self.url, socket_timeout=1)
        deadline = time.monotonic() + timeout
        while True:
            try:
                if client.ping():
                    return
            except redis.RedisError:
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"private Redis did not start on {self.port}")
            time.sleep(0.1)


class PrivateMongo(PrivateServer):
    """SecantusDB with its data on disk in `data_dir`, started with `ticketing run`'s options
    (common/devstack/infra.py: sync-on-commit), so that a kill shows what a developer's stack
    keeps of what it acknowledged."""

    @property
    def url(self) -> str:
        return f"mongodb://127.0.0.1:{self.port}/?replicaSet=secantus"

    def start(self, timeout: float = 60) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        with (self.data_dir.parent / "mongo.out").open("ab") as out:
            self.proc = subprocess.Popen(
                secantus_argv(self.port, str(self.data_dir)),
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        servers.wait_for_port(self.port, timeout, self.proc)
        with pymongo.MongoClient(self.url, serverSelectionTimeoutMS=int(timeout * 1000)) as c:
            c.admin.command("ping")


class WebhookRetrier:
    """Stands between the Stripe stand-in and the gateway's webhook, as Stripe's own delivery
    does: Stripe retries a webhook the endpoint did not accept for days, with backoff; the
    stand-in for about a minute, shorter than a chaos run keeps the gateway down. Takes each
    delivery at once and forwards it to `target` (set once the gateway's address is known) until
    the gateway answers 2xx, for at most `give_up_after` seconds."""

    def __init__(self, give_up_after: float = 120) -> None:
        self.target = ""
        self.give_up_after = give_up_after
        self.failed: list[str] = []
        self._pending = 0
        self._lock = threading.Lock()
        retrier = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                headers = {
                    k: v
                    for k, v in self.headers.items()
                    if k.lower() in ("content-type", "stripe-signature")
                }
                self.send_response(200)
                self.end_headers()
                retrier._accept(body, headers)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def pending(self) -> int:
        with self._lock:
            return self._pending

    def _accept(self, body: bytes, headers: dict[str, str]) -> None:
        with self._lock:
            self._pending += 1
        threading.Thread(target=self._deliver, args=(body, headers), daemon=True).start()

    def _deliver(self, body: bytes, headers: dict[str, str]) -> None:
        deadline = time.monotonic() + self.give_up_after
        delay, last = 0.5, ""
        try:
            while time.monotonic() < deadline:
                try:
                    reply = httpx.post(self.target, content=body, headers=headers, timeout=30)
                    if reply.is_success:
                        return
                    last = f"HTTP {reply.status_code}: {reply.text[:200]}"
                    if reply.status_code < 500:
                        break  # Stripe retries these too, but they will not change
                except httpx.TransportError as exc:
                    last = f"{type(exc).__name__}: {exc}"
                time.sleep(delay)
                delay = min(5.0, delay * 2)
            self.failed.append(f"{body[:120]!r}: {last}")
        finally:
            with self._lock:
                self._pending -= 1

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@dataclass
class ChaosStack:
    namespace: str
    rabbit: PrivateRabbit
    redis: PrivateRedis
    mongo: PrivateMongo
    stripe_url: str
    services: ServiceSet
    webhooks: WebhookRetrier
    mail: Maildev
    hold_seconds: int
    queue_names: list[str] = field(default_factory=list)  # the namespace's, as last listed

    @property
    def base_url(self) -> str:
        return self.services.base_url

    @property
    def mongo_url(self) -> str:
        return self.mongo.url


# How long a (re)started service may take to listen: its imports, at once with every other
# process's on a shared machine, took over 30 s at a load average of 11 on two cores.
LISTEN_WITHIN = 90


def start_all(services: ServiceSet, timeout: float = 90) -> None:
    """Every process at once (they spend their start importing), then until the gateway is
    ready."""
    with concurrent.futures.ThreadPoolExecutor(len(SERVICES)) as pool:
        starts = [pool.submit(services.start, spec.name, LISTEN_WITHIN) for spec in SERVICES]
        for started in starts:
            started.result()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{services.admin_url}/readyz", timeout=2).status_code == 200:
                return
        time.sleep(0.2)
    raise TimeoutError("services not ready: " + services.logs())


@contextlib.contextmanager
def chaos_stack(
    work_dir: Path, hold_seconds: int, settings: dict[str, str] | None = None
) -> Iterator[ChaosStack]:
    """Everything on free ports under `work_dir`, torn down on exit (the broker, Redis and the
    database are private: nothing to clean up elsewhere); `settings`: more of the services'
    environment."""
    rabbit = PrivateRabbit(work_dir / "rabbitmq")
    store = PrivateRedis(work_dir / "redis")
    mongo = PrivateMongo(work_dir / "mongo")
    services: ServiceSet | None = None
    with contextlib.ExitStack() as stack:
        try:
            rabbit.spawn()  # boots while the rest starts
            store.start()
            mongo.start()
            webhooks = WebhookRetrier()
            stack.callback(webhooks.close)
            delivery = ("--webhook", webhooks.url, "--webhook-secret", WEBHOOK_SECRET)
            stripe_url = stack.enter_context(servers.stripe_standin(*delivery))
            mail = Maildev().start()
            stack.callback(mail.stop)
            rabbit.wait()
            private, public = generate_key_pair()
            namespace = f"chaos{uuid.uuid4().hex[:8]}"
            log_dir = work_dir / "logs"
            log_dir.mkdir(parents=True, exist_ok=True)
            generate_keys(work_dir / "service-keys")
            # The ticket-code key ring delivery signs passes with, as `ticketing run` makes one.
            generate_ticket_keys(work_dir / "ticket-keys", datetime.now(UTC))
            env = {
                **key_settings(work_dir / "service-keys"),
                "TICKET_KEYS_DIR": str(work_dir / "ticket-keys"),
                "TICKETING_NAMESPACE": namespace,
                "MONGO_URL": mongo.url,
                "AMQP_URL": rabbit.url,
                "REDIS_URL": store.url,
                "JWT_PRIVATE_KEY": private,
                "JWT_PUBLIC_KEY": public,
                "BIND_HOST": "127.0.0.1",
                "LOG_LEVEL": "WARNING",
                "ORDER_EXPIRATION_SECONDS": str(hold_seconds),
                "STRIPE_API_BASE": stripe_url,
                "STRIPE_SECRET_KEY": STRIPE_KEY,
                "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
                "SMTP_HOST": "127.0.0.1",
                "SMTP_PORT": str(mail.smtp_port),
                **(settings or {}),
            }
            services = ServiceSet(env, log_dir)
            start_all(services)
            webhooks.target = f"{services.base_url}/webhooks/stripe"
            yield ChaosStack(
                namespace, rabbit, store, mongo, stripe_url, services, webhooks, mail, hold_seconds
            )
        finally:
            if services is not None:
                services.stop_all()
            mongo.kill()
            store.kill()
            rabbit.kill()
