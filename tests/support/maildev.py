"""The development mail server (maildev, tools/maildev/) for a test: on free ports, its mail read
through its REST API (GET /email), stopped after."""

from __future__ import annotations

import subprocess
import time
from typing import Any

import httpx

from common.devstack.mail import maildev_argv
from common.ports import free_port


class Maildev:
    def __init__(self, smtp_port: int | None = None) -> None:
        self.smtp_port = smtp_port or free_port()
        self.web_port = free_port()
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.web_port}"

    def start(self, timeout: float = 60.0) -> Maildev:
        self.proc = subprocess.Popen(
            maildev_argv(self.smtp_port, self.web_port),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            stdin=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + timeout
        while True:
            try:
                if httpx.get(f"{self.url}/email", timeout=2).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"maildev did not start (exit code {self.proc.poll()})")
            time.sleep(0.2)

    async def mails(self) -> list[dict[str, Any]]:
        async with httpx.AsyncClient() as client:
            reply = await client.get(f"{self.url}/email", timeout=5)
            reply.raise_for_status()
            return reply.json()

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            self.proc = None
