"""`kubectl` while the Secret recipe of docs/deploying.md runs for pod-check
(tools/pod_check/secrets.py).

`kubectl [-n NS] create secret generic NAME --from-literal=KEY=VALUE --from-file=[KEY=]PATH ...`
appends {"name": NAME, "data": {KEY: value}} to the file $PODCHECK_SECRETS (values as Latin-1 text,
so any bytes survive JSON), reading each file at once: the recipe may shred it next.
`kubectl create namespace` does nothing. Anything else is refused, so a recipe that needs more
than this fails loudly rather than half-run.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path


def _parse(argv: list[str]) -> tuple[str, dict[str, bytes]] | None:
    words: list[str] = []
    options: list[str] = []
    skip = False
    for arg in argv:
        if skip:
            skip = False
        elif arg in ("-n", "--namespace"):
            skip = True
        elif arg.startswith("--namespace="):
            pass
        elif arg.startswith("-"):
            options.append(arg)
        else:
            words.append(arg)
    if words[:2] == ["create", "namespace"]:
        return None
    if words[:3] != ["create", "secret", "generic"] or len(words) != 4:
        raise SystemExit(f"pod-check's kubectl records `create secret generic` only, got: {argv}")
    data: dict[str, bytes] = {}
    for option in options:
        flag, _, spec = option.partition("=")
        if flag == "--from-literal":
            key, _, value = spec.partition("=")
            data[key] = value.encode()
        elif flag == "--from-file":
            key, sep, path = spec.partition("=")
            if not sep:
                key, path = Path(spec).name, spec
            data[key] = Path(path).read_bytes()
        else:
            raise SystemExit(f"pod-check's kubectl does not know {flag} (in {argv})")
    return words[3], data


def main(argv: list[str]) -> int:
    parsed = _parse(argv)
    if parsed is not None:
        name, data = parsed
        entry = {"name": name, "data": {k: v.decode("latin-1") for k, v in data.items()}}
        with open(os.environ["PODCHECK_SECRETS"], "a") as record:
            record.write(json.dumps(entry) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
