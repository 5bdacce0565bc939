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
