"""Every error code the API can return has a sentence for people in the web app
(web/src/app/errors.ts): the codes of common.errors.ErrorCode, the body limit's
PAYLOAD_TOO_LARGE and the cross-site guard's CSRF_REFUSED. A code added on the server without
one fails here."""

from __future__ import annotations

import re
from pathlib import Path

from common.errors import ErrorCode
from gateway.csrf import CSRF_REFUSED
from gateway.limits import PAYLOAD_TOO_LARGE

ERRORS_TS = Path(__file__).resolve().parents[2] / "web" / "src" / "app" / "errors.ts"


def _block(name: str, text: str) -> str:
    match = re.search(rf"{name}[^=]*=\s*{{(.*?)\n}};", text, re.S)
    assert match, f"{name} not found in {ERRORS_TS}"
    return match.group(1)


def test_every_api_error_code_has_a_message_for_people():
    text = ERRORS_TS.read_text()
    general = _block("const GENERAL", text)
    messages = dict(re.findall(r"^\s*([A-Z_]+):\s*\"([^\"]+)\"", general, re.M))
    codes = {code.value for code in ErrorCode} | {PAYLOAD_TOO_LARGE, CSRF_REFUSED}
    assert set(messages) == codes
    for code, message in messages.items():
        assert code not in message and len(message.split()) >= 5, (code, message)
    # The type the app checks codes against names the same ones.
    declared = set(re.findall(r'\|\s*"([A-Z_]+)"', _block_type("ErrorCode", text)))
    assert declared == codes


def _block_type(name: str, text: str) -> str:
    match = re.search(rf"export type {name} =(.*?);", text, re.S)
    assert match
    return match.group(1)
