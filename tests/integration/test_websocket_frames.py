"""Hostile WebSocket frames on /graphql (issue 18): a frame that is valid JSON but no
graphql-transport-ws message (not an object, or a subscribe of the wrong shape) is answered by the
protocol's close code 4400, never by a traceback or a dropped socket."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from starlette.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from gateway.app import create_app
from tests.integration.test_persisted_queries import settings

pytestmark = pytest.mark.integration


@pytest.fixture
def client(redis_url: str, tmp_path: Path) -> Iterator[TestClient]:
    """The real gateway app (its Redis: the connection counters), no service behind it."""
    namespace = f"t{uuid.uuid4().hex[:12]}"
    (tmp_path / "dist").mkdir()
    (tmp_path / "clients").mkdir()
    yield TestClient(
        create_app(settings(redis_url, namespace, tmp_path / "dist", tmp_path / "clients"))
    )
    with redis.Redis.from_url(redis_url) as store:
        keys = list(store.scan_iter(f"{namespace}:*"))
        if keys:
            store.delete(*keys)


@pytest.mark.parametrize(
    "frame",
    [
        "[]",
        "null",
        "123",
        '"connection_init"',
        "true",
        '{"type": "subscribe", "id": "1", "payload": []}',
        '{"type": "subscribe", "id": "1", "payload": {"query": 5}}',
        '{"type": "subscribe", "id": ["1"], "payload": {"query": "subscription { x }"}}',
        '{"type": "subscribe", "id": "1", "payload": {"query": "q", "variables": [1]}}',
    ],
)
@pytest.mark.parametrize("after_init", [False, True])
def test_a_frame_that_is_no_message_closes_with_4400_and_logs_no_error(
    client, caplog, frame, after_init
):
    caplog.set_level(logging.INFO)
    with client.websocket_connect("/graphql", subprotocols=["graphql-transport-ws"]) as ws:
        if after_init:
            ws.send_json({"type": "connection_init", "payload": {}})
            assert ws.receive_json()["type"] == "connection_ack"
        ws.send_text(frame)
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_json()
    assert closed.value.code == 4400
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors == [], [r.getMessage() for r in errors]  # the sentinel: no ERROR, no traceback
