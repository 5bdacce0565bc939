"""The Stripe.js stand-in (stripe.js beside this file), as the stand-in serves it: with the API
base it calls filled in (the address the page loaded it from)."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

SOURCE = Path(__file__).with_name("stripe.js")
PLACEHOLDER = '"__API_BASE__"'


@cache
def _template() -> str:
    return SOURCE.read_text()


def script(api_base: str) -> str:
    return _template().replace(PLACEHOLDER, json.dumps(api_base))
