"""What a real gateway process (`python -m gateway`, uvicorn with websockets-sansio) logs while
clients misbehave (issue 18): refused WebSocket handshakes (a foreign Origin with the session
cookie, over the connections per address, over the request rate, a wrong or missing subprotocol,
an Upgrade with broken headers, a path that takes no WebSocket), malformed frames (not JSON, not
objects, not UTF-8, binary, oversized, broken framing), and HTTP mistakes (bad JSON, oversized
bodies, forged and malformed tokens). Each is answered (a 4xx or a close code), and the log of
the whole run holds no ERROR line and no traceback: the error log is for the gateway's own
failures, not for what any client can send. Refusals are logged at INFO/WARNING, rate-limited
(common/log_limits.py): a flood of them costs a bounded number of lines.

No service behind the gateway (none of these reaches one): Redis for the limits."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from gateway.client_mistakes import LINES_PER_KIND
from tests.support import servers
from tests.support.hostile_clients import (
    error_lines,
    foreign_page_with_the_cookie,
    hostile_frames,
    hostile_handshakes,
    hostile_requests,
)

pytestmark = pytest.mark.integration

MAX_BODY = 4096
CONNECTIONS_PER_ADDRESS = 2
# Refusals of one kind in well under a minute: far more than the lines a kind may cost.
FLOOD = 100


class RunningGateway:
    def __init__(self, port: int, log: Path) -> None:
        self.port = port
        self.base_url = f"http://127.0.0.1:{port}"
        self.log = log

    def lines(self) -> list[str]:
        return self.log.read_text(errors="replace").splitlines()

    def entries(self) -> list[dict]:
        return [json.loads(line) for line in self.lines() if line.startswith("{")]


@pytest.fixture
def gateway(env: dict[str, str], tmp_path: Path) -> Iterator[RunningGateway]:
    port = servers.free_port()
    log = tmp_path / "gateway.log"
    settings = servers.environ(
        {
            **env,
            "GATEWAY_PORT": str(port),
            "GATEWAY_ADMIN_PORT": str(servers.free_port()),
            "GATEWAY_WORKERS": "1",
            "LOG_LEVEL": "DEBUG",
            "TICKET_CACHE_ENABLED": "false",
            "BEHAVIOUR_EVENTS_ENABLED": "false",
            "MAX_REQUEST_BODY_BYTES": str(MAX_BODY),
            "SUBSCRIPTION_MAX_MESSAGE_BYTES": str(MAX_BODY),
            "SUBSCRIPTION_CONNECTIONS_PER_ADDRESS": str(CONNECTIONS_PER_ADDRESS),
            **{f"{s}_ADDR": "127.0.0.1:9" for s in ("AUTH", "TICKETS", "ORDERS", "PAYMENTS")},
            "EXPIRATION_ADDR": "127.0.0.1:9",
        }
    )
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "gateway"], env=settings, stdout=out, stderr=subprocess.STDOUT
        )
        try:
            servers.wait_for_port(port, 30, proc)
            yield RunningGateway(port, log)
        finally:
            servers.stop_process(proc)


def test_hostile_clients_are_answered_and_leave_no_error_in_the_log(gateway: RunningGateway):
    hostile_handshakes(gateway.base_url, CONNECTIONS_PER_ADDRESS)
    hostile_frames(gateway.base_url, MAX_BODY)
    hostile_requests(gateway.base_url, MAX_BODY)
    assert error_lines(gateway.lines()) == []


def test_a_flood_of_refusals_costs_a_bounded_number_of_lines(gateway: RunningGateway):
    for _ in range(FLOOD):
        assert foreign_page_with_the_cookie(gateway.base_url) == 403
    kinds = Counter(entry.get("client_mistake") for entry in gateway.entries())
    # Three lines per refusal unlimited; at most LINES_PER_KIND of each kind within the minute.
    assert 0 < kinds["websocket foreign origin"] <= LINES_PER_KIND
    assert 0 < kinds["websocket refused"] <= LINES_PER_KIND
    assert 0 < kinds["websocket rejected"] <= LINES_PER_KIND
    assert error_lines(gateway.lines()) == []
