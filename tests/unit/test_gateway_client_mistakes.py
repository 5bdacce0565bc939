"""The gateway's log of its clients' mistakes (gateway/client_mistakes.py): the lines libraries
write for a refused handshake or a malformed frame come out at INFO/WARNING without a
traceback, at most N of a kind per period, and the next one let through says how many were
left out; anything else passes untouched."""

from __future__ import annotations

import logging
import sys
import time

import pytest

from gateway.client_mistakes import ClientMistakes

PERIOD = 0.3


def record(logger: str, msg: str, *args: object, level: int = logging.INFO) -> logging.LogRecord:
    exc_info = None
    if level >= logging.ERROR:
        try:
            raise UnicodeDecodeError("utf-8", b"\xff", 0, 1, "invalid start byte")
        except UnicodeDecodeError:
            exc_info = sys.exc_info()
    return logging.LogRecord(logger, level, __file__, 1, msg, args, exc_info)


def utf8_error() -> logging.LogRecord:
    return record(
        "uvicorn.error", "Invalid UTF-8 sequence received from client.", level=logging.ERROR
    )


def refused(status: int = 429) -> logging.LogRecord:
    return record("uvicorn.error", '%s - "WebSocket %s" %d', "10.0.0.1:5", "/graphql", status)


def test_a_frame_that_is_not_utf8_is_a_warning_without_traceback() -> None:
    line = utf8_error()
    assert ClientMistakes().filter(line)
    assert (line.levelno, line.levelname) == (logging.WARNING, "WARNING")
    assert line.exc_info is None and line.client_mistake == "websocket invalid utf-8"
    assert not hasattr(line, "stream_id")


def test_n_lines_of_a_kind_per_period_then_a_count_of_those_left_out() -> None:
    mistakes = ClientMistakes(period_seconds=PERIOD, lines_per_kind=3)
    allowed = [mistakes.filter(refused()) for _ in range(10)]
    assert allowed == [True] * 3 + [False] * 7
    assert mistakes.filter(utf8_error())  # another kind has a count of its own
    time.sleep(PERIOD * 1.5)
    line = refused()
    assert mistakes.filter(line)
    assert "7 more of this kind were not logged" in line.getMessage()
    assert line.getMessage().startswith('10.0.0.1:5 - "WebSocket /graphql" 429')


@pytest.mark.parametrize(
    ("logger", "msg", "level"),
    [
        ("uvicorn.error", "Exception in ASGI application\n", logging.ERROR),
        ("uvicorn.error", "ASGI callable returned without completing handshake.", logging.ERROR),
        ("uvicorn.error", '%s - "WebSocket %s" [accepted]', logging.INFO),
        ("gateway.app", "Invalid UTF-8 sequence received from client.", logging.ERROR),
    ],
)
def test_anything_else_passes_untouched(logger: str, msg: str, level: int) -> None:
    mistakes = ClientMistakes(period_seconds=PERIOD, lines_per_kind=1)
    for _ in range(5):
        line = record(logger, msg, "a", "b", level=level)
        assert mistakes.filter(line)
        assert line.levelno == level and line.msg == msg
        assert (line.exc_info is not None) == (level >= logging.ERROR)
