"""The gateway's `device` cookie (gateway/session.py): what a browser keeps of auth's device
token, and gives back at the next sign-in."""

from __future__ import annotations

import time

import jwt
import pytest
from starlette.requests import Request
from starlette.responses import Response

from gateway.session import DEVICE_COOKIE, Cookies, device_token_of


def token(lifetime: int) -> str:
    return jwt.encode({"exp": int(time.time()) + lifetime}, "k" * 32, algorithm="HS256")


@pytest.mark.parametrize("secure", [True, False])
def test_it_is_httponly_strict_and_kept_as_long_as_the_token_lives(secure: bool) -> None:
    response = Response()
    Cookies(secure=secure).set_device(response, token(86_400))
    header = response.headers["set-cookie"].lower()
    assert header.startswith(f"{DEVICE_COOKIE}=")
    assert "httponly" in header and "samesite=strict" in header and "path=/" in header
    assert ("secure" in header.split("; ")) is secure
    max_age = int(header.split("max-age=")[1].split(";")[0])
    assert 86_390 <= max_age <= 86_400


def test_a_value_that_is_no_token_sets_no_cookie() -> None:
    response = Response()
    Cookies(secure=True).set_device(response, "not a token")
    assert "set-cookie" not in response.headers


def test_the_clients_own_token_comes_before_the_cookie() -> None:
    scope = {"type": "http", "headers": [(b"cookie", f"{DEVICE_COOKIE}=from-cookie".encode())]}
    request = Request(scope)
    assert device_token_of(request) == "from-cookie"
    assert device_token_of(request, "given") == "given"
    assert device_token_of(Request({"type": "http", "headers": []})) is None
