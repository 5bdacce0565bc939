"""What the gateway takes from a client before it does any work: a body of bounded size, and JSON
of bounded depth and string length, in valid UTF-8.

- `BodyLimit` (ASGI middleware) answers 413 to a body over MAX_REQUEST_BODY_BYTES: at once when
  its Content-Length says so, else as soon as the bytes received pass the limit (a chunked body
  is counted as it arrives, never read whole first). A body within the limit is handed to the
  route as usual.
- `parse_json` is the one JSON parser of client bodies (REST /api/users/*, GraphQL POST bodies
  and `variables`): invalid JSON, invalid UTF-8 and lone UTF-16 surrogates (`"\\ud800"`, which
  no protobuf string can carry) are refused as `JsonRefused`, and so are values nested deeper
  than JSON_MAX_DEPTH or strings longer than JSON_MAX_STRING_CHARS. The callers answer 400.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.http_errors import send_error

PAYLOAD_TOO_LARGE = "PAYLOAD_TOO_LARGE"


class JsonRefused(ValueError):
    """The body is not JSON this gateway takes; the message says why, for the client."""


@dataclass(frozen=True)
class JsonLimits:
    max_depth: int = 32
    max_string_chars: int = 10_000


def parse_json(
    data: bytes | str, limits: JsonLimits, long_strings_at: Collection[str] = ()
) -> object:
    """The JSON value of `data`, within `limits`; a top-level object's keys named in
    `long_strings_at` may hold longer strings (a GraphQL `query`: the body size bounds it)."""
    try:
        # orjson takes UTF-8 only, refuses surrogates whether raw or escaped, and stops at
        # 1,024 levels without recursing in Python (json.loads hits RecursionError).
        value = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        # orjson says what is wrong (e.g. "no low surrogate in string") and where, never what
        # the text was.
        raise JsonRefused(f"Request body must be JSON in UTF-8: {exc}") from None
    check_json(value, limits, long_strings_at)
    return value


def check_json(value: object, limits: JsonLimits, long_strings_at: Collection[str] = ()) -> None:
    """Refuses (`JsonRefused`) a parsed value nested or with strings beyond `limits`."""
    # Iterative: orjson takes values nested up to 1,024 levels, more than Python's stack would.
    stack: list[tuple[object, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, str):
            if len(item) > limits.max_string_chars:
                raise JsonRefused(
                    f"A JSON string is longer than {limits.max_string_chars} characters"
                )
            continue
        if isinstance(item, dict):
            top = depth == 1
            children = [*item.keys()]
            children += [
                v
                for k, v in item.items()
                if not (top and k in long_strings_at and isinstance(v, str))
            ]
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > limits.max_depth:
            raise JsonRefused(f"The JSON is nested deeper than {limits.max_depth} levels")
        stack.extend((child, depth + 1) for child in children)


class BodyLimit:
    """Refuses HTTP request bodies over `max_bytes` with 413 and a JSON error."""

    def __init__(self, app: ASGIApp, max_bytes: int, own_limits: Collection[str] = ()) -> None:
        self.app = app
        self.max_bytes = max_bytes
        # Routes that read their body themselves, with a limit of their own (file uploads).
        self.own_limits = frozenset(own_limits)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in self.own_limits:
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is not None and declared > self.max_bytes:
            await self._refuse(scope, receive, send)
            return
        body = bytearray()
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                return
            body += message.get("body", b"")
            if len(body) > self.max_bytes:
                await self._refuse(scope, receive, send)
                return
            if not message.get("more_body", False):
                break
        await self.app(scope, _replay(bytes(body), receive), send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        # The rest of the body is not read here: the server discards it, and the connection
        # stays usable for the client's next request.
        message = f"The request body is larger than {self.max_bytes} bytes"
        await send_error(scope, send, 413, message, PAYLOAD_TOO_LARGE)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None  # the HTTP server refuses such a request before it gets here
    return None


def _replay(body: bytes, receive: Receive) -> Receive:
    """A `receive` that gives the body read already, then whatever the client does next."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay
