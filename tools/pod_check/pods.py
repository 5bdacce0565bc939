"""Bringing one workload up as a pod: its volumes, its sandbox, init containers, sidecars and
containers, in the kubelet's order (tools/pod_check/docker_args.py says how each is translated)."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass, field

from tools.pod_check import docker_args, env, probes
from tools.pod_check.docker_cli import Docker
from tools.pod_check.model import PREFIX, RUN_LABEL, Overlay, PodCheckError, Secrets, Workload
from tools.pod_check.standins import is_standin

# How long a run-to-completion init container may take.
INIT_TIMEOUT_SECONDS = 120


@dataclass
class Started:
    """A container of the pod as it runs: its Docker name and when it started (loop time)."""

    name: str
    docker_name: str
    spec: Mapping
    started_at: float
    environment: Mapping[str, str] = field(default_factory=dict)


class PodRun:
    def __init__(
        self,
        workload: Workload,
        overlay: Overlay,
        secrets: Secrets,
        docker: Docker,
        network: str,
        run_id: str,
    ) -> None:
        self.workload = workload
        self.overlay = overlay
        self.secrets = secrets
        self.docker = docker
        self.network = network
        self.prefix = f"{PREFIX}-{run_id}-{workload.pod_name}"
        self.labels = {RUN_LABEL: run_id, "podcheck.pod": workload.pod_name}
        self.ip = ""
        self.volumes: dict[str, docker_args.VolumePlan] = {}
        self.containers: dict[str, Started] = {}  # what keeps running: sidecars and containers
        self.completed: set[str] = set()  # Docker names of init containers that ran to completion
        self.notes: list[str] = []
        self.standins: dict[str, str] = {}  # container name -> the stand-in family it runs

    @property
    def sandbox(self) -> str:
        return self.prefix

    def where(self, container: Mapping) -> str:
        return f"{self.workload.title} container {container['name']}"

    async def start_sandbox(self) -> None:
        spec = self.workload.spec
        self.volumes = docker_args.volume_plans(
            self.workload, self.overlay, self.secrets, self.prefix
        )
        for plan in self.volumes.values():
            await self.docker(*plan.create_args(self.labels))
        image = spec["containers"][0]["image"]
        await self.docker(
            *docker_args.sandbox_args(
                self.workload,
                docker_name=self.sandbox,
                network=self.network,
                image=image,
                volumes=list(self.volumes.values()),
                labels=self.labels,
            )
        )
        if self.volumes:
            await self.docker(
                "exec",
                "-i",
                self.sandbox,
                "tar",
                "-x",
                "--same-owner",
                "--same-permissions",
                "--numeric-owner",
                "-C",
                docker_args.SANDBOX_VOLUMES,
                stdin=docker_args.volume_tar(list(self.volumes.values())),
            )
        self.ip = await self.docker.ip(self.sandbox, self.network)

    async def _run(self, container: Mapping, suffix: str) -> Started:
        image = await self.docker.inspect("image", container["image"])
        hardened = not is_standin(container["image"], image)
        if not hardened:
            self.standins[container["name"]] = image["Config"]["Labels"].get("standin.family", "")
            self.notes.append(
                f"container {container['name']}: {container['image']} is a local stand-in "
                f"({image['Config']['Labels'].get('standin.real', '?')}), not the official "
                "image: its entrypoint needs root, so its securityContext is not applied"
            )
        environment = env.container_env(
            self.workload, container, self.overlay, self.secrets, self.ip
        )
        command, args = env.command_line(container, environment)
        docker_name = f"{self.prefix}-{suffix}"
        run = docker_args.container_args(
            self.workload,
            container,
            docker_name=docker_name,
            sandbox=self.sandbox,
            image_user=image["Config"].get("User") or "",
            env=environment,
            command=command,
            args=args,
            volumes=self.volumes,
            labels={**self.labels, "podcheck.container": container["name"]},
            hardened=hardened,
        )
        await self.docker(*run)
        loop = asyncio.get_running_loop()
        return Started(
            container["name"],
            docker_name,
            container,
            loop.time(),
            environment,
        )

    def prober(self, started: Started) -> probes.Prober:
        async def exec_in(argv: list[str], timeout: float) -> tuple[int, str]:
            return await self.docker.exec_in(started.docker_name, argv, timeout)

        return probes.Prober(self.ip, exec_in)

    async def run_init_containers(self) -> None:
        """Init containers in order: each runs to completion (exit 0), except sidecars
        (restartPolicy: Always), which keep running and count as started once their
        startupProbe passes."""
        for n, container in enumerate(self.workload.spec.get("initContainers") or []):
            suffix = f"init{n}-{container['name']}"
            sidecar = container.get("restartPolicy") == "Always"
            if not sidecar:  # before it runs: its exit may be reported at once
                self.completed.add(f"{self.prefix}-{suffix}")
            started = await self._run(container, suffix)
            if sidecar:
                self.containers[container["name"]] = started
                probe = probes.parse_probe("startupProbe", container, self.where(container))
                if probe is not None:
                    attempt = self.prober(started).attempt
                    await probes.await_startup(probe, attempt, started.started_at)
                continue
            code = await self.docker("wait", started.docker_name, timeout=INIT_TIMEOUT_SECONDS)
            if code.strip() != "0":
                logs = await self.docker.logs(started.docker_name)
                raise PodCheckError(
                    f"{self.where(container)} (init) exited with code {code.strip()}:\n{logs}"
                )

    async def start_containers(self) -> None:
        for container in self.workload.spec["containers"]:
            self.containers[container["name"]] = await self._run(container, container["name"])

    async def describe_exit(self, docker_name: str) -> str:
        """Why a container stopped: exit code, OOM kill, and its last log lines."""
        state = (await self.docker.inspect("container", docker_name))["State"]
        why = f"exited with code {state.get('ExitCode')}"
        if state.get("OOMKilled"):
            why = (
                f"was OOM-killed (exit code {state.get('ExitCode')}): its memory limit is too small"
            )
        logs = await self.docker.logs(docker_name)
        return f"{why}; its last log lines:\n{_indent(logs)}"


def _indent(text: str) -> str:
    lines = text.rstrip().splitlines()[-25:] or ["(no output)"]
    return "\n".join(f"    | {line}" for line in lines)
