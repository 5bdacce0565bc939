"""The system under test: SecantusDB, localstripe and N replicas of every service and the gateway,
each replica a `ticketing run` of its own on free ports, all sharing one private namespace, one
database and one key pair (so N replicas compete exactly as pods of one Deployment would).

RabbitMQ and Redis are the machine's (AMQP_URL / REDIS_URL, as `ticketing run` reads them); what
the namespace created there is removed when the stack stops.
"""

from __future__ import annotations

import contextlib
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
import pymongo
import redis

from common import bus
from common.config import CommonSettings
from common.devstack.infra import DEV_WEBHOOK_SECRET, tool
from common.jwt import generate_key_pair
from common.ports import free_port, wait_for_port
from common.services import GRPC_SERVICES, SERVICES

REPO = Path(__file__).resolve().parent.parent
READY_LINE = "[ticketing run] ready"
# What a namespace may have declared on the shared broker (consumers, their retry and dead queues).
CONSUMERS = tuple(s.name for s in GRPC_SERVICES)


class StackFailed(RuntimeError):
    pass


@dataclass
class Replica:
    index: int
    proc: subprocess.Popen
    ports: dict[str, int]
    log: Path

    def addr(self, service: str) -> str:
        return f"127.0.0.1:{self.ports[service]}"

    @property
    def gateway_url(self) -> str:
        return f"http://127.0.0.1:{self.ports['gateway']}"


@dataclass
class BenchStack:
    replicas_wanted: int = 1
    extra_env: dict[str, str] = field(default_factory=dict)
    namespace: str = field(default_factory=lambda: f"bench{uuid.uuid4().hex[:8]}")
    replicas: list[Replica] = field(default_factory=list)
    mongo_url: str = ""
    settings: CommonSettings = field(default_factory=CommonSettings.from_env)
    _infra: list[subprocess.Popen] = field(default_factory=list)
    _tmp: tempfile.TemporaryDirectory | None = None
    _channels: dict[str, grpc.aio.Channel] = field(default_factory=dict)

    @property
    def amqp_url(self) -> str:
        return self.settings.amqp_url

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
        except BaseException:
            self.stop()
            raise

    def _spawn_infra(self, argv: list[str], port: int, name: str) -> None:
        proc = subprocess.Popen(
            argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
        )
        self._infra.append(proc)
        if not wait_for_port(port, 60, proc):
            raise StackFailed(f"{name} did not start on port {port}")

    def _shared_env(self) -> dict[str, str]:
        secantus, localstripe = tool("secantusd-py"), tool("localstripe")
        if not (secantus and localstripe):
            raise StackFailed("secantusd-py and localstripe are needed: run `make install`")
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
        stripe_port = free_port()
        self._spawn_infra(
            [localstripe, "--port", str(stripe_port), "--from-scratch"], stripe_port, "localstripe"
        )
        keys = self.workdir / "jwt"
        keys.mkdir()
        private_pem, public_pem = generate_key_pair()
        (keys / "private.pem").write_text(private_pem)
        (keys / "public.pem").write_text(public_pem)
        # Children import this checkout's code (and its generated stubs), whatever is installed.
        pythonpath = os.pathsep.join(
            p for p in (str(REPO), str(REPO / "gen"), os.environ.get("PYTHONPATH")) if p
        )
        return {
            **{k: v for k, v in os.environ.items() if not k.endswith(("_PORT", "_ADDR"))},
            "PYTHONPATH": pythonpath,
            "TICKETING_NAMESPACE": self.namespace,
            "MONGO_URL": self.mongo_url,
            "STRIPE_API_BASE": f"http://127.0.0.1:{stripe_port}",
            "STRIPE_SECRET_KEY": "sk_test_localstripe",
            "STRIPE_WEBHOOK_SECRET": DEV_WEBHOOK_SECRET,
            "JWT_PRIVATE_KEY_FILE": str(keys / "private.pem"),
            "JWT_PUBLIC_KEY_FILE": str(keys / "public.pem"),
            "LOG_LEVEL": "WARNING",
            **self.extra_env,
        }

    def _start_replica(self, index: int, shared: dict[str, str], timeout: float) -> Replica:
        ports = {spec.name: free_port() for spec in SERVICES}
        run_dir = self.workdir / f"replica{index}"
        run_dir.mkdir()
        env = {
            **shared,
            **{f"{name.upper()}_PORT": str(port) for name, port in ports.items()},
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
        replica = Replica(index, proc, ports, log)
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
            self._channels[key] = grpc.aio.insecure_channel(self.replicas[replica].addr(service))
        return self._channels[key]

    async def close_channels(self) -> None:
        for channel in self._channels.values():
            await channel.close()
        self._channels.clear()

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
        for proc in reversed(self._infra):
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
            client = redis.Redis.from_url(self.settings.redis_url)
            keys = list(client.scan_iter(f"{ns}:*"))
            if keys:
                client.delete(*keys)
