"""pod-check's probes (tools/pod_check/probes.py) against real servers on loopback: each action's
verdict, and the kubelet's semantics of periods, thresholds and timeouts (shortened to fractions
of a second). No Docker: `make pod-check` runs the same probes against the real pods."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from dataclasses import replace

import grpc
import pytest
from grpc_health.v1 import health, health_pb2, health_pb2_grpc

from tools.pod_check import probes
from tools.pod_check.model import PodCheckError
from tools.pod_check.probes import Probe, ProbeFailed, Prober

# Short periods; a timeout long enough that a loaded machine never fails an attempt by it (the
# timeout test sets its own).
FAST = {"period": 0.05, "timeout": 5}


class HttpServer:
    """A real HTTP/1.1 server: answers each path with the status its script gives next."""

    def __init__(self) -> None:
        self.statuses: dict[str, list[int]] = {}
        self.default = 200
        self.hang = False
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.port = 0

    def answer(self, path: str, *statuses: int) -> None:
        self.statuses[path] = list(statuses)

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = (await reader.readuntil(b"\r\n\r\n")).decode()
        except asyncio.IncompleteReadError:  # a tcpSocket probe: connects, sends nothing
            writer.close()
            return
        line, *header_lines = head.strip().split("\r\n")
        path = line.split()[1]
        headers = dict(h.split(": ", 1) for h in header_lines)
        self.requests.append((path, headers))
        if self.hang:
            await asyncio.sleep(5)
        script = self.statuses.get(path)
        status = script.pop(0) if script else self.default
        body = f"status {status}".encode()
        location = "Location: /elsewhere\r\n" if 300 <= status < 400 else ""
        writer.write(
            f"HTTP/1.1 {status} X\r\nContent-Length: {len(body)}\r\n{location}"
            "Connection: close\r\n\r\n".encode()
            + body
        )
        await writer.drain()
        writer.close()


@pytest.fixture
async def http() -> AsyncIterator[HttpServer]:
    server = HttpServer()
    listener = await asyncio.start_server(server.handle, "127.0.0.1", 0)
    server.port = listener.sockets[0].getsockname()[1]
    yield server
    listener.close()


@pytest.fixture
async def grpc_health() -> AsyncIterator[tuple[int, health.aio.HealthServicer]]:
    server = grpc.aio.server()
    servicer = health.aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(servicer, server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    yield port, servicer
    await server.stop(0)


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_probe(kind: str, port: int, path: str, **timing) -> Probe:
    return Probe(kind, "httpGet", port=port, path=path, **{**FAST, **timing})


def now() -> float:
    return asyncio.get_running_loop().time()


# ---------------------------------------------------------------- reading a probe from a spec


def test_a_probe_gets_kubernetes_defaults_and_its_named_port() -> None:
    container = {
        "ports": [{"name": "http", "containerPort": 8000}],
        "readinessProbe": {"httpGet": {"path": "/readyz", "port": "http"}},
    }
    probe = probes.parse_probe("readinessProbe", container, "Deployment/x")
    assert probe == Probe(
        "readinessProbe",
        "httpGet",
        port=8000,
        path="/readyz",
        initial_delay=0,
        period=10,
        timeout=1,
        success_threshold=1,
        failure_threshold=3,
    )
    assert probes.parse_probe("livenessProbe", container, "Deployment/x") is None


def test_a_probe_on_a_port_name_the_container_lacks_is_refused() -> None:
    container = {"ports": [], "startupProbe": {"grpc": {"port": "grpc"}}}
    with pytest.raises(PodCheckError, match="no port named 'grpc'"):
        probes.parse_probe("startupProbe", container, "Deployment/x")


# ---------------------------------------------------------------- one attempt of each action


async def test_http_2xx_and_3xx_succeed_4xx_and_5xx_fail(http: HttpServer) -> None:
    prober = Prober("127.0.0.1")
    http.answer("/a", 200)
    http.answer("/b", 302)
    http.answer("/c", 503)
    http.answer("/d", 404)
    assert await prober.attempt(http_probe("livenessProbe", http.port, "/a")) is None
    assert await prober.attempt(http_probe("livenessProbe", http.port, "/b")) is None
    assert (
        await prober.attempt(http_probe("livenessProbe", http.port, "/c")) == "HTTP 503: status 503"
    )
    assert (
        await prober.attempt(http_probe("livenessProbe", http.port, "/d")) == "HTTP 404: status 404"
    )
    assert http.requests[0][1]["User-Agent"].startswith("kube-probe/")


async def test_http_headers_of_the_probe_are_sent(http: HttpServer) -> None:
    probe = replace(http_probe("livenessProbe", http.port, "/"), headers=(("X-Probe", "yes"),))
    assert await Prober("127.0.0.1").attempt(probe) is None
    assert http.requests[0][1]["X-Probe"] == "yes"


async def test_an_answer_slower_than_the_timeout_fails(http: HttpServer) -> None:
    http.hang = True
    probe = http_probe("livenessProbe", http.port, "/", timeout=0.2)
    assert await Prober("127.0.0.1").attempt(probe) == "no answer within timeoutSeconds (0.2 s)"


async def test_grpc_succeeds_only_on_serving(grpc_health) -> None:
    port, servicer = grpc_health
    probe = Probe("startupProbe", "grpc", port=port, **FAST)
    await servicer.set("", health_pb2.HealthCheckResponse.SERVING)
    assert await Prober("127.0.0.1").attempt(probe) is None
    await servicer.set("", health_pb2.HealthCheckResponse.NOT_SERVING)
    assert await Prober("127.0.0.1").attempt(probe) == "health status NOT_SERVING"
    unknown = replace(probe, service="no.such.Service")
    assert (await Prober("127.0.0.1").attempt(unknown)).startswith("gRPC NOT_FOUND")


async def test_tcp_succeeds_on_a_listening_port_only(http: HttpServer) -> None:
    prober = Prober("127.0.0.1")
    assert await prober.attempt(Probe("livenessProbe", "tcpSocket", port=http.port, **FAST)) is None
    refused = await prober.attempt(Probe("livenessProbe", "tcpSocket", port=closed_port(), **FAST))
    assert refused is not None and "refused" in refused.lower()


async def test_exec_succeeds_on_exit_zero() -> None:
    async def run_here(argv: list[str], timeout: float) -> tuple[int, str]:
        process = await asyncio.create_subprocess_exec(
            *argv, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
        )
        out, _ = await process.communicate()
        return process.returncode or 0, out.decode()

    prober = Prober("127.0.0.1", run_here)
    ok = Probe("readinessProbe", "exec", command=("sh", "-c", "exit 0"), **FAST)
    bad = replace(ok, command=("sh", "-c", "echo not yet; exit 3"))
    assert await prober.attempt(ok) is None
    assert await prober.attempt(bad) == "exit code 3: not yet"


# ---------------------------------------------------------------- startup


async def test_startup_waits_through_failures_below_the_threshold(http: HttpServer) -> None:
    http.answer("/healthz", 503, 503, 503, 200)
    probe = http_probe("startupProbe", http.port, "/healthz", failure_threshold=4)
    attempts = await probes.await_startup(probe, Prober("127.0.0.1").attempt, now())
    assert attempts == 4


async def test_startup_fails_at_the_threshold(http: HttpServer) -> None:
    http.answer("/healthz", 503, 503, 503, 200)
    probe = http_probe("startupProbe", http.port, "/healthz", failure_threshold=3)
    with pytest.raises(ProbeFailed, match=r"startupProbe \(httpGet .*/healthz\) failed 3 times"):
        await probes.await_startup(probe, Prober("127.0.0.1").attempt, now())


async def test_a_startup_probe_on_the_wrong_port_fails_the_check(http: HttpServer) -> None:
    """The negative case: a probe pointing at a port nothing listens on."""
    probe = http_probe("startupProbe", closed_port(), "/healthz", failure_threshold=3)
    with pytest.raises(ProbeFailed, match=r"failed 3 times in a row .*ConnectError"):
        await probes.await_startup(probe, Prober("127.0.0.1").attempt, now())


async def test_the_first_attempt_waits_for_the_initial_delay(http: HttpServer) -> None:
    started = now()
    probe = http_probe("startupProbe", http.port, "/", initial_delay=0.3)
    await probes.await_startup(probe, Prober("127.0.0.1").attempt, started)
    assert now() - started >= 0.3


async def test_attempts_come_one_period_apart(http: HttpServer) -> None:
    times: list[float] = []
    prober = Prober("127.0.0.1")

    async def timed(probe: Probe) -> str | None:
        times.append(now())
        return await prober.attempt(probe)

    probe = http_probe("livenessProbe", http.port, "/", period=0.2)
    await probes.watch(probe, timed, now(), window=0.9)
    # Never early (a late attempt shortens the next gap: the kubelet's ticker keeps its beat).
    assert 2 <= len(times) <= 5
    assert all(t - times[0] >= k * 0.2 - 0.005 for k, t in enumerate(times)), times


# ---------------------------------------------------------------- readiness and liveness


async def watch_script(http: HttpServer, kind: str, statuses: list[int], **timing) -> probes.Watch:
    http.answer("/p", *statuses)
    probe = http_probe(kind, http.port, "/p", **timing)
    return await probes.watch(probe, Prober("127.0.0.1").attempt, now(), window=2.0)


async def test_readiness_that_never_succeeds_fails(http: HttpServer) -> None:
    http.default = 503
    with pytest.raises(ProbeFailed, match=r"readinessProbe .* never succeeded .*HTTP 503"):
        await watch_script(http, "readinessProbe", [])


async def test_readiness_may_take_a_while_to_succeed(http: HttpServer) -> None:
    result = await watch_script(http, "readinessProbe", [503, 503, 503, 503])
    assert result.ready_after is not None and result.ready_after >= 0.15
    assert result.notes == ()  # failing before ready is what "not ready yet" means


async def test_readiness_lost_at_the_threshold_fails(http: HttpServer) -> None:
    with pytest.raises(ProbeFailed, match=r"failed 2 times in a row .*leave its Services"):
        await watch_script(http, "readinessProbe", [200, 200, 503, 503], failure_threshold=2)


async def test_a_failure_below_the_threshold_is_a_note(http: HttpServer) -> None:
    result = await watch_script(http, "readinessProbe", [200, 503, 200], failure_threshold=2)
    assert len(result.notes) == 1 and "1 in a row, threshold 2" in result.notes[0]


async def test_liveness_fails_at_its_threshold(http: HttpServer) -> None:
    with pytest.raises(ProbeFailed, match=r"livenessProbe .* failed 3 times in a row .*restart"):
        await watch_script(http, "livenessProbe", [200, 503, 503, 503])


async def test_liveness_survives_fewer_failures(http: HttpServer) -> None:
    result = await watch_script(http, "livenessProbe", [503, 503, 200, 503, 503, 200])
    assert result.attempts >= 6 and len(result.notes) == 4


async def test_success_threshold_is_honoured(http: HttpServer) -> None:
    """Readiness counts as ready only after successThreshold successes in a row."""
    result = await watch_script(
        http, "readinessProbe", [200, 503, 200, 200, 200], success_threshold=3
    )
    assert result.ready_after is not None and result.ready_after >= 0.05 * 4 - 0.01
