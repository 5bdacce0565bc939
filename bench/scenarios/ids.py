"""The API's global ids (docs/api.md ID-2) for what the bench made or reads below the API.

Clients treat ids as opaque. The bench is not a client there: it lists tickets over gRPC (the
service's own ids) and hands them to k6 scripts that speak GraphQL, and it matches what the API
answered with the database's documents and the events' bodies (the services' own ids again).
These two functions are that bridge, following the encoding ID-2 states: base64url, without
padding, of `<TypeName>:<uuid>`."""

from __future__ import annotations

import base64


def global_id(type_name: str, raw_id: str) -> str:
    return base64.urlsafe_b64encode(f"{type_name}:{raw_id}".encode()).rstrip(b"=").decode()


def raw_id(global_id_: str) -> str:
    """The service's id inside an API id (`Ticket:<uuid>` -> `<uuid>`)."""
    padded = global_id_ + "=" * (-len(global_id_) % 4)
    return base64.urlsafe_b64decode(padded).decode().split(":", 1)[1]
