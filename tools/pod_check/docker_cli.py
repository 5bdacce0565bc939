"""The Docker CLI, asynchronously: what the pod check asks of the engine.

The CLI rather than the Docker SDK for Python: it adds no dependency to the locks, it is what
`make image` and compose-smoke drive too, every step is a command a developer can read and replay
by hand (a failed one is quoted in the error), and the translation of a pod spec is tested as the
`docker run` flags everyone knows. It talks to whatever engine DOCKER_HOST names, as `docker`
itself does.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import shlex
from collections.abc import AsyncIterator, Mapping, Sequence

from tools.pod_check.model import PodCheckError


class DockerError(PodCheckError):
    pass


class Docker:
    def __init__(self, binary: str = "docker") -> None:
        self.binary = binary

    def command(self, args: Sequence[str]) -> str:
        """The shell command for `args` (for messages: how to reproduce a step)."""
        return shlex.join([self.binary, *args])

    async def __call__(
        self, *args: str, stdin: bytes | None = None, timeout: float = 120, check: bool = True
    ) -> str:
        process = await asyncio.create_subprocess_exec(
            self.binary,
            *args,
            stdin=asyncio.subprocess.PIPE if stdin is not None else asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        try:
            out, err = await asyncio.wait_for(process.communicate(stdin), timeout)
        except TimeoutError:
            process.kill()
            await process.wait()
            raise DockerError(f"`{self.command(args)[:300]}` took over {timeout:g} s") from None
        except asyncio.CancelledError:
            # Interrupted: let the command finish, so that what it creates exists by the time
            # the clean-up lists what to remove.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(process.wait(), timeout)
            raise
        if check and process.returncode != 0:
            message = err.decode(errors="replace").strip()
            raise DockerError(f"`{self.command(args)[:300]}` failed: {message}")
        return out.decode(errors="replace")

    async def exec_in(self, container: str, argv: Sequence[str], timeout: float) -> tuple[int, str]:
        """Runs argv in the container (as its user); (exit code, output). Over the timeout:
        (-1, why), and the exec's client is killed."""
        process = await asyncio.create_subprocess_exec(
            self.binary,
            "exec",
            container,
            *argv,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        try:
            out, _ = await asyncio.wait_for(process.communicate(), timeout)
        except TimeoutError:
            process.kill()
            await process.wait()
            return -1, f"no exit within timeoutSeconds ({timeout:g} s)"
        return process.returncode or 0, out.decode(errors="replace")

    async def inspect(self, kind: str, name: str) -> dict:
        return json.loads(await self(kind, "inspect", name))[0]

    async def images_missing(self, images: Sequence[str]) -> list[str]:
        present = await asyncio.gather(
            *(self("image", "inspect", image, check=False) for image in images)
        )
        return [image for image, out in zip(images, present, strict=True) if not out.strip()]

    async def ip(self, container: str, network: str) -> str:
        state = await self.inspect("container", container)
        return state["NetworkSettings"]["Networks"][network]["IPAddress"]

    async def logs(self, container: str, lines: int = 25) -> str:
        process = await asyncio.create_subprocess_exec(
            self.binary,
            "logs",
            "--tail",
            str(lines),
            container,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        out, _ = await process.communicate()
        return out.decode(errors="replace")

    async def events(self, labels: Mapping[str, str]) -> AsyncIterator[dict]:
        """Container events (die, oom, ...) of containers with these labels, as they happen."""
        filters = [a for k, v in labels.items() for a in ("--filter", f"label={k}={v}")]
        process = await asyncio.create_subprocess_exec(
            self.binary,
            "events",
            "--filter",
            "type=container",
            *filters,
            "--format",
            "{{json .}}",
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL,
        )
        assert process.stdout is not None
        try:
            while line := await process.stdout.readline():
                yield json.loads(line)
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()

    async def remove_labelled(self, label: str, value: str) -> None:
        """Removes every container, then volume, then network carrying label=value."""
        selector = f"label={label}={value}"
        containers = (await self("ps", "-aq", "--filter", selector)).split()
        if containers:
            await self("rm", "-f", "-v", *containers, timeout=300, check=False)
        volumes = (await self("volume", "ls", "-q", "--filter", selector)).split()
        if volumes:
            await self("volume", "rm", "-f", *volumes, check=False)
        networks = (await self("network", "ls", "-q", "--filter", selector)).split()
        if networks:
            await self("network", "rm", *networks, check=False)
