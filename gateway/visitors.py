"""A visitor's stable anonymous id: the `anon_id` cookie, set on the first GraphQL response that
finds none and kept for a year. Behaviour events carry it beside the user id (when signed in), so
what a visitor did before signing up is linked to the account after. It identifies a browser,
not a person, and grants nothing: it is never used to authorize. It does tell the visitors behind
one shared address apart for the /graphql limit per visitor (gateway/rate_limits/graphql.py).

Not signed: an id a client makes up buys it nothing, since every signed-out request counts
against its address as well; the visitor limit only keeps one visitor from using up what its
address allows everyone behind it."""

from __future__ import annotations

import re
import uuid

from starlette.requests import HTTPConnection
from starlette.responses import Response

COOKIE = "anon_id"
MAX_AGE_SECONDS = 365 * 24 * 3600
# What we issue (a UUID) and nothing a client could use to smuggle anything into the events.
_WELL_FORMED = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def visitor_id(request: HTTPConnection) -> str | None:
    """The id its cookie carries, if it is one of the shape we issue."""
    current = request.cookies.get(COOKIE)
    return current if current and _WELL_FORMED.fullmatch(current) else None


class AnonymousIds:
    def __init__(self, secure: bool) -> None:
        self.secure = secure

    def of(self, request: HTTPConnection, response: Response) -> str:
        """The visitor's id from its cookie; a new one (set on `response`) if it has none or
        one we did not issue."""
        current = visitor_id(request)
        if current is not None:
            return current
        new = str(uuid.uuid4())
        response.set_cookie(
            COOKIE,
            new,
            max_age=MAX_AGE_SECONDS,
            path="/",
            httponly=True,
            secure=self.secure,
            samesite="lax",
        )
        return new
