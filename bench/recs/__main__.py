"""`python -m bench.recs [--quick]`: the recommender's offline evaluation alone (no stack; about
half a minute). Prints the evaluation and the bench rows, and writes them to
bench/results/recs.md and recs.json (`make bench` puts the same rows in its own table)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bench import report
from bench.recs.measure import measure
from bench.run import RESULTS, RunStart


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.recs", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a smaller marketplace")
    parser.add_argument("--results", type=Path, default=RESULTS, help="where to write recs.md")
    args = parser.parse_args(argv)
    start = RunStart()
    outcome = measure(quick=args.quick)
    meta = start.meta({"quick": args.quick, "only": "recs"})
    text = "\n".join(
        [
            report.markdown(outcome.rows, meta),
            "## Evaluation",
            "",
            outcome.table,
            "",
            "## Evaluation of the event recommender",
            "",
            outcome.events_table,
        ]
    )
    print(text)
    args.results.mkdir(parents=True, exist_ok=True)
    (args.results / "recs.md").write_text(text)
    (args.results / "recs.json").write_text(report.as_json(outcome.rows, meta))
    print(f"[bench.recs] wrote {args.results / 'recs.md'}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
