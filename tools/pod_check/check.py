"""The check: the rendered overlay's datastores first, then every Deployment at once (and the
broken copies of mutants.py once those are past their startup), each as a pod on one private
Docker network, probed from the host.

Probes come from the host to the pod's IP, as the kubelet's come from the node: that is what
tells a server listening on 127.0.0.1 from one listening on the pod's address, and it needs no
published port (nothing can collide with what else runs on the machine). It needs a host that
routes to the engine's bridge networks, which a Linux Docker engine does; preflight() says so
plainly when the host does not (Docker Desktop's VM, a rootless engine).
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from secrets import token_hex

from tools.deploy_check.k8s_objects import Manifests
from tools.deploy_check.render import render_overlay
from tools.pod_check import probes
from tools.pod_check.docker_args import label_args
from tools.pod_check.docker_cli import Docker
from tools.pod_check.model import (
    PREFIX,
    RUN_LABEL,
    NotEmulated,
    Overlay,
    PodCheckError,
    Secrets,
    Workload,
)
from tools.pod_check.mutants import broken_copies
from tools.pod_check.pods import PodRun, Started
from tools.pod_check.secrets import documented_secrets
from tools.pod_check.standins import finish_mongo_bootstrap

# How long a datastore may take to become ready before the Deployments start.
DATASTORE_READY_SECONDS = 180


@dataclass
class Verdict:
    workload: Workload
    failure: str | None = None
    seconds: float = 0.0
    details: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return self.failure is None

    @property
    def as_expected(self) -> bool:
        """A real workload passes; a broken copy fails, for the reason it was broken for."""
        expected = self.workload.expected_failure
        if expected is None:
            return self.passed
        return self.failure is not None and expected in self.failure


def load_overlay(root: Path, overlay: str) -> Overlay:
    manifests = Manifests(render_overlay(root, overlay))
    namespaces = [d["metadata"]["name"] for d in manifests.of_kind("Namespace")]
    return Overlay(manifests, namespaces[0] if namespaces else "default")


def check_service_ports(overlay: Overlay) -> None:
    """Docker's DNS aliases cannot map ports: each Service must target its own port number."""
    workloads = overlay.workloads("Deployment") + overlay.workloads("StatefulSet")
    for svc in overlay.services():
        name = svc["metadata"]["name"]
        pods = [w for w in workloads if name in w.aliases]
        for port in svc["spec"].get("ports") or []:
            target = port.get("targetPort", port["port"])
            if isinstance(target, str) and not target.isdigit():
                named = [
                    p["containerPort"]
                    for w in pods
                    for c in w.spec["containers"]
                    for p in c.get("ports") or []
                    if p.get("name") == target
                ]
                target = named[0] if named else target
            if str(target) != str(port["port"]):
                raise NotEmulated(
                    f"Service/{name}: port {port['port']} -> targetPort {target}: pod-check "
                    "reaches pods by DNS alias and cannot map ports"
                )


class Check:
    def __init__(self, root: Path, overlay: str, rounds: int, docker: Docker | None = None):
        self.root = root
        self.overlay_name = overlay
        self.rounds = rounds
        self.docker = docker or Docker()
        self.run_id = token_hex(3)
        self.network = f"{PREFIX}-{self.run_id}"
        self.labels = {RUN_LABEL: self.run_id}
        self.pods: dict[str, PodRun] = {}  # Docker name of each container -> its pod
        self.deaths: dict[str, asyncio.Future[str]] = {}  # pod name -> why it died

    def say(self, line: str) -> None:
        print(f"pod-check: {line}", flush=True)

    # ------------------------------------------------------------ set-up

    async def preflight(self, overlay: Overlay) -> None:
        images = sorted(
            {
                c["image"]
                for kind in ("Deployment", "StatefulSet")
                for w in overlay.workloads(kind)
                for c in [*(w.spec.get("initContainers") or []), *w.spec["containers"]]
            }
        )
        missing = await self.docker.images_missing(images)
        if missing:
            raise PodCheckError(
                f"images missing from the engine: {', '.join(missing)} (the overlay's `images:` "
                "names them; `make image` builds the project's, `docker pull` the datastores')"
            )
        network = await self.docker.inspect("network", self.network)
        gateways = [c.get("Gateway") for c in network["IPAM"]["Config"] if c.get("Gateway")]
        try:
            with socket.socket() as probe_socket:
                probe_socket.bind((gateways[0], 0))
        except (OSError, IndexError):
            raise PodCheckError(
                f"this host has no address on Docker network {self.network} "
                f"(gateway {gateways[:1]}), so it cannot reach the pods' IPs: pod-check probes "
                "pods from the host, as the kubelet probes from the node, and needs a Linux "
                "Docker engine whose bridge networks the host routes to (not Docker Desktop's "
                "VM nor a rootless engine)"
            ) from None

    async def watch_deaths(self) -> None:
        async for event in self.docker.events(self.labels):
            if event.get("Action") != "die":
                continue
            name = (event.get("Actor") or {}).get("Attributes", {}).get("name", "")
            pod = self.pods.get(name)
            if pod is None or name in pod.completed:
                continue
            death = self.deaths[pod.workload.pod_name]
            if not death.done():
                what = "the pod's sandbox" if name == pod.sandbox else f"container {name}"
                death.set_result(f"{what} {await pod.describe_exit(name)}")

    def register(self, pod: PodRun) -> None:
        self.deaths[pod.workload.pod_name] = asyncio.get_running_loop().create_future()

    async def guarded(self, pod: PodRun, work: Awaitable) -> None:
        """Runs `work` unless a container of the pod stops first (then PodCheckError)."""
        task = asyncio.ensure_future(work)
        death = self.deaths[pod.workload.pod_name]
        try:
            await asyncio.wait({task, death}, return_when=asyncio.FIRST_COMPLETED)
        except asyncio.CancelledError:  # the run is interrupted: stop starting things
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, PodCheckError):
                await task
            raise
        if not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, PodCheckError):
                await task
            raise PodCheckError(death.result())
        task.result()

    async def start(self, pod: PodRun) -> None:
        await pod.start_sandbox()
        self.pods[pod.sandbox] = pod
        for n, container in enumerate(pod.workload.spec.get("initContainers") or []):
            self.pods[f"{pod.prefix}-init{n}-{container['name']}"] = pod
        for container in pod.workload.spec["containers"]:
            self.pods[f"{pod.prefix}-{container['name']}"] = pod
        await pod.run_init_containers()
        await pod.start_containers()

    # ------------------------------------------------------------ probes

    async def startup(self, pod: PodRun, started: Started, details: list[str]) -> None:
        where = pod.where(started.spec)
        probe = probes.parse_probe("startupProbe", started.spec, where)
        if probe is None:
            return
        attempts = await probes.await_startup(
            probe, pod.prober(started).attempt, started.started_at
        )
        took = asyncio.get_running_loop().time() - started.started_at
        details.append(
            f"{started.name}: {probe.describe()} passed after {took:.1f} s ({attempts} tries)"
        )

    async def window(self, pod: PodRun, started: Started, details: list[str]) -> None:
        where = pod.where(started.spec)
        watched = [
            p
            for kind in ("readinessProbe", "livenessProbe")
            if (p := probes.parse_probe(kind, started.spec, where)) is not None
        ]
        if not watched:
            return
        seconds = self.rounds * max(p.period for p in watched)
        attempt = pod.prober(started).attempt
        results = await asyncio.gather(
            *(probes.watch(p, attempt, started.started_at, seconds) for p in watched)
        )
        for result in results:
            ready = (
                f", ready after {result.ready_after:.1f} s"
                if result.ready_after is not None
                else ""
            )
            details.append(
                f"{started.name}: {result.probe.describe()} held for {seconds:g} s "
                f"({result.attempts} tries{ready})"
            )
            details.extend(result.notes)

    async def judge(self, pod: PodRun, steps: Callable[[list[str]], Awaitable[None]]) -> Verdict:
        """Runs a pod's steps (which add details) under guard; the verdict, timed."""
        verdict = Verdict(pod.workload)
        loop = asyncio.get_running_loop()
        begin = loop.time()
        self.register(pod)
        try:
            await self.guarded(pod, steps(verdict.details))
        except PodCheckError as exc:
            verdict.failure = f"{pod.workload.title}: {exc}"
        verdict.seconds = loop.time() - begin
        verdict.details.extend(pod.notes)
        return verdict

    async def exercise(self, pod: PodRun, started_up: asyncio.Future | None = None) -> Verdict:
        """A Deployment: started, its startup probes passed, then its readiness and liveness
        probes held for the window, and every container still running at the end.
        `started_up` is resolved when its startup is over, passed or not."""

        async def steps(details: list[str]) -> None:
            await self.start(pod)
            for started in pod.containers.values():
                await self.startup(pod, started, details)
            _resolve(started_up)
            await asyncio.gather(*(self.window(pod, s, details) for s in pod.containers.values()))
            await self.still_running(pod, details)

        try:
            return await self.judge(pod, steps)
        finally:
            _resolve(started_up)

    async def exercise_after(self, pod: PodRun, others: list[asyncio.Future]) -> Verdict:
        """A broken copy, started once the real Deployments are past their startup: on a small
        machine, more processes starting at once would only eat into everyone's startup budget."""
        await asyncio.gather(*others)
        return await self.exercise(pod)

    async def still_running(self, pod: PodRun, details: list[str]) -> None:
        """Every container still runs at the end; how much of its memory limit it uses."""
        for started in pod.containers.values():
            state = (await self.docker.inspect("container", started.docker_name))["State"]
            if not state.get("Running"):
                raise PodCheckError(
                    f"container {started.name} {await pod.describe_exit(started.docker_name)}"
                )
        names = {s.docker_name: s.name for s in pod.containers.values()}
        usage = await self.docker(
            "stats", "--no-stream", "--format", "{{.Name}}\t{{.MemUsage}}", *names
        )
        for line in usage.splitlines():
            docker_name, _, memory = line.partition("\t")
            if docker_name in names:
                details.append(f"{names[docker_name]}: memory at the end {memory.strip()}")

    # ------------------------------------------------------------ datastores

    async def bring_up_datastore(self, pod: PodRun) -> Verdict:
        """A StatefulSet: started from its spec and waited for until ready (its liveness is not
        run: it only has to serve the Deployments)."""

        async def steps(details: list[str]) -> None:
            await self.start(pod)
            loop = asyncio.get_running_loop()
            for started in pod.containers.values():
                await self.startup(pod, started, details)
                probe = probes.parse_probe("readinessProbe", started.spec, pod.where(started.spec))
                if probe is None:
                    continue
                budget = math.ceil(DATASTORE_READY_SECONDS / probe.period)
                patient = replace(probe, failure_threshold=max(probe.failure_threshold, budget))
                attempt = pod.prober(started).attempt
                await probes.await_startup(patient, attempt, started.started_at)
                details.append(
                    f"{started.name}: ready after {loop.time() - started.started_at:.1f} s"
                )
            if "mongo" in pod.standins.values():
                main = pod.workload.spec["containers"][0]
                port = int((main.get("ports") or [{"containerPort": 27017}])[0]["containerPort"])
                environments = {n: s.environment for n, s in pod.containers.items()}
                note = await finish_mongo_bootstrap(pod.ip, port, environments)
                if note:
                    pod.notes.append(note)

        return await self.judge(pod, steps)

    # ------------------------------------------------------------ the whole run

    async def run(self, only: list[str] | None = None, broken: bool = True) -> list[Verdict]:
        overlay = load_overlay(self.root, self.overlay_name)
        check_service_ports(overlay)
        secrets: Secrets = await asyncio.to_thread(documented_secrets, self.root)
        datastores = overlay.workloads("StatefulSet")
        deployments = overlay.workloads("Deployment")
        chosen = [d for d in deployments if not only or d.name in only]
        if only and len(chosen) != len(set(only)):
            raise PodCheckError(
                f"no Deployment named {sorted(set(only) - {d.name for d in chosen})}"
            )
        copies = broken_copies(deployments) if broken else []
        self.say(
            f"{self.overlay_name}: {len(deployments)} Deployments, {len(datastores)} StatefulSets, "
            f"{len(copies)} broken copies; Secrets from docs/deploying.md: "
            + ", ".join(sorted(secrets.data))
        )
        await self.docker("network", "create", *label_args(self.labels), self.network)
        monitor: asyncio.Task | None = None
        try:
            await self.preflight(overlay)
            monitor = asyncio.create_task(self.watch_deaths())
            await asyncio.sleep(0.5)  # `docker events` subscribes before anything starts

            def pod(w: Workload) -> PodRun:
                return PodRun(w, overlay, secrets, self.docker, self.network, self.run_id)

            ready = await asyncio.gather(*(self.bring_up_datastore(pod(w)) for w in datastores))
            for verdict in ready:
                self.report(verdict)
            if not all(v.passed for v in ready):
                return list(ready)
            loop = asyncio.get_running_loop()
            started_up = [loop.create_future() for _ in chosen]
            verdicts = await asyncio.gather(
                *(self.exercise(pod(w), f) for w, f in zip(chosen, started_up, strict=True)),
                *(self.exercise_after(pod(w), started_up) for w in copies),
            )
            for verdict in verdicts:
                self.report(verdict)
            # A datastore that stopped while the Deployments ran fails the run too.
            for verdict in ready:
                death = self.deaths[verdict.workload.pod_name]
                if death.done():
                    verdict.failure = f"{verdict.workload.title}: {death.result()}"
                    self.report(verdict)
            return list(ready) + list(verdicts)
        finally:
            if monitor is not None:
                monitor.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await monitor
            await self.docker.remove_labelled(RUN_LABEL, self.run_id)

    def report(self, verdict: Verdict) -> None:
        workload = verdict.workload
        if workload.expected_failure is not None:
            state = "CAUGHT" if verdict.as_expected else "MISSED"
            head = f"{state} broken copy {workload.title} ({verdict.seconds:.0f} s)"
            body = [verdict.failure or "it passed: the check does not see this breakage"]
        else:
            state = "PASS" if verdict.passed else "FAIL"
            head = f"{state} {workload.title} ({verdict.seconds:.0f} s)"
            body = [verdict.failure] if verdict.failure else []
        print(head, flush=True)
        for line in body + verdict.details:
            print("    " + line.replace("\n", "\n    "), flush=True)


def _resolve(future: asyncio.Future | None) -> None:
    if future is not None and not future.done():
        future.set_result(None)
