"""Stripe's wire conventions: form-encoded bodies, the error envelope, the list envelope, ids."""

from __future__ import annotations

import re
import uuid
from typing import Any
from urllib.parse import parse_qsl

from starlette.responses import JSONResponse


class StripeError(Exception):
    """An answer in Stripe's error shape: `{"error": {"type", "message", "code", "param", ...}}`."""

    def __init__(self, status: int, kind: str, message: str, **fields: Any) -> None:
        super().__init__(message)
        self.status = status
        self.body = {"error": {"type": kind, "message": message, **fields}}

    def response(self) -> JSONResponse:
        return JSONResponse(self.body, self.status)


def invalid(message: str, param: str | None = None, **fields: Any) -> StripeError:
    """400 `invalid_request_error`, naming the parameter at fault when there is one."""
    if param is not None:
        fields["param"] = param
    return StripeError(400, "invalid_request_error", message, **fields)


def missing(kind: str, object_id: str, param: str) -> StripeError:
    """Stripe's answer for an id it does not hold: `resource_missing`, 404 when the id is the
    path's (`param` "id"), 400 when it came as a parameter (`destination`, `charge`, ...)."""
    status = 404 if param == "id" else 400
    return StripeError(
        status,
        "invalid_request_error",
        f"No such {kind}: '{object_id}'",
        code="resource_missing",
        param=param,
    )


def new_id(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:24]}"


def form_of(encoded: str) -> dict[str, Any]:
    """Stripe's form encoding: `metadata[k]=v` into a dict, `types[0]=card` into a list,
    `created[gte]=1` into `{"created": {"gte": "1"}}`. Deeper nesting is kept under its raw key."""
    form: dict[str, Any] = {}
    for key, value in parse_qsl(encoded, keep_blank_values=True):
        nested = re.fullmatch(r"(\w+)\[(\w*)\]", key)
        if nested is None:
            form[key] = value
        elif nested.group(2).isdigit() or not nested.group(2):
            form.setdefault(nested.group(1), []).append(value)
        else:
            form.setdefault(nested.group(1), {})[nested.group(2)] = value
    return form


def integer(form: dict[str, Any], name: str, default: int | None = None) -> int:
    """A required (or defaulted) non-negative integer parameter, or Stripe's 400 naming it."""
    raw = form.get(name)
    if raw is None or raw == "":
        if default is not None:
            return default
        raise invalid(f"Missing required param: {name}.", name, code="parameter_missing")
    try:
        value = int(raw)
    except (TypeError, ValueError):
        raise invalid("Invalid integer: " + str(raw), name) from None
    if value < 0:
        raise invalid("This value must be greater than or equal to 0.", name)
    return value


def listing(url: str, items: list[dict[str, Any]], has_more: bool) -> dict[str, Any]:
    """Stripe's list envelope."""
    return {"object": "list", "data": items, "has_more": has_more, "url": url}


def required(form: dict[str, Any], name: str) -> str:
    """A required string parameter, or Stripe's 400 `parameter_missing` naming it."""
    value = form.get(name)
    if not isinstance(value, str) or not value:
        raise invalid(f"Missing required param: {name}.", name, code="parameter_missing")
    return value


def paged(
    entries: list[dict[str, Any]], query: dict[str, Any], kind: str
) -> tuple[list[dict[str, Any]], bool]:
    """One page of `entries` (newest first, as Stripe lists): `created` (an exact time, or
    `created[gte|gt|lte|lt]`), `starting_after`, `ending_before`, `limit` (1 to 100, default
    10); the page and whether more follow."""
    limit = integer(query, "limit", default=10)
    if not 1 <= limit <= 100:
        raise invalid("Invalid limit: must be between 1 and 100", "limit")
    created = query.get("created")
    if isinstance(created, dict):
        tests = {"gte": int.__ge__, "gt": int.__gt__, "lte": int.__le__, "lt": int.__lt__}
        for op in created:
            if op not in tests:
                raise invalid(f"Received unknown parameter: created[{op}]", f"created[{op}]")
        bounds = {op: integer(created, op) for op in created}
        entries = [
            e for e in entries if all(tests[op](e["created"], b) for op, b in bounds.items())
        ]
    elif created is not None:
        entries = [e for e in entries if e["created"] == integer(query, "created")]
    ids = [e["id"] for e in entries]
    after, before = query.get("starting_after"), query.get("ending_before")
    if after:
        if after not in ids:
            raise missing(kind, after, "starting_after")
        entries = entries[ids.index(after) + 1 :]
    elif before:
        if before not in ids:
            raise missing(kind, before, "ending_before")
        entries = entries[: ids.index(before)][-limit:]
    return entries[:limit], len(entries) > limit
