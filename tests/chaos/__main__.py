"""`make chaos`: the long chaos run, its table printed; exits 1 if any invariant broke.

python -m tests.chaos [--rounds N] [--users N] [--down SECONDS] [--quick] [--keep]
"""

from __future__ import annotations

import argparse
import dataclasses
import shutil
import sys
import tempfile
import time
from pathlib import Path

from tests.chaos.run import LONG, QUICK, run_chaos


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.chaos", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="the short run of `make test`")
    parser.add_argument("--rounds", type=int, help="times through every fault")
    parser.add_argument("--users", type=int, help="concurrent buyer/seller pairs")
    parser.add_argument("--down", type=float, help="seconds each killed part stays down")
    parser.add_argument("--keep", action="store_true", help="keep the work directory (logs)")
    args = parser.parse_args(argv)
    settings = QUICK if args.quick else LONG
    overrides = {"rounds": args.rounds, "users": args.users, "down_seconds": args.down}
    settings = dataclasses.replace(settings, **{k: v for k, v in overrides.items() if v})
    work_dir = Path(tempfile.mkdtemp(prefix="ticketing-chaos-"))
    started = time.monotonic()
    failed = True
    try:
        report = run_chaos(work_dir, settings)
        print()
        print(report.render())
        print(f"({time.monotonic() - started:.0f}s in all)")
        failed = bool(report.failures())
        return 1 if failed else 0
    finally:
        if args.keep or failed:
            print(f"work directory kept: {work_dir}", file=sys.stderr)
        else:
            shutil.rmtree(work_dir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
