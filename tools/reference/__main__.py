"""`python -m tools.reference [--check]`: write the generated reference pages, or check them."""

from __future__ import annotations

import argparse
import sys

from tools.reference import ROOT, render_all


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.reference", description=__doc__)
    parser.add_argument(
        "--check", action="store_true", help="write nothing; fail if a page is stale or missing"
    )
    args = parser.parse_args(argv)
    stale = []
    for page in render_all():
        current = page.path.read_text() if page.path.exists() else None
        if current == page.text:
            continue
        if args.check:
            stale.append(page)
            continue
        page.path.parent.mkdir(parents=True, exist_ok=True)
        page.path.write_text(page.text)
        print(f"wrote {page.path.relative_to(ROOT)}")
    for page in stale:
        print(
            f"{page.path.relative_to(ROOT)} is stale or missing: it no longer matches what "
            f"{page.module} renders from the code; run `make reference` and commit it",
            file=sys.stderr,
        )
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main())
