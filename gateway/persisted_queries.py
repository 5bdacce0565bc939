"""Persisted queries (docs/api.md §9, PQ-1..4): a client may send the SHA-256 of an operation's
text instead of the text, and in production only registered operations run.

- **APQ** (Apollo's Automatic Persisted Queries, `GRAPHQL_PERSISTED_QUERIES=apq`, the default):
  `extensions.persistedQuery = {"version": 1, "sha256Hash": "<hex>"}`. A hash alone whose text is
  not known: one error PERSISTED_QUERY_NOT_FOUND, message `PersistedQueryNotFound` (what Apollo's
  and urql's clients look for); the client sends the text with the hash, which must be the text's
  SHA-256 (BAD_USER_INPUT otherwise), and once that text has parsed and validated (a
  subscription's: parsed; it is validated as it runs) it is kept in Redis
  (`<namespace>:apq:<hash>`) for 24 h after its last use. A cache, not a fact: a client can
  always send the text again, so a Redis that is down makes every hash a miss, never an error.
- **Allow-list** (`allowlist`, production): only registered operations run, sent by hash or by
  their exact text; anything else is OPERATION_NOT_REGISTERED, and nothing a request sends is
  stored. Registered are the web app's operations (`persisted-operations.json` in WEB_DIST_DIR,
  written by `make web`) and every registered client's (`persisted/clients/<client>/
  <version>.json`, PERSISTED_CLIENTS_DIR), both in Apollo's manifest format (PQ-4). They are read
  once, when the gateway starts; in APQ mode they are served by hash too, without Redis.
- **GET** (PQ-2): a query may come as `GET /graphql?query=…` or `?extensions=…` (each parameter
  JSON, URL-encoded) so HTTP caches can keep hashed queries; a mutation over GET is 405 with
  `Allow: POST`. (With the session cookie such a GET needs a preflight header: gateway/csrf.py.)

HTTP requests are resolved by `PersistedQueryView`, which GraphQLApp (gateway/app.py) extends;
graphql-ws `subscribe` messages by the subscriptions handler (gateway/subscriptions/transport.py),
both with `PersistedQueries.resolve`.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
from cross_web import HTTPException
from graphql import GraphQLError, parse
from redis.asyncio import Redis
from starlette.responses import JSONResponse, Response
from strawberry.http import GraphQLRequestData
from strawberry.schema.exceptions import InvalidOperationTypeError
from strawberry.types import ExecutionResult
from strawberry.types.unset import UNSET

from common.errors import ErrorCode
from common.redis_client import OUTAGES
from gateway.http_errors import graphql_error

log = logging.getLogger(__name__)

APQ = "apq"
ALLOWLIST = "allowlist"
MODES = (APQ, ALLOWLIST)

# The gateway's own top-level codes (docs/api.md §12), like CSRF_REFUSED and PAYLOAD_TOO_LARGE.
PERSISTED_QUERY_NOT_FOUND = "PERSISTED_QUERY_NOT_FOUND"
OPERATION_NOT_REGISTERED = "OPERATION_NOT_REGISTERED"
# The message Apollo's and urql's clients recognise a miss by (they ignore the code).
NOT_FOUND_MESSAGE = "PersistedQueryNotFound"
NOT_REGISTERED_MESSAGE = (
    "This operation is not registered: only the web app's and registered clients' operations "
    "run here (docs/api.md PQ-4)"
)
MISMATCH_MESSAGE = "The persisted query's sha256Hash is not the SHA-256 of its query"

STORE_TTL_SECONDS = 24 * 3600
# A command of the store that takes longer fails and the request does without it (a miss).
STORE_TIMEOUT_SECONDS = 0.5

MANIFEST_FORMAT = "apollo-persisted-query-manifest"
WEB_MANIFEST = "persisted-operations.json"
OPERATION_TYPES = ("query", "mutation", "subscription")
_SHA256_HEX = re.compile(r"[0-9a-f]{64}")


def sha256_hex(text: str) -> str:
    """The hash PQ-1 names an operation by: SHA-256 of its UTF-8 text, lower-case hex."""
    return hashlib.sha256(text.encode()).hexdigest()


# ---- manifests (PQ-4) --------------------------------------------------------------------------


class ManifestError(ValueError):
    """A manifest that is not Apollo's format, or whose ids are not their bodies' hashes."""


@dataclass(frozen=True)
class ManifestOperation:
    id: str
    name: str
    type: str
    body: str


def manifest_operations(path: Path) -> list[ManifestOperation]:
    """The operations of one manifest in Apollo's format; their ids are not checked here."""
    try:
        data = orjson.loads(path.read_bytes())
    except (OSError, orjson.JSONDecodeError) as exc:
        raise ManifestError(f"{path}: not a readable JSON file: {exc}") from None
    if not isinstance(data, dict) or data.get("format") != MANIFEST_FORMAT:
        raise ManifestError(f"{path}: `format` must be {MANIFEST_FORMAT!r}")
    if data.get("version") != 1:
        raise ManifestError(f"{path}: `version` must be 1")
    entries = data.get("operations")
    if not isinstance(entries, list):
        raise ManifestError(f"{path}: `operations` must be a list")
    operations = []
    for index, entry in enumerate(entries):
        where = f"{path}: operations[{index}]"
        if not isinstance(entry, dict) or not all(
            isinstance(entry.get(key), str) for key in ("id", "name", "type", "body")
        ):
            raise ManifestError(f"{where}: needs string `id`, `name`, `type` and `body`")
        operation = ManifestOperation(entry["id"], entry["name"], entry["type"], entry["body"])
        if operation.type not in OPERATION_TYPES:
            raise ManifestError(f"{where}: `type` must be one of {', '.join(OPERATION_TYPES)}")
        operations.append(operation)
    return operations


def id_problem(operation: ManifestOperation) -> str | None:
    if operation.id == sha256_hex(operation.body):
        return None
    return (
        f"`id` is not the SHA-256 of `body` ({sha256_hex(operation.body)}); a client must send "
        "exactly the registered body"
    )


def read_manifest(path: Path) -> list[ManifestOperation]:
    """The operations of one manifest, each id checked to be its body's SHA-256."""
    operations = manifest_operations(path)
    for index, operation in enumerate(operations):
        if problem := id_problem(operation):
            raise ManifestError(f"{path}: operations[{index}] ({operation.name}): {problem}")
    return operations


def client_manifests(clients_dir: Path) -> list[Path]:
    """Every registered client's manifest: `<clients_dir>/<client>/<app-version>.json`."""
    return sorted(clients_dir.glob("*/*.json")) if clients_dir.is_dir() else []


def registered_operations(manifests: Iterable[Path]) -> dict[str, str]:
    """Hash -> text of every operation of these manifests."""
    return {op.id: op.body for path in manifests for op in read_manifest(path)}


# ---- resolving a request -------------------------------------------------------------------------


class Refused(Exception):
    """A request refused before anything runs; answered as one GraphQL error with this code."""

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.message = message
        self.code = code

    def graphql_error(self) -> GraphQLError:
        return GraphQLError(self.message, extensions={"code": self.code})


def requested_hash(extensions: object) -> str | None:
    """The hash of `extensions.persistedQuery`, None without one; a malformed one is refused."""
    if not isinstance(extensions, Mapping) or extensions.get("persistedQuery") is None:
        return None
    persisted = extensions["persistedQuery"]
    bad = ErrorCode.BAD_USER_INPUT.value
    if not isinstance(persisted, Mapping) or persisted.get("version") != 1:
        raise Refused("extensions.persistedQuery must be {version: 1, sha256Hash: <hex>}", bad)
    digest = persisted.get("sha256Hash")
    if not isinstance(digest, str) or not _SHA256_HEX.fullmatch(digest.lower()):
        raise Refused("extensions.persistedQuery.sha256Hash must be 64 hex digits", bad)
    return digest.lower()


@dataclass(frozen=True)
class Resolved:
    """The text to run (None: the request had none), and the hash to keep it under once it has
    validated (APQ's registration), if any."""

    query: str | None
    remember_as: str | None = None


class PersistedQueries:
    """Resolves what a request asks to run: its text, a hash's text, or a refusal."""

    def __init__(
        self, mode: str, registered: Mapping[str, str], redis: Redis | None, namespace: str
    ) -> None:
        if mode not in MODES:
            raise ValueError(f"unknown persisted-queries mode {mode!r}")
        self.mode = mode
        self.registered = dict(registered)
        self.redis = redis
        self.prefix = f"{namespace}:apq:"

    @property
    def allowlist(self) -> bool:
        return self.mode == ALLOWLIST

    async def resolve(self, query: object, extensions: object) -> Resolved:
        digest = requested_hash(extensions)
        if not isinstance(query, str) or not query:
            query = None  # Strawberry answers a request without a query (or a bad one) itself
        if digest is None:
            if self.allowlist and query is not None and sha256_hex(query) not in self.registered:
                raise Refused(NOT_REGISTERED_MESSAGE, OPERATION_NOT_REGISTERED)
            return Resolved(query)
        if query is not None:
            if sha256_hex(query) != digest:
                raise Refused(MISMATCH_MESSAGE, ErrorCode.BAD_USER_INPUT.value)
            if digest in self.registered:
                return Resolved(query)
            if self.allowlist:
                raise Refused(NOT_REGISTERED_MESSAGE, OPERATION_NOT_REGISTERED)
            return Resolved(query, remember_as=digest)
        if digest in self.registered:
            return Resolved(self.registered[digest])
        if self.allowlist:
            raise Refused(NOT_REGISTERED_MESSAGE, OPERATION_NOT_REGISTERED)
        text = await self._stored(digest)
        if text is None:
            raise Refused(NOT_FOUND_MESSAGE, PERSISTED_QUERY_NOT_FOUND)
        return Resolved(text)

    async def _stored(self, digest: str) -> str | None:
        if self.redis is None:
            return None
        try:
            # Read and kept another 24 h in one command: the TTL counts from the last use.
            value = await self.redis.getex(self.prefix + digest, ex=STORE_TTL_SECONDS)
        except OUTAGES as exc:
            log.warning("persisted-query store unavailable: a miss", extra={"error": repr(exc)})
            return None
        if value is None:
            return None
        text = value.decode() if isinstance(value, bytes) else str(value)
        # A key holds its hash's text (only such are stored); anything else is not trusted.
        return text if sha256_hex(text) == digest else None

    async def remember(self, resolved: Resolved) -> None:
        """Keeps a text a client registered (APQ), once it has validated."""
        if self.redis is None or resolved.remember_as is None or resolved.query is None:
            return
        try:
            await self.redis.set(
                self.prefix + resolved.remember_as, resolved.query, ex=STORE_TTL_SECONDS
            )
        except OUTAGES as exc:
            log.warning("persisted-query store unavailable: not kept", extra={"error": repr(exc)})

    async def close(self) -> None:
        if self.redis is not None:
            await self.redis.aclose()


def load_persisted_queries(
    mode: str,
    web_dist: Path,
    clients_dir: Path,
    redis: Redis | None,
    namespace: str,
    *,
    web_manifest_required: bool,
) -> PersistedQueries:
    """The registered operations read from disk, once. In allow-list mode the web app's manifest
    must be there when the gateway serves the app: without it the app could run nothing."""
    manifests = client_manifests(clients_dir)
    web_manifest = web_dist / WEB_MANIFEST
    if web_manifest.is_file():
        manifests.insert(0, web_manifest)
    elif mode == ALLOWLIST and web_manifest_required:
        raise ManifestError(
            f"GRAPHQL_PERSISTED_QUERIES=allowlist and WEB_APP is on, but there is no {web_manifest}"
            " (`make web` writes it): the web app's operations would all be refused"
        )
    registered = registered_operations(manifests)
    return PersistedQueries(mode, registered, redis if mode == APQ else None, namespace)


# ---- the HTTP side: Strawberry's view, extended --------------------------------------------------

GET_ONLY_QUERIES = "Only queries may be sent by GET; send {kind} by POST"


class NotAQueryOverGet(HTTPException):
    def __init__(self, kind: str) -> None:
        super().__init__(405, GET_ONLY_QUERIES.format(kind=kind))


def parses(text: str | None, max_tokens: int) -> bool:
    """The text is a GraphQL document (within the token limit). A subscription's text is kept
    once it parses: it is validated when it runs, as it would be sent as text."""
    if text is None:
        return False
    try:
        parse(text, no_location=True, max_tokens=max_tokens)
    except GraphQLError:
        return False
    return True


def _validated(result: ExecutionResult) -> bool:
    """The operation parsed and validated: it has data, or its errors come from running it (a
    refusal before running has neither)."""
    return result.data is not None or any(e.path for e in result.errors or ())


class PersistedQueryView:
    """Mixed into GraphQLApp (a Strawberry GraphQL view): resolves the persisted query of every
    HTTP request before Strawberry runs it, and answers 405 to anything but a query over GET."""

    persisted: PersistedQueries

    def should_render_graphql_ide(self, request: Any) -> bool:
        # A hash-only GET has no `query` but is an operation, not a browser asking for GraphiQL.
        return (
            super().should_render_graphql_ide(request)  # type: ignore[misc]
            and request.query_params.get("extensions") is None
        )

    async def execute_operation(
        self,
        request: Any,
        request_adapter: Any,
        request_data: GraphQLRequestData | list[GraphQLRequestData],
        context: Any,
        root_value: Any,
        sub_response: Any,
    ) -> Any:
        if not isinstance(request_data, GraphQLRequestData):  # a batch: Strawberry refuses them
            return await super().execute_operation(  # type: ignore[misc]
                request, request_adapter, request_data, context, root_value, sub_response
            )
        try:
            resolved = await self.persisted.resolve(request_data.query, request_data.extensions)
        except Refused as exc:
            return ExecutionResult(data=None, errors=[exc.graphql_error()])
        request_data.query = resolved.query
        result = await super().execute_operation(  # type: ignore[misc]
            request, request_adapter, request_data, context, root_value, sub_response
        )
        if resolved.remember_as and isinstance(result, ExecutionResult) and _validated(result):
            await self.persisted.remember(resolved)
        return result

    async def execute_single(
        self,
        request: Any,
        request_adapter: Any,
        sub_response: Any,
        context: Any,
        root_value: Any,
        request_data: GraphQLRequestData,
    ) -> Any:
        try:
            return await super().execute_single(  # type: ignore[misc]
                request, request_adapter, sub_response, context, root_value, request_data
            )
        except HTTPException as exc:
            cause = exc.__cause__
            if request_adapter.method == "GET" and isinstance(cause, InvalidOperationTypeError):
                raise NotAQueryOverGet(f"{cause.operation_type.value}s") from cause
            raise

    async def run(self, request: Any, context: Any = UNSET, root_value: Any = UNSET) -> Any:
        try:
            return await super().run(request, context, root_value)  # type: ignore[misc]
        except NotAQueryOverGet as exc:
            return method_not_allowed(exc.reason)


def method_not_allowed(message: str) -> Response:
    body = {"errors": [graphql_error(message, ErrorCode.BAD_USER_INPUT.value)]}
    return JSONResponse(body, status_code=405, headers={"allow": "POST"})
