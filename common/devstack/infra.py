"""What `ticketing run` starts when it is missing: a private RabbitMQ or Redis (only if the
configured one does not answer), SecantusDB (when MONGO_URL is unset), the project's Stripe
stand-in (`stripe_standin/`, when no Stripe is configured), and a development JWT key pair.
Each server it starts is a supervised child, listens on 127.0.0.1 only, is accepted once it
holds its port itself (listeners.py), and is restarted on the same port with the same data."""

from __future__ import annotations

import os
import shutil
import sys
import time
from pathlib import Path

import pika
import pika.exceptions
import redis

from common.config import DEFAULT_AMQP_URL, DEFAULT_REDIS_URL
from common.devstack.children import Child, say
from common.devstack.listeners import wait_until_listening
from common.devstack.stack import Stack, StackError
from common.jwt import generate_key_pair
from common.ports import free_port
from common.service_identity import generate_keys, key_settings

DEV_WEBHOOK_SECRET = "whsec_ticketing_local_development"
CHECKOUT = Path(__file__).resolve().parents[2]  # the source checkout `ticketing run` runs from
MONGO = "embedded MongoDB (SecantusDB)"


def tool(name: str) -> str | None:
    """An executable from this virtualenv first, then from PATH."""
    local = Path(sys.executable).parent / name
    return str(local) if local.exists() else shutil.which(name)


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
    url = stack.env.get("AMQP_URL") or DEFAULT_AMQP_URL
    if _rabbit_answers(url):
        stack.env["AMQP_URL"] = url  # recorded in the state, as the private one's is
        return
    server = shutil.which("rabbitmq-server")
    if not server:
        raise StackError(
            f"RabbitMQ does not answer at {url} and rabbitmq-server is not installed.\n"
            "Start one (`rabbitmq-server -detached`), install it (`apt-get install "
            "rabbitmq-server`), or point AMQP_URL at a running broker."
        )
    port = free_port()
    base = stack.run_dir / "rabbitmq"
    env = {**stack.env, **private_rabbitmq_env(base, port, free_port(), f"ticketing{port}")}
    say(f"RabbitMQ not answering at {url}; starting a private one on port {port}")
    child = stack.spawn("rabbitmq", [rabbitmq_server(server)], env, quiet=True)
    url = f"amqp://guest:guest@127.0.0.1:{port}/%2F"
    deadline = time.monotonic() + 60
    while not _rabbit_answers(url):
        if child.exit_code() is not None or time.monotonic() > deadline:
            raise StackError(f"the private RabbitMQ did not start (logs: {base / 'log'})")
        time.sleep(0.5)
    wait_until_listening(child, port, 10, "private RabbitMQ")
    stack.env["AMQP_URL"] = url


def rabbitmq_server(found: str) -> str:
    """The packaged /usr/sbin wrapper switches to the rabbitmq user (when started by root), who
    cannot write a run directory of ours; the script it wraps runs as whoever starts it."""
    script = Path("/usr/lib/rabbitmq/bin/rabbitmq-server")
    return str(script) if script.exists() else found


def private_rabbitmq_env(base: Path, port: int, dist_port: int, node: str) -> dict[str, str]:
    """The environment of a RabbitMQ node of its own, on 127.0.0.1 only: node name, AMQP and
    distribution ports, Erlang cookie (HOME), config, mnesia and logs in `base`. The machine's
    /etc/rabbitmq config would pin the listener to 5672 on every interface, so the node gets a
    config file and an env file of its own; no plugins (no management listener)."""
    base.mkdir(parents=True, exist_ok=True)
    (base / "enabled_plugins").write_text("[].\n")
    (base / "rabbitmq.conf").write_text(f"listeners.tcp.local = 127.0.0.1:{port}\n")
    # epmd, if this node is the one that starts it, on loopback too.
    (base / "rabbitmq-env.conf").write_text("ERL_EPMD_ADDRESS=127.0.0.1\n")
    return {
        "HOME": str(base),
        "RABBITMQ_CONFIG_FILE": str(base / "rabbitmq.conf"),
        "RABBITMQ_CONF_ENV_FILE": str(base / "rabbitmq-env.conf"),
        "RABBITMQ_ENABLED_PLUGINS_FILE": str(base / "enabled_plugins"),
        "RABBITMQ_NODE_PORT": str(port),
        "RABBITMQ_DIST_PORT": str(dist_port),
        "RABBITMQ_NODENAME": f"{node}@localhost",
        "RABBITMQ_MNESIA_BASE": str(base / "mnesia"),
        "RABBITMQ_LOG_BASE": str(base / "log"),
        "RABBITMQ_SERVER_START_ARGS": (
            f"-kernel inet_dist_listen_min {dist_port} inet_dist_listen_max {dist_port} "
            "inet_dist_use_interface {127,0,0,1}"
        ),
    }


def ensure_redis(stack: Stack) -> None:
    url = stack.env.get("REDIS_URL") or DEFAULT_REDIS_URL
    if _redis_answers(url):
        stack.env["REDIS_URL"] = url
        return
    server = shutil.which("redis-server")
    if not server:
        raise StackError(
            f"Redis does not answer at {url} and redis-server is not installed.\n"
            "Start one (`redis-server --daemonize yes`), install it (`apt-get install "
            "redis-server`), or point REDIS_URL at a running server."
        )
    port = free_port()
    data = stack.run_dir / "redis"
    data.mkdir(parents=True, exist_ok=True)
    say(f"Redis not answering at {url}; starting a private one on port {port}, data in {data}")
    # Append-only file: the expiry schedule and revoked tokens survive a restart of Redis (or
    # of the stack). Each write reaches the file before its reply, so a killed redis-server
    # loses nothing it acknowledged; only a machine crash may lose the last second.
    argv = [server, "--port", str(port), "--bind", "127.0.0.1", "--save", ""]
    argv += ["--appendonly", "yes", "--dir", str(data)]
    child = stack.spawn("redis", argv, quiet=True)
    wait_until_listening(child, port, 20, "private Redis")
    stack.env["REDIS_URL"] = f"redis://127.0.0.1:{port}/0"


def secantus_argv(port: int, storage: str) -> list[str]:
    """SecantusDB as `ticketing run` (and the chaos test) starts it. `--sync-on-commit`: each
    commit is on disk before it is acknowledged. Without it a SIGKILL during writes lost 11-19
    acknowledged writes per kill (four writers flat out; in the chaos test, a ticket its seller
    had been shown); with it none, for about 23 % of the write throughput."""
    server = tool("secantusd-py")
    if not server:
        raise StackError(
            "MONGO_URL is unset and the embedded database (secantusd-py, from the dev extra "
            "`secantusdb`) is not installed: run `make run`, or set MONGO_URL."
        )
    argv = [server, "--host", "127.0.0.1", "--port", str(port), "--storage-path", storage]
    return [*argv, "--sync-on-commit", "--log-level", "WARNING"]


def ensure_mongo(stack: Stack, port: int | None) -> None:
    """SecantusDB on `port` (MONGO_PORT) when MONGO_URL is unset."""
    if stack.env.get("MONGO_URL") or port is None:
        return
    data = stack.run_dir / "mongo"
    data.mkdir(parents=True, exist_ok=True)
    argv = secantus_argv(port, str(data))
    say(f"starting the {MONGO} on port {port}, data in {data}")
    child = stack.spawn("mongo", argv)
    wait_until_listening(child, port, 60, MONGO, "MONGO_PORT")
    stack.env["MONGO_URL"] = f"mongodb://127.0.0.1:{port}/?replicaSet=secantus"
    stack.write_state()


def stripe_is_configured(env: dict[str, str]) -> bool:
    keys = ("STRIPE_API_BASE", "STRIPE_SECRET_KEY", "STRIPE_SECRET_KEY_FILE")
    return any(env.get(key) for key in keys)


def stripe_standin_argv(port: int, webhook_url: str, webhook_secret: str) -> list[str]:
    """The Stripe stand-in on 127.0.0.1:`port`, delivering every event to `webhook_url` signed
    with `webhook_secret`: given at start, so a restarted stand-in delivers there again. Run
    from the checkout (CHECKOUT on its PYTHONPATH): the package is not part of the installed
    distribution, so no service image ever holds it."""
    if not (CHECKOUT / "stripe_standin" / "__main__.py").is_file():
        raise StackError(
            "No Stripe is configured and the Stripe stand-in (stripe_standin/ of a source "
            "checkout) is not here: run `make run` from the checkout, or set STRIPE_SECRET_KEY "
            "(and STRIPE_API_BASE for a Stripe-compatible server)."
        )
    return [
        sys.executable,
        "-m",
        "stripe_standin",
        "--port",
        str(port),
        "--webhook",
        webhook_url,
        "--webhook-secret",
        webhook_secret,
    ]


def ensure_stripe(stack: Stack, port: int | None, gateway_url: str) -> Child | None:
    """The Stripe stand-in on `port` (STRIPE_PORT), unless a Stripe account or a
    Stripe-compatible server is configured; its events go to the gateway's webhook at
    `gateway_url`. Returns the stand-in's child, if one was started."""
    env = stack.env
    if stripe_is_configured(env) or port is None:
        return None
    env.setdefault("STRIPE_WEBHOOK_SECRET", DEV_WEBHOOK_SECRET)
    argv = stripe_standin_argv(port, f"{gateway_url}/webhooks/stripe", env["STRIPE_WEBHOOK_SECRET"])
    say(f"starting the Stripe stand-in on port {port}")
    path = os.pathsep.join(p for p in (str(CHECKOUT), env.get("PYTHONPATH")) if p)
    child = stack.spawn("stripe-standin", argv, {**env, "PYTHONPATH": path}, quiet=True)
    wait_until_listening(child, port, 30, "the Stripe stand-in", "STRIPE_PORT")
    env["STRIPE_API_BASE"] = f"http://127.0.0.1:{port}"
    env["STRIPE_SECRET_KEY"] = "sk_test_standin"
    # The web app's card form: the stand-in's Stripe.js, and a publishable key it takes (any
    # pk_ one).
    env.setdefault("STRIPE_JS_URL", f"http://127.0.0.1:{port}/js.stripe.com/v3/")
    env.setdefault("STRIPE_PUBLISHABLE_KEY", "pk_test_standin")
    stack.write_state()
    return child


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


def ensure_service_keys(stack: Stack) -> None:
    """Each process's service key pair (and `cli`'s, for `ticketing service-token`), created
    once in .run/service-keys unless the environment names keys of its own."""
    env = stack.env
    if env.get("SERVICE_PUBLIC_KEYS_DIR"):
        if not (env.get("SERVICE_PRIVATE_KEY") or env.get("SERVICE_PRIVATE_KEY_FILE")):
            raise StackError(
                "SERVICE_PUBLIC_KEYS_DIR is set without SERVICE_PRIVATE_KEY_FILE; set both or "
                "neither"
            )
        return
    if env.get("SERVICE_PRIVATE_KEY") or env.get("SERVICE_PRIVATE_KEY_FILE"):
        raise StackError(
            "SERVICE_PRIVATE_KEY is set without SERVICE_PUBLIC_KEYS_DIR; set both or neither"
        )
    keys = stack.run_dir / "service-keys"
    if not (keys / "public").is_dir():
        say(f"created development service keys in {keys}")
    generate_keys(keys)
    env.update(key_settings(keys))


def ensure_ticket_keys(stack: Stack) -> None:
    """The ticket-code key ring the delivery service signs passes with (README "Ticket codes"),
    created once in .run/ticket-keys unless the environment names a directory of its own."""
    from datetime import UTC, datetime

    from svc_delivery.adapters.signing_keys import RING_FILE, generate

    env = stack.env
    if env.get("TICKET_KEYS_DIR"):
        return
    keys = stack.run_dir / "ticket-keys"
    if not (keys / RING_FILE).exists():
        generate(keys, datetime.now(UTC))
        say(f"created a development ticket-code key in {keys}")
    env["TICKET_KEYS_DIR"] = str(keys)
