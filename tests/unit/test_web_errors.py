"""Every error code the API can return has a sentence for people in the web app
(web/src/app/errors.ts), in the table of its kind (docs/api.md §12):

- GENERAL: every top-level code (`errors[].extensions.code`) of the guide's catalogue, which
  names the body limit's PAYLOAD_TOO_LARGE, the cross-site guard's CSRF_REFUSED, COST_LIMIT and
  the persisted-query codes;
- USER_ERRORS: every value of the schema's `UserErrorCode` enum (schema.graphql), the same as
  the guide's userError table.

And every code the services raise (common.errors.ErrorCode) is in one of the two. A code added
on the server, in the schema or in the guide without a sentence fails here."""

from __future__ import annotations

import re
from pathlib import Path

from graphql import GraphQLEnumType, build_schema

from common.errors import ErrorCode
from gateway.csrf import CSRF_REFUSED
from gateway.limits import PAYLOAD_TOO_LARGE

ROOT = Path(__file__).resolve().parents[2]
ERRORS_TS = ROOT / "web" / "src" / "app" / "errors.ts"
API_GUIDE = ROOT / "docs" / "api.md"
SCHEMA = ROOT / "schema.graphql"


def _block(name: str, text: str) -> str:
    match = re.search(rf"{name}[^=]*=\s*{{(.*?)\n}};", text, re.S)
    assert match, f"{name} not found in {ERRORS_TS}"
    return match.group(1)


def _sentences(name: str, text: str) -> dict[str, str]:
    return dict(re.findall(r"^\s*([A-Z_]+):\s*\"([^\"]+)\"", _block(name, text), re.M))


def _declared(name: str, text: str) -> set[str]:
    match = re.search(rf"export type {name} =(.*?);", text, re.S)
    assert match, f"type {name} not found in {ERRORS_TS}"
    return set(re.findall(r'\|\s*"([A-Z_]+)"', match.group(1)))


def _guide_table(heading: str) -> set[str]:
    """The codes in the first column of the §12 table after `heading`."""
    section = API_GUIDE.read_text().split("## 12. Errors catalogue", 1)[1].split("\n## ", 1)[0]
    after = section.split(heading, 1)[1]
    rows = re.findall(r"^\| `([A-Z_]+)` \|", after.split("\n\n", 2)[1], re.M)
    assert rows, f"no table after {heading!r} in {API_GUIDE}"
    return set(rows)


def _schema_user_error_codes() -> set[str]:
    enum = build_schema(SCHEMA.read_text()).get_type("UserErrorCode")
    assert isinstance(enum, GraphQLEnumType), "schema.graphql has no UserErrorCode enum"
    return set(enum.values)


def test_every_top_level_code_has_a_sentence_for_people():
    text = ERRORS_TS.read_text()
    messages = _sentences("const GENERAL", text)
    codes = _guide_table("**Top-level codes**")
    assert {PAYLOAD_TOO_LARGE, CSRF_REFUSED, "COST_LIMIT", "PERSISTED_QUERY_NOT_FOUND"} <= codes
    assert set(messages) == codes
    for code, message in messages.items():
        assert code not in message and len(message.split()) >= 5, (code, message)
    # The type the app checks codes against names the same ones.
    assert _declared("ErrorCode", text) == codes


def test_every_user_error_code_has_a_sentence_for_people():
    text = ERRORS_TS.read_text()
    messages = _sentences("const USER_ERRORS", text)
    codes = _schema_user_error_codes()
    assert codes == _guide_table("**userError codes**")
    assert set(messages) == codes
    for code, message in messages.items():
        assert code not in message and len(message.split()) >= 5, (code, message)
    assert _declared("UserErrorCode", text) == codes


def test_every_code_the_services_raise_is_said_in_words():
    text = ERRORS_TS.read_text()
    said = set(_sentences("const GENERAL", text)) | set(_sentences("const USER_ERRORS", text))
    assert {code.value for code in ErrorCode} <= said
