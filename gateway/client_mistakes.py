"""How the gateway logs what its clients get wrong: as what it is (INFO for a refusal, WARNING for
a malformed message), never at ERROR, and rate-limited per kind, so that no client can fill the
log, the error log least of all. ERROR stays for the gateway's own failures.

The lines come from libraries (uvicorn's WebSocket protocol and the `websockets` parser it
drives, both on the `uvicorn.error` logger; Strawberry's `strawberry.ws`), so a filter on those
loggers recognises them by their fixed message text, sets their level, drops the traceback a
client's mistake does not need, and lets through at most LINES_PER_KIND of each kind within
PERIOD_SECONDS (log-rate-limit's StreamRateLimitFilter, one stream per kind); the next line of a
kind let through says how many were left out. Anything it does not recognise passes untouched.

The ERROR uvicorn wrote after every denial response ("ASGI callable returned without completing
handshake", uvicorn's websockets-sansio) was not a client's mistake but its bug, fixed at the
source: gateway/websocket_protocol.py.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from log_rate_limit import StreamRateLimitFilter

PERIOD_SECONDS = 60.0
LINES_PER_KIND = 10
LOGGERS = ("uvicorn.error", "strawberry.ws")


@dataclass(frozen=True)
class Kind:
    name: str
    level: int
    logger: str
    # The record's message template (`record.msg`, before its arguments), as the library has it.
    template: str


KINDS = (
    # A refused handshake, one line per refusal: uvicorn's (its status) and websockets'.
    Kind("websocket refused", logging.INFO, "uvicorn.error", '%s - "WebSocket %s" %d'),
    Kind("websocket refused", logging.INFO, "uvicorn.error", '%s - "WebSocket %s" 403'),
    Kind("websocket rejected", logging.INFO, "uvicorn.error", "connection rejected (%d %s)"),
    # A handshake from a foreign origin with the session cookie (gateway/origins.py).
    Kind(
        "websocket foreign origin",
        logging.INFO,
        "strawberry.ws",
        "Rejected WebSocket connection from origin %r to host %r. If pages on this origin should "
        "be able to connect, add it to `allowed_origins`.",
    ),
    # A text frame that is not UTF-8: closed with 1007 (uvicorn logged it at ERROR, with a
    # traceback).
    Kind(
        "websocket invalid utf-8",
        logging.WARNING,
        "uvicorn.error",
        "Invalid UTF-8 sequence received from client.",
    ),
)
_BY_TEMPLATE = {(kind.logger, kind.template): kind for kind in KINDS}


class ClientMistakes(logging.Filter):
    """On each of LOGGERS (one instance for all, so each kind has one count per process)."""

    def __init__(
        self, period_seconds: float = PERIOD_SECONDS, lines_per_kind: int = LINES_PER_KIND
    ) -> None:
        super().__init__()
        self._limit = StreamRateLimitFilter(
            period_sec=period_seconds,
            allow_next_n=lines_per_kind - 1,
            default_stream_id=None,  # only the kinds below are limited
            summary_msg="({numskip} more of this kind were not logged)",
        )

    def filter(self, record: logging.LogRecord) -> bool:
        kind = _BY_TEMPLATE.get((record.name, str(record.msg)))
        if kind is None:
            return True
        record.levelno, record.levelname = kind.level, logging.getLevelName(kind.level)
        record.exc_info, record.exc_text = None, None
        record.client_mistake = kind.name
        record.stream_id = kind.name
        allowed = self._limit.filter(record)
        for note in ("stream_id", "srl_summary_note", "srl_expire_note"):
            record.__dict__.pop(note, None)
        return allowed


def quiet_client_mistakes() -> None:
    """Installs the filter on LOGGERS, once per process (each gateway app made adds nothing)."""
    loggers = [logging.getLogger(name) for name in LOGGERS]
    if any(isinstance(f, ClientMistakes) for f in loggers[0].filters):
        return
    mistakes = ClientMistakes()
    for logger in loggers:
        logger.addFilter(mistakes)
