"""`ticketing ticket-keys`: the ticket-code key directory (README "Ticket codes"; the files:
svc_delivery/adapters/signing_keys.py). An operator's command, run where the directory is (or
on a copy that then becomes the Secret): the service reads the directory at start.

    ticketing ticket-keys generate DIR [--not-before ISO-8601]   the first key, or the next one
    ticketing ticket-keys retire DIR KID                          a key's codes refused from now
    ticketing ticket-keys show DIR                                the ring and which key signs
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path

from common.errors import Conflict
from common.settings import ConfigError
from svc_delivery.adapters import signing_keys

PROGRAM = "ticketing ticket-keys"


def parse_time(raw: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(raw)
    except ValueError:
        raise SystemExit(f"{PROGRAM}: not an ISO-8601 time: {raw!r}") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def run(action: str, directory: Path, key_id: str | None, not_before: str | None) -> int:
    now = datetime.now(UTC)
    try:
        if action == "generate":
            starts = parse_time(not_before) if not_before else now
            key = signing_keys.generate(directory, starts)
            print(f"key {key.key_id} signs from {key.not_before.isoformat()} ({directory})")
        elif action == "retire":
            if not key_id:
                print(f"{PROGRAM}: retire needs the key id (KID)", file=sys.stderr)
                return 2
            signing_keys.retire(directory, key_id, now)
            print(f"key {key_id} retired at {now.isoformat()}: its codes are refused from now")
        else:
            ring = signing_keys.read_ring(directory)
            print(json.dumps(ring.published(), indent=2))
            print(f"signing now: {ring.signing_key(now).key_id}", file=sys.stderr)
    except (ConfigError, Conflict) as refused:
        print(f"{PROGRAM}: {refused}", file=sys.stderr)
        return 1
    return 0
