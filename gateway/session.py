"""Who is calling: the token from `Authorization: Bearer` or the httpOnly `session` cookie,
verified here (signature, expiry, revocation) and again by every service it reaches."""

from __future__ import annotations

from starlette.requests import HTTPConnection
from starlette.responses import Response

from common.errors import Unauthenticated
from common.jwt import Claims, TokenVerifier, bearer_token
from gateway.access import note_user

COOKIE = "session"


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

    def clear(self, response: Response) -> None:
        response.delete_cookie(COOKIE, path="/", httponly=True, secure=self.secure, samesite="lax")
