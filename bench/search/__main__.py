"""`python -m bench.search [--quick]`: the search read model's benchmark alone (no stack; about
half a minute). Prints the rows and writes them to bench/results/search.md and search.json
(`make bench` puts the same rows in its own table; `python -m bench --only search` runs it
there alone)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bench import report
from bench.run import RESULTS, RunStart
from bench.search.measure import measure


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.search", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a smaller catalogue")
    parser.add_argument("--results", type=Path, default=RESULTS, help="where to write search.md")
    args = parser.parse_args(argv)
    start = RunStart()
    rows = measure(quick=args.quick)
    meta = start.meta({"quick": args.quick, "only": "search"})
    text = report.markdown(rows, meta)
    print(text)
    args.results.mkdir(parents=True, exist_ok=True)
    (args.results / "search.md").write_text(text)
    (args.results / "search.json").write_text(report.as_json(rows, meta))
    print(f"[bench.search] wrote {args.results / 'search.md'}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
