"""`schema.graphql`, the GraphQL contract: the SDL of the schema exactly as the gateway builds it.

    python -m gateway.schema_file          # prints it
    python -m gateway.schema_file --write  # writes schema.graphql at the root (`make schema`)

`tools/schema_check.py` (part of `make lint`) fails when the committed file is not what this
prints, or when it breaks clients against the previous commit's.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from gateway.schema import build_schema

SCHEMA_FILE = Path(__file__).resolve().parent.parent / "schema.graphql"


def schema_sdl() -> str:
    return build_schema().as_str() + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m gateway.schema_file", description="The gateway's GraphQL schema as SDL."
    )
    parser.add_argument(
        "--write", action="store_true", help=f"write it to {SCHEMA_FILE.name} instead of stdout"
    )
    args = parser.parse_args(argv)
    if args.write:
        SCHEMA_FILE.write_text(schema_sdl())
        print(f"wrote {SCHEMA_FILE.name}")
    else:
        sys.stdout.write(schema_sdl())
    return 0


if __name__ == "__main__":
    sys.exit(main())
