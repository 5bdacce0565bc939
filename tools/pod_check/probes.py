"""Probes run the way the kubelet runs them, from outside the container, against the pod's IP.

Each attempt is one request with the probe's timeoutSeconds: httpGet succeeds on a status from
200 to 399 (a redirect counts as success, as the kubelet counts one it does not follow), grpc on
SERVING from grpc.health.v1.Health/Check, tcpSocket on an accepted connection, exec on exit 0.
Attempts come every periodSeconds, the first after initialDelaySeconds from the container's
start (times are the event loop's clock, `loop.time()`). The verdicts follow the kubelet's
prober workers:

- the startup probe runs first, until it succeeds; failureThreshold failures in a row fail the
  pod (the kubelet would kill the container). Without one, the container counts as started;
- then readiness and liveness run side by side for a window of the check's choosing.
  Liveness fails on failureThreshold failures in a row (the kubelet would restart the
  container). Readiness must succeed (successThreshold times in a row) within the window and
  then never fail failureThreshold times in a row (the pod would leave its Services). A failure
  below the threshold is reported as a note, not a verdict.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

import grpc
import httpx
from grpc_health.v1 import health_pb2, health_pb2_grpc

from tools.pod_check.model import NotEmulated, PodCheckError

ACTIONS = ("httpGet", "grpc", "tcpSocket", "exec")
USER_AGENT = "kube-probe/1.33"

# An exec probe's command, run in the container: (argv, timeout) -> (exit code, output).
ExecIn = Callable[[list[str], float], Awaitable[tuple[int, str]]]


class ProbeFailed(PodCheckError):
    """A probe's verdict is a failure; the message names the probe and the last reason."""


@dataclass(frozen=True)
class Probe:
    kind: str  # startupProbe, readinessProbe or livenessProbe
    action: str  # one of ACTIONS
    port: int | None = None
    path: str = "/"
    scheme: str = "HTTP"
    headers: tuple[tuple[str, str], ...] = ()
    service: str = ""  # grpc: the health service name ("" is the server as a whole)
    command: tuple[str, ...] = ()
    initial_delay: float = 0
    period: float = 10
    timeout: float = 1
    success_threshold: int = 1
    failure_threshold: int = 3

    def describe(self) -> str:
        if self.action == "httpGet":
            what = f"httpGet {self.scheme.lower()}://<pod IP>:{self.port}{self.path}"
        elif self.action == "exec":
            what = "exec " + " ".join(self.command)
        else:
            what = f"{self.action} port {self.port}"
        return f"{self.kind} ({what})"


def _port(value: int | str, container: Mapping, where: str) -> int:
    if isinstance(value, int) or str(value).isdigit():
        return int(value)
    for port in container.get("ports") or []:
        if port.get("name") == value:
            return int(port["containerPort"])
    raise PodCheckError(f"{where}: the container has no port named {value!r}")


def parse_probe(kind: str, container: Mapping, where: str) -> Probe | None:
    """The container's probe of this kind, with Kubernetes' defaults and named ports resolved."""
    spec = container.get(kind)
    if not spec:
        return None
    where = f"{where} {kind}"
    actions = [a for a in ACTIONS if a in spec]
    if len(actions) != 1:
        raise NotEmulated(f"{where}: expected one of {', '.join(ACTIONS)}, got {sorted(spec)}")
    action = actions[0]
    body = spec[action]
    timing = {
        "initial_delay": spec.get("initialDelaySeconds", 0),
        "period": spec.get("periodSeconds", 10),
        "timeout": spec.get("timeoutSeconds", 1),
        "success_threshold": spec.get("successThreshold", 1),
        "failure_threshold": spec.get("failureThreshold", 3),
    }
    if action == "exec":
        return Probe(kind, action, command=tuple(body["command"]), **timing)
    port = _port(body["port"], container, where)
    if action == "httpGet":
        if body.get("host"):
            raise NotEmulated(f"{where}: httpGet.host is not emulated by pod-check")
        headers = tuple((h["name"], h["value"]) for h in body.get("httpHeaders") or [])
        return Probe(
            kind,
            action,
            port=port,
            path=body.get("path", "/"),
            scheme=body.get("scheme", "HTTP"),
            headers=headers,
            **timing,
        )
    if action == "grpc":
        return Probe(kind, action, port=port, service=body.get("service", ""), **timing)
    return Probe(kind, action, port=port, **timing)


class Prober:
    """One attempt of a probe against a pod: None when it succeeds, else why it failed."""

    def __init__(self, host: str, exec_in: ExecIn | None = None) -> None:
        self.host = host
        self.exec_in = exec_in

    async def attempt(self, probe: Probe) -> str | None:
        try:
            return await asyncio.wait_for(self._attempt(probe), probe.timeout)
        except TimeoutError:
            return f"no answer within timeoutSeconds ({probe.timeout:g} s)"
        except OSError as exc:
            return os.strerror(exc.errno) if exc.errno else str(exc)

    async def _attempt(self, probe: Probe) -> str | None:
        if probe.action == "httpGet":
            return await self._http(probe)
        if probe.action == "grpc":
            return await self._grpc(probe)
        if probe.action == "tcpSocket":
            _, writer = await asyncio.open_connection(self.host, probe.port)
            writer.close()
            return None
        if self.exec_in is None:
            raise NotEmulated("exec probes need a container to run in")
        code, output = await self.exec_in(list(probe.command), probe.timeout)
        return None if code == 0 else f"exit code {code}: {output.strip()[-300:]}"

    async def _http(self, probe: Probe) -> str | None:
        url = f"{probe.scheme.lower()}://{self.host}:{probe.port}{probe.path}"
        headers = {"User-Agent": USER_AGENT, "Accept": "*/*", **dict(probe.headers)}
        async with httpx.AsyncClient(verify=False, follow_redirects=False) as client:
            try:
                reply = await client.get(url, headers=headers)
            except httpx.TransportError as exc:
                return f"{type(exc).__name__}: {exc}"
        if 200 <= reply.status_code < 400:
            return None
        return f"HTTP {reply.status_code}: {reply.text.strip()[:200]}"

    async def _grpc(self, probe: Probe) -> str | None:
        async with grpc.aio.insecure_channel(f"{self.host}:{probe.port}") as channel:
            stub = health_pb2_grpc.HealthStub(channel)
            try:
                reply = await stub.Check(
                    health_pb2.HealthCheckRequest(service=probe.service), timeout=probe.timeout
                )
            except grpc.aio.AioRpcError as exc:
                return f"gRPC {exc.code().name}: {exc.details()}"
        if reply.status == health_pb2.HealthCheckResponse.SERVING:
            return None
        return f"health status {health_pb2.HealthCheckResponse.ServingStatus.Name(reply.status)}"


Attempt = Callable[[Probe], Awaitable[str | None]]


async def _ticks(probe: Probe, started_at: float, deadline: float | None = None):
    """The times attempts are due: initialDelaySeconds after the container's start, then every
    periodSeconds (an attempt that overruns its period skips ticks, as the kubelet's ticker)."""
    loop = asyncio.get_running_loop()
    due = max(loop.time(), started_at + probe.initial_delay)
    while deadline is None or due <= deadline:
        await asyncio.sleep(max(0.0, due - loop.time()))
        yield
        now = loop.time()
        due += probe.period
        while due < now:
            due += probe.period


async def await_startup(probe: Probe, attempt: Attempt, started_at: float) -> int:
    """Runs the startup probe until it succeeds; the attempts it took. ProbeFailed when it fails
    failureThreshold times in a row."""
    failures = 0
    attempts = 0
    async for _ in _ticks(probe, started_at):
        attempts += 1
        reason = await attempt(probe)
        if reason is None:
            return attempts
        failures += 1
        if failures >= probe.failure_threshold:
            raise ProbeFailed(
                f"{probe.describe()} failed {failures} times in a row "
                f"({probe.period:g} s apart): {reason}"
            )
    raise AssertionError("unreachable: the ticks of a startup probe never end")


@dataclass
class Watch:
    """What one probe did during the window."""

    probe: Probe
    attempts: int = 0
    ready_after: float | None = None  # readiness: seconds from the window's start
    notes: tuple[str, ...] = ()


async def watch(probe: Probe, attempt: Attempt, started_at: float, window: float) -> Watch:
    """Runs a readiness or liveness probe for `window` seconds from now; ProbeFailed on its
    verdict (see the module's docstring)."""
    loop = asyncio.get_running_loop()
    begin = loop.time()
    result = Watch(probe)
    failures = successes = 0
    ready = probe.kind != "readinessProbe"  # liveness starts out "alive", readiness "not ready"
    last_reason = ""
    notes: list[str] = []
    async for _ in _ticks(probe, started_at, deadline=begin + window):
        result.attempts += 1
        reason = await attempt(probe)
        if reason is None:
            failures, successes = 0, successes + 1
            if not ready and successes >= probe.success_threshold:
                ready = True
                result.ready_after = loop.time() - begin
            continue
        failures, successes, last_reason = failures + 1, 0, reason
        if ready and failures >= probe.failure_threshold:
            consequence = (
                "the kubelet would restart the container"
                if probe.kind == "livenessProbe"
                else "the pod would leave its Services"
            )
            raise ProbeFailed(
                f"{probe.describe()} failed {failures} times in a row after "
                f"{loop.time() - begin:.0f} s ({consequence}): {reason}"
            )
        if ready:  # before readiness first succeeds, failing is what "not ready yet" means
            notes.append(
                f"{probe.describe()} failed at {loop.time() - begin:.0f} s "
                f"({failures} in a row, threshold {probe.failure_threshold}): {reason}"
            )
    if not ready:
        raise ProbeFailed(
            f"{probe.describe()} never succeeded in {window:g} s "
            f"({result.attempts} attempts): {last_reason or 'no attempt ran'}"
        )
    result.notes = tuple(notes)
    return result
