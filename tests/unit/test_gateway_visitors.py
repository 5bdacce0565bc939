"""The visitor's anonymous id: kept from its cookie, issued when missing or not one of ours."""

from __future__ import annotations

import uuid

from starlette.requests import Request
from starlette.responses import Response

from gateway.visitors import COOKIE, AnonymousIds


def request(cookie: str | None) -> Request:
    headers = [(b"cookie", f"{COOKIE}={cookie}".encode())] if cookie is not None else []
    return Request({"type": "http", "method": "POST", "path": "/graphql", "headers": headers})


def set_cookies(response: Response) -> list[str]:
    return [v.decode() for k, v in response.raw_headers if k == b"set-cookie"]


def test_a_visitor_with_our_cookie_keeps_its_id_and_gets_no_new_cookie() -> None:
    known, response = str(uuid.uuid4()), Response()
    assert AnonymousIds(secure=True).of(request(known), response) == known
    assert set_cookies(response) == []


def test_a_first_visit_gets_an_id_for_a_year() -> None:
    response = Response()
    issued = AnonymousIds(secure=False).of(request(None), response)
    assert uuid.UUID(issued)
    [cookie] = set_cookies(response)
    assert cookie.startswith(f"{COOKIE}={issued};")
    assert "HttpOnly" in cookie and "Max-Age=31536000" in cookie and "SameSite=lax" in cookie
    assert "Secure" not in cookie  # COOKIE_SECURE=false: plain http on localhost


def test_an_id_we_did_not_issue_is_replaced() -> None:
    for forged in ("", "x" * 300, "<script>", "0" * 36, "'; DROP TABLE events; --"):
        response = Response()
        issued = AnonymousIds(secure=True).of(request(forged), response)
        assert issued != forged and uuid.UUID(issued)
        [cookie] = set_cookies(response)
        assert "Secure" in cookie
