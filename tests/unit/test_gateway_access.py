"""The gateway's record of each request: its access line, its request id, its span."""

from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import Iterator

import httpx
import pytest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from strawberry.asgi import GraphQL

from common.logging import JsonFormatter
from gateway.access import AccessLog, note_user
from gateway.schema import build_schema

CLIENT_TRACE = "0af7651916cd43dd8448eb211c80319c"
CLIENT_TRACEPARENT = f"00-{CLIENT_TRACE}-b7ad6b7169203331-01"


async def whoami(request: Request) -> JSONResponse:
    note_user("user-42")
    logging.getLogger("gateway.test").info("inside")
    return JSONResponse({"ok": True})


async def broken(request: Request) -> JSONResponse:
    raise RuntimeError("a bug")


async def healthz(request: Request) -> JSONResponse:
    return JSONResponse({"ok": True})


def app() -> Starlette:
    routes = [
        Route("/whoami", whoami),
        Route("/broken", broken),
        Route("/healthz", healthz),
        Route("/graphql", GraphQL(build_schema()), methods=["GET", "POST"]),
    ]
    access = Middleware(AccessLog, routes=["/whoami", "/broken", "/graphql"], probes=["/healthz"])
    return Starlette(routes=routes, middleware=[access])


class LogLines:
    """Every line logged during the test, as the gateway writes it."""

    def __init__(self) -> None:
        self.out = io.StringIO()

    def all(self) -> list[dict]:
        return [json.loads(text) for text in self.out.getvalue().splitlines()]

    def access(self) -> list[dict]:
        return [line for line in self.all() if line["logger"] == "gateway.access"]


@pytest.fixture
def lines() -> Iterator[LogLines]:
    captured = LogLines()
    handler = logging.StreamHandler(captured.out)
    handler.setFormatter(JsonFormatter("gateway"))
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield captured
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


async def ask(path: str, method: str = "GET", **kwargs) -> httpx.Response:
    transport = httpx.ASGITransport(app=app(), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://gw") as client:
        return await client.request(method, path, **kwargs)


async def test_one_access_line_per_request_with_who_what_and_how_it_went(lines, spans):
    reply = await ask("/whoami?password=hunter2", headers={"x-request-id": "req-1.a:b"})
    assert reply.status_code == 200 and reply.headers["x-request-id"] == "req-1.a:b"
    [access] = lines.access()
    assert access["msg"] == "request" and access["level"] == "info"
    assert access["method"] == "GET" and access["path"] == "/whoami"  # never the query string
    assert access["status"] == 200 and isinstance(access["duration_ms"], float)
    assert access["user_id"] == "user-42" and access["request_id"] == "req-1.a:b"
    [inside] = [line for line in lines.all() if line["msg"] == "inside"]
    assert inside["request_id"] == "req-1.a:b"
    [span] = spans.get_finished_spans()
    assert span.name == "GET /whoami" and span.attributes["http.response.status_code"] == 200
    assert span.attributes["enduser.id"] == "user-42"
    assert access["trace_id"] == inside["trace_id"] == f"{span.context.trace_id:032x}"
    ours = [line for line in lines.all() if not line["logger"].startswith("httpx")]
    assert "hunter2" not in json.dumps(ours)


@pytest.mark.parametrize("given", [None, "", "x" * 129, "has space", "new\nline", "ünïcode", "a,b"])
async def test_a_missing_or_odd_request_id_is_replaced_by_a_new_one(lines, given):
    headers = {} if given is None else {"x-request-id": given.encode()}
    reply = await ask("/whoami", headers=headers)
    made = reply.headers["x-request-id"]
    assert re.fullmatch(r"[0-9a-f]{32}", made)
    assert lines.access()[0]["request_id"] == made


async def test_a_clients_traceparent_is_a_link_not_the_parent(spans):
    await ask("/whoami", headers={"traceparent": CLIENT_TRACEPARENT})
    [span] = spans.get_finished_spans()
    assert span.parent is None and f"{span.context.trace_id:032x}" != CLIENT_TRACE
    [link] = span.links
    assert f"{link.context.trace_id:032x}" == CLIENT_TRACE


async def test_probes_get_no_span_and_a_debug_line(lines, spans):
    assert (await ask("/healthz")).status_code == 200
    [access] = lines.access()
    assert access["level"] == "debug" and access["path"] == "/healthz"
    assert spans.get_finished_spans() == ()


async def test_a_bug_is_logged_as_a_500_and_its_span_is_an_error(lines, spans):
    assert (await ask("/broken")).status_code == 500
    [access] = lines.access()
    assert access["status"] == 500 and access["user_id"] is None
    [span] = spans.get_finished_spans()
    assert not span.status.is_ok


async def test_graphql_lines_name_the_operation_its_fields_and_error_codes(lines, spans):
    named = {"query": "query Probe { __typename }"}
    invalid = {"query": "{ nope alsoNope nope }"}
    unparsable = {"query": "mutation {"}
    for body in (named, invalid, unparsable):
        assert (await ask("/graphql", "POST", json=body)).status_code == 200
    probe, wrong, broken = lines.access()
    assert (probe["operation_type"], probe["operation"], probe["fields"]) == (
        "query",
        "Probe",
        ["__typename"],
    )
    assert "errors" not in probe
    assert (wrong["operation"], wrong["fields"], wrong["errors"]) == (
        None,
        ["nope", "alsoNope"],
        ["BAD_USER_INPUT"],
    )
    assert broken["operation_type"] == "unknown" and broken["errors"] == ["BAD_USER_INPUT"]
    first = spans.get_finished_spans()[0]
    assert first.name == "POST /graphql"
    assert first.attributes["graphql.operation.name"] == "Probe"


async def test_an_operation_name_that_is_not_in_the_query_is_not_logged(lines):
    body = {"query": "{ __typename }", "operationName": "x\u2028<script>"}
    assert (await ask("/graphql", "POST", json=body)).status_code == 400
    [access] = lines.access()
    assert access["status"] == 400 and "script" not in json.dumps(access)


async def test_field_names_a_client_made_up_are_few_and_cut_short(lines):
    long_name = "f" * 10_000
    query = "{ " + " ".join([long_name, *(f"x{i}" for i in range(100))]) + " }"
    await ask("/graphql", "POST", json={"query": query})
    [access] = lines.access()
    assert access["fields"] == ["f" * 64, "x0", "x1", "x2", "x3"]
