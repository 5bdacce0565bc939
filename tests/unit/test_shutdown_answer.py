"""gateway/shutdown.py: a request the server cancels (its shutdown grace ran out) is answered 503
UNAVAILABLE with Retry-After, in the shape of its path; one whose response had started cannot
be, and its cancellation goes on (the server closes the connection)."""

from __future__ import annotations

import asyncio
from typing import Any

import orjson
import pytest

from gateway.shutdown import AnswerCutOffRequests


async def _serve(app: Any, path: str) -> list[dict[str, Any]]:
    """Runs one request through `AnswerCutOffRequests(app)` and cancels it once the app awaits
    something that never comes, as uvicorn does when its grace runs out; what was sent."""
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": path, "headers": []}
    task = asyncio.create_task(AnswerCutOffRequests(app)(scope, receive, send))
    await asyncio.sleep(0.01)
    task.cancel()
    try:
        await task
    except asyncio.CancelledError:
        sent.append({"type": "cancelled"})
    return sent


async def never_answers(scope: Any, receive: Any, send: Any) -> None:
    await asyncio.Event().wait()


async def starts_then_stalls(scope: Any, receive: Any, send: Any) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await asyncio.Event().wait()


@pytest.mark.parametrize(
    ("path", "error"),
    [
        (
            "/graphql",
            {
                "message": "The server is restarting, try again shortly",
                "extensions": {"code": "UNAVAILABLE"},
            },
        ),
        (
            "/api/users/signin",
            {"message": "The server is restarting, try again shortly", "code": "UNAVAILABLE"},
        ),
    ],
)
def test_a_cut_off_request_is_answered_503_in_the_shape_of_its_path(path, error) -> None:
    start, body = asyncio.run(_serve(never_answers, path))

    assert start["status"] == 503
    headers = dict(start["headers"])
    assert headers[b"retry-after"] == b"1"
    assert headers[b"content-type"] == b"application/json"
    assert orjson.loads(body["body"]) == {"errors": [error]}


def test_a_response_already_started_is_not_answered_twice() -> None:
    sent = asyncio.run(_serve(starts_then_stalls, "/graphql"))

    assert [m["type"] for m in sent] == ["http.response.start", "cancelled"]
    assert sent[0]["status"] == 200
