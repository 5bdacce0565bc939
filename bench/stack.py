"""The system under test: SecantusDB, a Stripe (the project's stand-in, at once or after a fixed
latency) and N
replicas of every service and the gateway, each replica a `ticketing run` of its own on free
ports, all sharing one private namespace, one database and one key pair (so N replicas compete
exactly as pods of one Deployment would).

RabbitMQ and Redis are the machine's (AMQP_URL / REDIS_URL, as `ticketing run` reads them); what
the namespace created there is removed when the stack stops.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import grpc
import pika.exceptions
import pymongo
import redis

from bench import procs
from common import bus
from common.config import CommonSettings
from common.devstack.infra import DEV_WEBHOOK_SECRET, tool
from common.jwt import generate_key_pair
from common.ports import free_port, wait_for_port
from common.processes import GRPC_SERVICES, SERVICES
from common.run_state import STATE_FILE
from common.service_identity import (
    GATEWAY,
    AttachServiceToken,
    ServiceTokens,
    generate_keys,
    key_settings,
    load_private_key,
)
from gateway.config import RATE_LIMITS
from svc_auth.config import SIGNIN_LIMITS

REPO = Path(__file__).resolve().parent.parent
READY_LINE = "[ticketing run] ready"
# What a namespace may have declared on the shared broker (consumers, their retry and dead queues).
CONSUMERS = (*(s.name for s in GRPC_SERVICES), "gateway")
# The Stripe stand-in answering at once, or after `stripe_latency_ms` (Stripe's typical time).
INSTANT, STANDIN = "stripe stand-in, no latency", "stripe stand-in"


class StackFailed(RuntimeError):
    pass


@dataclass
class Replica:
    index: int
    proc: subprocess.Popen
    ports: dict[str, int]
    log: Path
    run_dir: Path

    def addr(self, service: str) -> str:
        return f"127.0.0.1:{self.ports[service]}"

    @property
    def gateway_url(self) -> str:
        return f"http://127.0.0.1:{self.ports['gateway']}"

    def children(self) -> dict[str, int]:
        """The `ticketing run` supervisor's children by name (gateway, auth, ...) -> pid."""
        state = json.loads((self.run_dir / STATE_FILE).read_text())
        return {name: int(pid) for name, pid in state["children"].items()}


@dataclass
class BenchStack:
    replicas_wanted: int = 1
    extra_env: dict[str, str] = field(default_factory=dict)
    stripe: str = INSTANT  # or STANDIN, answering after `stripe_latency_ms`
    stripe_latency_ms: float = 300.0
    namespace: str = field(default_factory=lambda: f"bench{uuid.uuid4().hex[:8]}")
    replicas: list[Replica] = field(default_factory=list)
    mongo_url: str = ""
    settings: CommonSettings = field(default_factory=CommonSettings.from_env)
    _infra: dict[str, subprocess.Popen] = field(default_factory=dict)
    # Resident MiB per process right after the stack was ready, before any load.
    idle_memory: dict[str, float] = field(default_factory=dict)
    _tmp: tempfile.TemporaryDirectory | None = None
    _channels: dict[str, grpc.aio.Channel] = field(default_factory=dict)

    @property
    def amqp_url(self) -> str:
        return self.settings.amqp_url.get_secret_value()

    @property
    def workdir(self) -> Path:
        assert self._tmp is not None
        return Path(self._tmp.name)

    def start(self, timeout: float = 180) -> None:
        self._tmp = tempfile.TemporaryDirectory(prefix="bench-")
        try:
            env = self._shared_env()
            for index in range(self.replicas_wanted):
                self.replicas.append(self._start_replica(index, env, timeout))
            time.sleep(2)  # the start's own work (indexes, first connections) settles
            self.idle_memory = self.memory()
        except BaseException:
            self.stop()
            raise

    def _spawn_infra(self, argv: list[str], port: int, name: str, **popen) -> None:
        proc = subprocess.Popen(
            argv,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
            **popen,
        )
        self._infra[name] = proc
        if not wait_for_port(port, 60, proc):
            raise StackFailed(f"{name} did not start on port {port}")

    def _start_stripe(self, pythonpath: str) -> str:
        port = free_port()
        latency = self.stripe_latency_ms if self.stripe == STANDIN else 0.0
        argv = [sys.executable, "-m", "bench.stripe_standin", "--port", str(port)]
        argv += ["--latency-ms", str(latency)]
        env = {**os.environ, "PYTHONPATH": pythonpath}
        self._spawn_infra(argv, port, self.stripe, cwd=REPO, env=env)
        return f"http://127.0.0.1:{port}"

    def _shared_env(self) -> dict[str, str]:
        secantus = tool("secantusd-py")
        if not secantus:
            raise StackFailed("secantusd-py is needed: run `make install`")
        mongo_port = free_port()
        self._spawn_infra(
            [
                *(secantus, "--host", "127.0.0.1", "--port", str(mongo_port)),
                *("--storage-path", ":memory:", "--log-level", "WARNING"),
            ],
            mongo_port,
            "SecantusDB",
        )
        self.mongo_url = f"mongodb://127.0.0.1:{mongo_port}/?replicaSet=secantus"
        pymongo.MongoClient(self.mongo_url, serverSelectionTimeoutMS=20000).admin.command("ping")
        keys = self.workdir / "jwt"
        keys.mkdir()
        private_pem, public_pem = generate_key_pair()
        (keys / "private.pem").write_text(private_pem)
        (keys / "public.pem").write_text(public_pem)
        generate_keys(self.workdir / "service-keys")
        # Children import this checkout's code (and its generated stubs), whatever is installed.
        pythonpath = os.pathsep.join(
            p for p in (str(REPO), str(REPO / "gen"), os.environ.get("PYTHONPATH")) if p
        )
        stripe_api_base = self._start_stripe(pythonpath)
        return {
            **{k: v for k, v in os.environ.items() if not k.endswith(("_PORT", "_ADDR"))},
            "PYTHONPATH": pythonpath,
            "TICKETING_NAMESPACE": self.namespace,
            "MONGO_URL": self.mongo_url,
            "STRIPE_API_BASE": stripe_api_base,
            "STRIPE_SECRET_KEY": "sk_test_standin",
            "STRIPE_WEBHOOK_SECRET": DEV_WEBHOOK_SECRET,
            "JWT_PRIVATE_KEY_FILE": str(keys / "private.pem"),
            "JWT_PUBLIC_KEY_FILE": str(keys / "public.pem"),
            **key_settings(self.workdir / "service-keys"),
            "LOG_LEVEL": "WARNING",
            # The load comes from one address and a few users: the gateway's rate limits (and
            # auth's sign-in throttling) would turn it into 429s, so they are off (what a limit
            # check costs is one Redis script).
            **{f"{name.upper()}_LIMIT": "0" for name in (*RATE_LIMITS, *SIGNIN_LIMITS)},
            **self.extra_env,
        }

    def _start_replica(self, index: int, shared: dict[str, str], timeout: float) -> Replica:
        ports = {spec.name: free_port() for spec in SERVICES}
        run_dir = self.workdir / f"replica{index}"
        run_dir.mkdir()
        env = {
            **shared,
            **{f"{name.upper()}_PORT": str(port) for name, port in ports.items()},
            **{f"{s.name.upper()}_METRICS_PORT": str(free_port()) for s in GRPC_SERVICES},
            "GATEWAY_ADMIN_PORT": str(free_port()),
            # Each replica's own development mail server (notifications sends there).
            "MAIL_SMTP_PORT": str(free_port()),
            "MAIL_WEB_PORT": str(free_port()),
            "TICKETING_RUN_DIR": str(run_dir),
        }
        log = self.workdir / f"replica{index}.log"
        with log.open("wb") as out:
            proc = subprocess.Popen(
                [sys.executable, "-c", "from common.cli import main; main(['run'])"],
                cwd=REPO,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        replica = Replica(index, proc, ports, log, run_dir)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            text = log.read_text(errors="replace")
            if READY_LINE in text:
                return replica
            if proc.poll() is not None:
                raise StackFailed(f"replica {index} exited with {proc.returncode}:\n{text[-4000:]}")
            time.sleep(0.3)
        self._stop_replica(replica)
        raise StackFailed(f"replica {index} not ready after {timeout:.0f}s")

    def channel(self, service: str, replica: int = 0) -> grpc.aio.Channel:
        """One channel per service and replica, made on the running event loop."""
        key = f"{service}/{replica}"
        if key not in self._channels:
            # Calls made as the gateway makes them: with its service token.
            gateway = ServiceTokens(
                GATEWAY,
                load_private_key(
                    (self.workdir / "service-keys" / "private" / "gateway.pem").read_text()
                ),
            )
            self._channels[key] = grpc.aio.insecure_channel(
                self.replicas[replica].addr(service), interceptors=[AttachServiceToken(gateway)]
            )
        return self._channels[key]

    async def close_channels(self) -> None:
        for channel in self._channels.values():
            await channel.close()
        self._channels.clear()

    def processes(self) -> dict[str, list[int]]:
        """Every process the stack started, by label: per replica `ticketing run` (alone: its
        children are counted under their own names) and each service with its own children (a
        gateway's workers), then the database and the Stripe. Labels carry the replica's number
        when there are several."""
        out: dict[str, list[int]] = {}
        for replica in self.replicas:
            suffix = f" #{replica.index}" if len(self.replicas) > 1 else ""
            out[f"ticketing run{suffix}"] = [replica.proc.pid]
            for name, pid in replica.children().items():
                out[f"{name}{suffix}"] = procs.tree(pid)
        for name, proc in self._infra.items():
            out[name] = procs.tree(proc.pid)
        return out

    def memory(self) -> dict[str, float]:
        """Resident MiB of every process the stack started (see `processes`)."""
        return {
            label: sum(procs.rss_kib(p) for p in pids) / 1024
            for label, pids in self.processes().items()
        }

    def cpu_seconds(self) -> dict[str, float]:
        """CPU seconds (user + system) every process the stack started has used so far."""
        return {
            label: sum(procs.cpu_seconds(p) for p in pids)
            for label, pids in self.processes().items()
        }

    def db_operations(self) -> dict[str, int]:
        """The database's operation counters so far (serverStatus opcounters: insert, query,
        update, delete, getmore, command; a transaction's commit is a command)."""
        client = pymongo.MongoClient(self.mongo_url, serverSelectionTimeoutMS=5000)
        try:
            counters = client.admin.command("serverStatus").get("opcounters", {})
            return {k: int(v) for k, v in counters.items()}
        finally:
            client.close()

    def wait_quiet(self, timeout: float = 180.0, checks: int = 3) -> float:
        """Waits until no consumer queue of the namespace has a message waiting, `checks` times
        in a row 0.5 s apart (a backlog of events from one scenario would otherwise load the
        next); returns the seconds waited. Bounded by `timeout`."""
        started = time.monotonic()
        connection = bus.connect(self.amqp_url)
        try:
            channel = connection.channel()
            quiet = 0
            while quiet < checks and time.monotonic() - started < timeout:
                waiting = 0
                for service in CONSUMERS:
                    try:
                        declared = channel.queue_declare(
                            bus.queue_name(self.namespace, service), passive=True
                        )
                    except pika.exceptions.ChannelClosedByBroker:  # no such queue (yet)
                        channel = connection.channel()
                        continue
                    waiting += declared.method.message_count
                quiet = quiet + 1 if waiting == 0 else 0
                time.sleep(0.5)
        finally:
            connection.close()
        return time.monotonic() - started

    def log_text(self) -> str:
        return "".join(r.log.read_text(errors="replace") for r in self.replicas)

    def error_lines(self) -> list[str]:
        """ERROR (or worse) log lines written so far by every process of every replica."""
        return [
            line
            for line in self.log_text().splitlines()
            if re.search(r'"level": "(?:error|critical)"', line)
        ]

    def _stop_replica(self, replica: Replica) -> None:
        if replica.proc.poll() is None:
            replica.proc.send_signal(signal.SIGTERM)
            try:
                replica.proc.wait(60)
            except subprocess.TimeoutExpired:
                os.killpg(replica.proc.pid, signal.SIGKILL)
                replica.proc.wait()

    def stop(self) -> None:
        for replica in reversed(self.replicas):
            self._stop_replica(replica)
        for proc in reversed(self._infra.values()):
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(15)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
        self._infra.clear()
        self._remove_namespace()
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def _remove_namespace(self) -> None:
        """What the namespace left on the shared RabbitMQ and Redis (the database was private)."""
        ns = self.namespace
        with contextlib.suppress(Exception):
            connection = bus.connect(self.amqp_url)
            channel = connection.channel()
            delays = set(self.settings.event_retry_delays_ms) | {200, 1000, 5000, 15000}
            for service in CONSUMERS:
                names = [bus.queue_name(ns, service), bus.dead_queue_name(ns, service)]
                names += [bus.retry_queue_name(ns, service, d) for d in sorted(delays)]
                for name in names:
                    channel.queue_delete(name)
            channel.exchange_delete(bus.exchange_name(ns))
            connection.close()
        with contextlib.suppress(Exception):
            client = redis.Redis.from_url(self.settings.redis_url.get_secret_value())
            keys = list(client.scan_iter(f"{ns}:*"))
            if keys:
                client.delete(*keys)
