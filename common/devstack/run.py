"""`ticketing run`'s course: claim the run directory and every port, start the infrastructure
and the services, wait until each answers, then supervise until Ctrl-C or SIGTERM."""

from __future__ import annotations

import os
import signal
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from pydantic import Field

from common.command_paths import as_typed
from common.config import CommonSettings
from common.devstack.children import RestartPolicy, say
from common.devstack.dev_defaults import dev_defaults, limits_banner
from common.devstack.infra import (
    ensure_jwt_keys,
    ensure_mongo,
    ensure_rabbitmq,
    ensure_redis,
    ensure_service_keys,
    ensure_stripe,
    ensure_ticket_keys,
    stripe_is_configured,
    tool,
)
from common.devstack.listeners import answers, listens_on, taken_by_another
from common.devstack.mail import ensure_mail, smtp_is_configured
from common.devstack.stack import Stack, StackError, lock_run_dir
from common.ports import port_in_use_message, port_is_free
from common.processes import GRPC_SERVICES, SERVICES
from common.settings import POSITIVE, ConfigError, Settings, at_least, between

READY_TIMEOUT = 90.0


class RunSettings(Settings):
    """What `ticketing run` itself reads (the services read their own settings)."""

    ticketing_run_dir: str = Field(
        ".run",
        description="Where `ticketing run` keeps its state, logs, keys and the embedded "
        "servers' data; `ticketing users` and `ticketing events` find the running stack there.",
    )
    gateway_port: int = Field(
        8000,
        description="The gateway's public port, as GatewaySettings has it (the gateway reads it "
        "itself; `ticketing run` claims it before anything starts).",
    )
    gateway_admin_port: int = Field(
        9100,
        description="The gateway's admin port, as GatewaySettings has it: claimed before "
        "anything starts, and the readiness wait asks it.",
    )
    mongo_port: Annotated[int, between(1, 65535)] = Field(
        27017,
        description="The embedded MongoDB's port (SecantusDB, when MONGO_URL is unset). A taken "
        "port is refused like every other, never swapped for a free one.",
    )
    stripe_port: Annotated[int, between(1, 65535)] = Field(
        8420,
        description="The Stripe stand-in's port (when no Stripe is configured); a taken one is "
        "refused.",
    )
    mail_smtp_port: Annotated[int, between(1, 65535)] = Field(
        1025,
        description="The development mail server's SMTP port (maildev, when SMTP_HOST is "
        "unset): notifications sends there.",
    )
    mail_web_port: Annotated[int, between(1, 65535)] = Field(
        1080,
        description="The development mail server's web view of the mail it received (and its "
        "REST API, GET /email).",
    )
    ticketing_run_max_restarts: Annotated[int, at_least(0, "must be 0 or more")] = Field(
        5,
        description="A child that exits more than this many times within "
        "TICKETING_RUN_RESTART_WINDOW_SECONDS stops the stack: a crash loop (a bad setting, a "
        "taken port) shows within seconds, while a crash now and then (a killed process, an "
        "out-of-memory kill) is restarted for as long as the stack runs.",
    )
    ticketing_run_restart_window_seconds: Annotated[float, POSITIVE] = Field(
        60.0, description="The window of TICKETING_RUN_MAX_RESTARTS."
    )

    def restart_policy(self) -> RestartPolicy:
        return RestartPolicy(
            max_restarts=self.ticketing_run_max_restarts,
            window_seconds=self.ticketing_run_restart_window_seconds,
        )


@dataclass(frozen=True)
class PortPlan:
    """Every port the stack will listen on, decided before anything starts."""

    configured: dict[str, int]  # the services' and the gateway's: setting -> port
    mongo: int | None  # the embedded database's, when MONGO_URL is unset
    stripe_standin: int | None  # when no Stripe is configured
    # maildev's SMTP and web ports, when no SMTP relay is configured.
    mail: tuple[int, int] | None = None

    def by_setting(self) -> dict[str, int]:
        """Every port the stack will listen on, by the setting that chooses it."""
        ports = dict(self.configured)
        if self.mongo is not None:
            ports["MONGO_PORT"] = self.mongo
        if self.stripe_standin is not None:
            ports["STRIPE_PORT"] = self.stripe_standin
        if self.mail is not None:
            ports["MAIL_SMTP_PORT"], ports["MAIL_WEB_PORT"] = self.mail
        return ports

    def problems(self, host: str) -> list[str]:
        by_port: dict[int, list[str]] = {}
        for setting, port in self.by_setting().items():
            by_port.setdefault(port, []).append(setting)
        problems = [
            f"{' and '.join(settings)} share port {port}"
            for port, settings in by_port.items()
            if len(settings) > 1
        ]
        # The infrastructure listens on 127.0.0.1 whatever BIND_HOST says.
        problems += [
            port_in_use_message(port, setting)
            for setting, port in self.by_setting().items()
            if not port_is_free(port, host if setting in self.configured else "127.0.0.1")
        ]
        return problems


def plan_ports(settings: CommonSettings, run: RunSettings, env: dict[str, str]) -> PortPlan:
    configured = {"GATEWAY_PORT": run.gateway_port, "GATEWAY_ADMIN_PORT": run.gateway_admin_port}
    configured |= {f"{s.name.upper()}_PORT": settings.port_of(s.name) for s in GRPC_SERVICES}
    configured |= {
        f"{s.name.upper()}_METRICS_PORT": settings.metrics_port_of(s.name)
        for s in GRPC_SERVICES
        if settings.metrics_port_of(s.name)  # 0: no metrics server
    }
    mongo = None if env.get("MONGO_URL") else run.mongo_port
    stripe_standin = None if stripe_is_configured(env) else run.stripe_port
    mail = None if smtp_is_configured(env) else (run.mail_smtp_port, run.mail_web_port)
    return PortPlan(configured, mongo, stripe_standin, mail)


def _serving(port: int) -> bool:
    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        try:
            reply = health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest(), timeout=1
            )
        except grpc.RpcError:
            return False
    return reply.status == health_pb2.HealthCheckResponse.SERVING


def _http_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as reply:
            return reply.status == 200
    except (urllib.error.URLError, OSError):
        return False


def owner_of(setting: str) -> str:
    """The child that listens on a port setting's port: GATEWAY_PORT and GATEWAY_ADMIN_PORT the
    gateway, ORDERS_PORT and ORDERS_METRICS_PORT orders."""
    return setting.split("_", 1)[0].lower()


def wait_ready(stack: Stack, plan: PortPlan, admin_url: str, timeout: float) -> None:
    """Until every port of the plan is held by the child it was given to, every gRPC service's
    health check says SERVING and the gateway is ready, restarting what dies meanwhile. Each
    service is asked itself, so "ready" does not depend on what the gateway's /readyz covers;
    and only once it holds its port, so another stack's service on that port is never asked."""
    unowned = dict(plan.configured)
    waiting = {s.name: plan.configured[f"{s.name.upper()}_PORT"] for s in GRPC_SERVICES}
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        stack.supervise()
        for setting, port in list(unowned.items()):
            if listens_on(stack.child(owner_of(setting)), port):
                del unowned[setting]
        for name, port in list(waiting.items()):
            if f"{name.upper()}_PORT" not in unowned and _serving(port):
                del waiting[name]
        if not waiting and not unowned and _http_ok(f"{admin_url}/readyz"):
            return
        time.sleep(0.3)
    for setting, port in unowned.items():
        if answers(port):
            raise StackError(taken_by_another(port, setting, owner_of(setting)))
    missing = ", ".join(waiting) or "the gateway"
    raise StackError(f"the stack was not ready after {timeout:.0f}s (waiting for {missing})")


def start_services(stack: Stack) -> None:
    for spec in SERVICES:
        child_env = dict(stack.env)
        if spec.name != "auth":  # only auth may sign tokens
            child_env.pop("JWT_PRIVATE_KEY", None)
            child_env.pop("JWT_PRIVATE_KEY_FILE", None)
        # Its own service key only.
        if "SERVICE_PRIVATE_KEY_FILE" in child_env:
            own = child_env["SERVICE_PRIVATE_KEY_FILE"].replace("{service}", spec.name)
            child_env["SERVICE_PRIVATE_KEY_FILE"] = own
        package = spec.module.removesuffix(".__main__")
        stack.spawn(spec.name, [sys.executable, "-m", package], child_env)


def main() -> int:
    env = dev_defaults(os.environ)
    try:
        settings = CommonSettings.from_env(env)
        run = RunSettings.from_env(env)
    except ConfigError as exc:
        say(f"configuration error: {exc}")
        return 2
    # Recorded in the run directory's state, where `ticketing users` and `ticketing events`
    # find it (common/run_state.py).
    env["TICKETING_NAMESPACE"] = settings.namespace
    run_dir = Path(run.ticketing_run_dir).resolve()
    run_dir.mkdir(parents=True, exist_ok=True)
    # The insights service's DuckDB file, beside the embedded database's.
    env.setdefault("INSIGHTS_DB_PATH", str(run_dir / "insights" / "events.duckdb"))
    try:
        lock = lock_run_dir(run_dir)
    except StackError as exc:
        say(f"error: {exc}")
        return 1
    try:
        plan = plan_ports(settings, run, env)
        if problems := plan.problems(settings.bind_host):
            say("error: nothing was started, because of these ports:")
            for problem in problems:
                say(f"  {problem}")
            say("stop what listens there (another `ticketing run`?) or set them to free ports")
            return 1
        stack = Stack(run_dir, env, run.restart_policy(), ports=plan.by_setting())
        return _run(stack, settings, plan)
    finally:
        os.close(lock)


def _run(stack: Stack, settings: CommonSettings, plan: PortPlan) -> int:
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
        ensure_mongo(stack, plan.mongo)
        base = f"http://127.0.0.1:{plan.configured['GATEWAY_PORT']}"
        # Stripe sends a seller back from its onboarding to this stack's own web app.
        stack.env.setdefault("SELLER_ONBOARDING_URL", f"{base}/payouts")
        ensure_stripe(stack, plan.stripe_standin, base)
        ensure_mail(stack, *(plan.mail or (None, None)))
        ensure_jwt_keys(stack)
        ensure_service_keys(stack)
        ensure_ticket_keys(stack)
        start_services(stack)
        admin = f"http://127.0.0.1:{plan.configured['GATEWAY_ADMIN_PORT']}"
        wait_ready(stack, plan, admin, timeout=READY_TIMEOUT)
        stack.mark_ready()
        say(f"ready (namespace {settings.namespace})")
        say(f"Web app: {base}/  (`make web` builds it; `make run` does)")
        say(f"GraphQL: {base}/graphql  (open it in a browser for GraphiQL)")
        say(f"Limits:  {limits_banner(stack.env)}")
        grpcurl = tool("grpcurl")
        if grpcurl is not None:
            say(f"gRPC:    {as_typed(grpcurl)} -plaintext localhost:{settings.auth_port} list")
        else:
            say(f"gRPC:    localhost:{settings.auth_port} (grpcurl comes with `make install`)")
        services = ", ".join(
            f"{s.name} :{settings.metrics_port_of(s.name)}"
            for s in GRPC_SERVICES
            if settings.metrics_port_of(s.name)
        )
        say(f"Metrics: {admin}/metrics; /metrics of {services or 'no service'}")
        say(f"Probes:  {admin}/healthz, /readyz, /healthz/deps")
        if plan.mail is not None:
            smtp, web = plan.mail
            say(f"Mail:    http://127.0.0.1:{web}/  (the mail notifications sent; SMTP :{smtp})")
        say("Ctrl-C to stop")
        while not stopping:
            stack.supervise()
            time.sleep(0.2)
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
