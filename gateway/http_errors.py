"""The JSON error bodies the gateway answers over HTTP: one shape per surface, one set of codes.

- GraphQL (`/graphql`): `{"errors": [{"message": ..., "extensions": {"code": ...}}]}`, the
  GraphQL spec's place for what a server adds to an error;
- REST (the seed's `/api/users/*`, and every other route): the seed's
  `{"errors": [{"message": ..., "field": ...}]}` with `code` beside them, `field` only for
  invalid input.

The codes are GraphQL's for the same failure (`common.errors.ErrorCode`, which a service's gRPC
status is mapped back to), plus the gateway's own PAYLOAD_TOO_LARGE and CSRF_REFUSED. A refusal
made before any route ran (the body limit, the CSRF guard) takes the shape of the path asked for.
"""

from __future__ import annotations

from typing import Any

import orjson
from starlette.types import Scope, Send

GRAPHQL_PATH = "/graphql"


def graphql_error(message: str, code: str) -> dict[str, Any]:
    return {"message": message, "extensions": {"code": code}}


def rest_error(message: str, code: str, field: str | None = None) -> dict[str, Any]:
    error: dict[str, Any] = {"message": message}
    if field:
        error["field"] = field
    error["code"] = code
    return error


async def send_error(
    scope: Scope,
    send: Send,
    status: int,
    message: str,
    code: str,
    headers: dict[str, str] | None = None,
) -> None:
    """Answers an ASGI request with `status` and one error, in the shape of its path, before any
    route ran (or after one was cut off), with `headers` besides its own."""
    if scope["path"] == GRAPHQL_PATH:
        error = graphql_error(message, code)
    else:
        error = rest_error(message, code)
    body = orjson.dumps({"errors": [error]})
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                *((k.encode("latin-1"), v.encode("latin-1")) for k, v in (headers or {}).items()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
