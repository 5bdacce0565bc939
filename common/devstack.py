"""`ticketing run`: the whole marketplace on one machine, in the foreground.

Starts what is missing of the infrastructure (SecantusDB when MONGO_URL is unset; a private
RabbitMQ or Redis only if the configured one does not answer and the server is installed), every
service and the gateway as child processes, waits until the gateway's /readyz is 200, and then
stays until Ctrl-C or SIGTERM, when it stops the children in reverse order. If a child dies on
its own the whole stack stops, so a half-running stack never looks healthy.

State lives under TICKETING_RUN_DIR (default `.run/`): the embedded database, the dev JWT key
pair (created once when no key is configured), and `stack.json` with the children's pids.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import pika
import pika.exceptions
import redis

from common.config import CommonSettings, ConfigError
from common.jwt import generate_key_pair
from common.services import SERVICES

STOP_TIMEOUT = 15.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_is_free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def wait_for_port(port: int, timeout: float, child: subprocess.Popen | None = None) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if child is not None and child.poll() is not None:
            return False
        with socket.socket() as s:
            s.settimeout(0.5)
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return True
        time.sleep(0.1)
    return False


def say(message: str) -> None:
    print(f"[ticketing run] {message}", flush=True)


def _die_with_parent() -> None:
    """In the child: ask Linux to SIGTERM it if `ticketing run` itself is killed outright."""
    with contextlib.suppress(Exception):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def tool(name: str) -> str | None:
    """An executable from this virtualenv first, then from PATH."""
    local = Path(sys.executable).parent / name
    return str(local) if local.exists() else shutil.which(name)


@dataclass
class Stack:
    run_dir: Path
    env: dict[str, str]
    children: list[tuple[str, subprocess.Popen]] = field(default_factory=list)

    def spawn(
        self, name: str, argv: list[str], env: dict[str, str] | None = None, quiet: bool = False
    ) -> subprocess.Popen:
        out = subprocess.DEVNULL if quiet else None
        child = subprocess.Popen(
            argv,
            env=env or self.env,
            stdout=out,
            stderr=out,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # Ctrl-C reaches only us; we stop the children in order
            preexec_fn=_die_with_parent,
        )
        self.children.append((name, child))
        self._write_pids()
        return child

    def _write_pids(self) -> None:
        """What is running where, for operators and tests (removed when the stack stops)."""
        pids = {name: child.pid for name, child in self.children}
        state = {
            "pid": os.getpid(),
            "children": pids,
            "mongo_url": self.env.get("MONGO_URL"),
            "stripe_api_base": self.env.get("STRIPE_API_BASE"),
        }
        (self.run_dir / "stack.json").write_text(json.dumps(state))

    def dead_child(self) -> str | None:
        for name, child in self.children:
            if child.poll() is not None:
                return f"{name} exited with code {child.returncode}"
        return None

    def stop(self) -> None:
        for name, child in reversed(self.children):
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
                try:
                    child.wait(STOP_TIMEOUT)
                except subprocess.TimeoutExpired:
                    say(f"{name} did not stop in {STOP_TIMEOUT:.0f}s; killing it")
                    child.kill()
                    child.wait()
        self.children.clear()
        with contextlib.suppress(FileNotFoundError):
            (self.run_dir / "stack.json").unlink()


class StackError(RuntimeError):
    pass


def _rabbit_answers(url: str) -> bool:
    try:
        params = pika.URLParameters(url)
        params.connection_attempts, params.socket_timeout = 1, 2
        pika.BlockingConnection(params).close()
        return True
    except pika.exceptions.AMQPError:
        return False


def _redis_answers(url: str) -> bool:
    try:
        return bool(redis.Redis.from_url(url, socket_timeout=2).ping())
    except redis.RedisError:
        return False


def ensure_rabbitmq(stack: Stack) -> None:
    url = stack.env.get("AMQP_URL") or CommonSettings.amqp_url
    if _rabbit_answers(url):
        return
    server = shutil.which("rabbitmq-server")
    if not server:
        raise StackError(
            f"RabbitMQ does not answer at {url} and rabbitmq-server is not installed.\n"
            "Start one (`rabbitmq-server -detached`), install it (`apt-get install "
            "rabbitmq-server`), or point AMQP_URL at a running broker."
        )
    port, dist_port = free_port(), free_port()
    base = stack.run_dir / "rabbitmq"
    env = {
        **stack.env,
        "RABBITMQ_NODE_PORT": str(port),
        "RABBITMQ_DIST_PORT": str(dist_port),
        "RABBITMQ_NODENAME": f"ticketing{port}@localhost",
        "RABBITMQ_MNESIA_BASE": str(base / "mnesia"),
        "RABBITMQ_LOG_BASE": str(base / "log"),
        "RABBITMQ_ENABLED_PLUGINS_FILE": str(base / "enabled_plugins"),
        "RABBITMQ_SERVER_START_ARGS": f"-kernel inet_dist_listen_min {dist_port} "
        f"inet_dist_listen_max {dist_port}",
    }
    base.mkdir(parents=True, exist_ok=True)
    (base / "enabled_plugins").write_text("[].\n")
    say(f"RabbitMQ not answering at {url}; starting a private one on port {port}")
    child = stack.spawn("rabbitmq", [server], env, quiet=True)
    url = f"amqp://guest:guest@127.0.0.1:{port}/%2F"
    deadline = time.monotonic() + 60
    while not _rabbit_answers(url):
        if child.poll() is not None or time.monotonic() > deadline:
            raise StackError(f"the private RabbitMQ did not start (logs: {base / 'log'})")
        time.sleep(0.5)
    stack.env["AMQP_URL"] = url


def ensure_redis(stack: Stack) -> None:
    url = stack.env.get("REDIS_URL") or CommonSettings.redis_url
    if _redis_answers(url):
        return
    server = shutil.which("redis-server")
    if not server:
        raise StackError(
            f"Redis does not answer at {url} and redis-server is not installed.\n"
            "Start one (`redis-server --daemonize yes`), install it (`apt-get install "
            "redis-server`), or point REDIS_URL at a running server."
        )
    port = free_port()
    say(f"Redis not answering at {url}; starting a private one on port {port}")
    argv = [server, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    child = stack.spawn("redis", argv, quiet=True)
    if not wait_for_port(port, 20, child):
        raise StackError("the private Redis did not start")
    stack.env["REDIS_URL"] = f"redis://127.0.0.1:{port}/0"


def ensure_mongo(stack: Stack) -> None:
    if stack.env.get("MONGO_URL"):
        return
    server = tool("secantusd-py")
    if not server:
        raise StackError(
            "MONGO_URL is unset and the embedded database (secantusd-py, from the dev extra "
            "`secantusdb`) is not installed: run `make run`, or set MONGO_URL."
        )
    port = 27017 if port_is_free(27017) else free_port()
    data = stack.run_dir / "mongo"
    data.mkdir(parents=True, exist_ok=True)
    argv = [server, "--host", "127.0.0.1", "--port", str(port), "--storage-path", str(data)]
    argv += ["--log-level", "WARNING"]
    say(f"starting the embedded MongoDB (SecantusDB) on port {port}, data in {data}")
    child = stack.spawn("mongo", argv)
    if not wait_for_port(port, 60, child):
        raise StackError("the embedded MongoDB (SecantusDB) did not start")
    stack.env["MONGO_URL"] = f"mongodb://127.0.0.1:{port}/?replicaSet=secantus"
    stack._write_pids()


DEV_WEBHOOK_SECRET = "whsec_ticketing_local_development"


def ensure_stripe(stack: Stack) -> str | None:
    """localstripe, unless a Stripe account or a Stripe-compatible server is configured.
    Returns the base URL of the localstripe started, if any."""
    env = stack.env
    if (
        env.get("STRIPE_API_BASE")
        or env.get("STRIPE_SECRET_KEY")
        or env.get("STRIPE_SECRET_KEY_FILE")
    ):
        return None
    server = tool("localstripe")
    if not server:
        raise StackError(
            "No Stripe is configured and localstripe (dev extra) is not installed: run "
            "`make run`, or set STRIPE_SECRET_KEY (and STRIPE_API_BASE for a Stripe-compatible "
            "server)."
        )
    port = 8420 if port_is_free(8420) else free_port()
    say(f"starting localstripe (a local Stripe) on port {port}")
    child = stack.spawn("localstripe", [server, "--port", str(port), "--from-scratch"], quiet=True)
    if not wait_for_port(port, 30, child):
        raise StackError("localstripe did not start")
    base = f"http://127.0.0.1:{port}"
    env["STRIPE_API_BASE"] = base
    env["STRIPE_SECRET_KEY"] = "sk_test_localstripe"
    env.setdefault("STRIPE_WEBHOOK_SECRET", DEV_WEBHOOK_SECRET)
    stack._write_pids()
    return base


def register_webhook(stripe_base: str, gateway_url: str, secret: str) -> None:
    """Tells localstripe to deliver signed events to the gateway's webhook."""
    data = urllib.parse.urlencode({"url": f"{gateway_url}/webhooks/stripe", "secret": secret})
    request = urllib.request.Request(
        f"{stripe_base}/_config/webhooks/gateway", data=data.encode(), method="POST"
    )
    with urllib.request.urlopen(request, timeout=10):
        pass


def ensure_jwt_keys(stack: Stack) -> None:
    env = stack.env
    if env.get("JWT_PUBLIC_KEY") or env.get("JWT_PUBLIC_KEY_FILE"):
        if not (env.get("JWT_PRIVATE_KEY") or env.get("JWT_PRIVATE_KEY_FILE")):
            raise StackError("JWT_PUBLIC_KEY is set without JWT_PRIVATE_KEY; set both or neither")
        return
    keys = stack.run_dir / "jwt"
    private, public = keys / "private.pem", keys / "public.pem"
    if not (private.exists() and public.exists()):
        keys.mkdir(parents=True, exist_ok=True)
        private_pem, public_pem = generate_key_pair()
        private.write_text(private_pem)
        private.chmod(0o600)
        public.write_text(public_pem)
        say(f"created a development JWT key pair in {keys}")
    env["JWT_PRIVATE_KEY_FILE"], env["JWT_PUBLIC_KEY_FILE"] = str(private), str(public)


def wait_ready(stack: Stack, url: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if problem := stack.dead_child():
            raise StackError(problem)
        try:
            with urllib.request.urlopen(url, timeout=2) as reply:
                if reply.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.3)
    raise StackError(f"the stack was not ready after {timeout:.0f}s ({url})")


def main() -> int:
    run_dir = Path(os.environ.get("TICKETING_RUN_DIR", ".run")).resolve()
    run_dir.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    env.setdefault("BIND_HOST", "127.0.0.1")
    env.setdefault("COOKIE_SECURE", "false")  # plain http on localhost
    env.setdefault("PYTHONUNBUFFERED", "1")
    try:
        settings = CommonSettings.from_env(env)
    except ConfigError as exc:
        say(f"configuration error: {exc}")
        return 2
    gateway_port = int(env.get("GATEWAY_PORT", "8000"))
    stack = Stack(run_dir, env)
    stopping = False

    def on_signal(signum: int, frame: object) -> None:
        nonlocal stopping
        stopping = True
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    code = 0
    try:
        ensure_rabbitmq(stack)
        ensure_redis(stack)
        ensure_mongo(stack)
        localstripe = ensure_stripe(stack)
        ensure_jwt_keys(stack)
        for spec in SERVICES:
            child_env = dict(stack.env)
            if spec.name != "auth":  # only auth may sign tokens
                child_env.pop("JWT_PRIVATE_KEY", None)
                child_env.pop("JWT_PRIVATE_KEY_FILE", None)
            package = spec.module.removesuffix(".__main__")
            stack.spawn(spec.name, [sys.executable, "-m", package], child_env)
        base = f"http://127.0.0.1:{gateway_port}"
        wait_ready(stack, f"{base}/readyz", timeout=90)
        if localstripe:
            register_webhook(localstripe, base, stack.env["STRIPE_WEBHOOK_SECRET"])
        say(f"ready (namespace {settings.namespace})")
        say(f"GraphQL: {base}/graphql  (open it in a browser for GraphiQL)")
        say(f"gRPC:    grpcurl -plaintext localhost:{settings.auth_port} list")
        say("Ctrl-C to stop")
        while not stopping:
            if problem := stack.dead_child():
                raise StackError(problem)
            time.sleep(0.5)
    except StackError as exc:
        say(f"error: {exc}")
        code = 1
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        say("stopping")
        stack.stop()
        say("stopped")
    return code
