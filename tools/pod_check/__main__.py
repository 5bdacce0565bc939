"""`python -m tools.pod_check`: a rendered overlay's pod specs, exercised; exit 1 on failure."""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
import time

from tools.deploy_check.model import ROOT
from tools.pod_check.check import Check
from tools.pod_check.model import PodCheckError


async def _main(args: argparse.Namespace) -> int:
    task = asyncio.current_task()
    assert task is not None
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)
    check = Check(ROOT, args.overlay, args.rounds)
    verdicts = await check.run(only=args.only, broken=not args.only)
    wrong = [v for v in verdicts if not v.as_expected]
    real = [v for v in verdicts if v.workload.expected_failure is None]
    print(
        f"pod-check: {sum(v.passed for v in real)}/{len(real)} workloads passed, "
        f"{sum(v.as_expected for v in verdicts if v not in real)} broken copies caught",
        flush=True,
    )
    return 1 if wrong else 0


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.pod_check", description=__doc__)
    parser.add_argument("--overlay", default="dev", help="k8s/overlays/<name> (default: dev)")
    parser.add_argument(
        "--rounds",
        type=int,
        default=3,
        help="readiness and liveness run for this many of their longest period (default: 3)",
    )
    parser.add_argument(
        "--only",
        action="append",
        metavar="DEPLOYMENT",
        help="check only this Deployment (repeatable; the broken copies are left out)",
    )
    args = parser.parse_args()
    begin = time.monotonic()
    try:
        code = asyncio.run(_main(args))
    except PodCheckError as exc:
        print(f"pod-check: FAIL {exc}", file=sys.stderr)
        code = 1
    except (KeyboardInterrupt, asyncio.CancelledError):
        print("pod-check: interrupted (everything it started is removed)", file=sys.stderr)
        code = 130
    print(f"pod-check: {time.monotonic() - begin:.0f} s", flush=True)
    return code


if __name__ == "__main__":
    sys.exit(main())
