"""Who is calling: the token from `Authorization: Bearer` or the httpOnly `session` cookie,
verified here (signature, expiry, revocation) and again by every service it reaches."""

from __future__ import annotations

import time

import jwt
from starlette.requests import HTTPConnection
from starlette.responses import Response

from common.errors import Unauthenticated
from common.jwt import Claims, TokenVerifier, bearer_token
from gateway.access import note_user

COOKIE = "session"
# The device token auth returns on each sign-in (svc_auth/adapters/device_tokens.py): shown at
# the next sign-in, it makes this browser a device the account knows, which a stranger's failed
# attempts at the account do not hold up. Sent on every path: REST's /api/users/signin and the
# GraphQL signIn mutation (/graphql, /api/v1/graphql...) share no narrower one.
DEVICE_COOKIE = "device"


def device_token_of(request: HTTPConnection, given: str | None = None) -> str | None:
    """The device token a sign-in shows auth: the one the client gave (a non-browser client's
    `deviceToken`), else the `device` cookie."""
    return given or request.cookies.get(DEVICE_COOKIE) or None


def token_of(request: HTTPConnection) -> str | None:
    return bearer_token(request.headers.get("authorization")) or request.cookies.get(COOKIE)


async def claims_of(verifier: TokenVerifier, token: str | None) -> Claims | None:
    if not token:
        return None
    try:
        claims = await verifier.verify(token)
    except Unauthenticated:
        return None  # anything else (Redis down: UNAVAILABLE) is not "signed out"
    note_user(claims.sub)
    return claims


class Cookies:
    def __init__(self, secure: bool) -> None:
        self.secure = secure

    def set(self, response: Response, token: str, claims: Claims) -> None:
        response.set_cookie(
            COOKIE,
            token,
            max_age=max(0, claims.exp - claims.iat),
            path="/",
            httponly=True,
            secure=self.secure,
            samesite="lax",
        )

    def set_device(self, response: Response, device_token: str) -> None:
        # Kept as long as the token lives (auth's DEVICE_TOKEN_TTL_SECONDS): its `exp`, read
        # unverified, as auth has just issued it and auth checks it when it comes back.
        try:
            exp = jwt.decode(device_token, options={"verify_signature": False})["exp"]
            max_age = max(0, int(exp) - int(time.time()))
        except (jwt.PyJWTError, KeyError, TypeError, ValueError):
            return
        # Strict: no other site's page can make the browser show it (it only ever needs to
        # reach our own sign-in, which the web app calls from our own origin).
        response.set_cookie(
            DEVICE_COOKIE,
            device_token,
            max_age=max_age,
            path="/",
            httponly=True,
            secure=self.secure,
            samesite="strict",
        )

    def clear(self, response: Response) -> None:
        response.delete_cookie(COOKIE, path="/", httponly=True, secure=self.secure, samesite="lax")
