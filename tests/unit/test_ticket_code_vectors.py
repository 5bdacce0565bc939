"""The ticket-code test vectors (tests/contract/ticket_code_vectors.json): fixed keys (RFC 8032's
test seeds), fields and the codes they make, and codes that must be refused, for any other
verifier of the format (a web page, a venue's scanner) to be checked against.

The code must still make every vector: a change here breaks the verifiers built on them, and a
new format is a new version (a new prefix), never an edit of v1. The README's venue verifier
(README.md, "Ticket codes") is run against them too, so the documentation cannot drift.

    python -m tests.unit.test_ticket_code_vectors --write   # after adding a vector
"""

from __future__ import annotations

import base64
import json
import re
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from svc_delivery.adapters.signing_keys import check_signature
from svc_delivery.domain import codes
from svc_delivery.domain.codes import CodeRejected, TicketCode
from svc_delivery.domain.keys import KeyRing
from tests.support.ticket_codes import KEY_1, KEY_2, SEED_1, SEED_2, T0, TestKey

ROOT = Path(__file__).resolve().parents[2]
VECTORS = ROOT / "tests" / "contract" / "ticket_code_vectors.json"
README = ROOT / "README.md"

EVENT = "6f0c7a52-8d0e-4c1b-9b7e-2f4d1a3c5e60"
PASS = "b3e1f6a2-47c9-4d8e-8a15-0c2e9f7d4b31"
SALT = bytes.fromhex("000102030405060708090a0b0c0d0e0f")
HOLDERS = ("2d6f1c3a-9e84-4b57-a0c2-7f3e5d1b8c46", "8a4e2b17-c3d5-4f96-b1e8-0d7c6a5f3e29")


def valid(name: str, key: TestKey, holder_id: str, serial: int) -> dict[str, Any]:
    code = TicketCode(key.key_id, EVENT, PASS, serial, codes.holder_tag(SALT, holder_id))
    text = key.encode(code)
    return {
        "name": name,
        "fields": {
            "key_id": code.key_id,
            "event_id": code.event_id,
            "pass_id": code.pass_id,
            "serial": code.serial,
            "holder_tag": code.holder_tag.hex(),
        },
        "holder": {"holder_id": holder_id, "salt": SALT.hex()},
        "payload": code.payload().hex(),
        "signature": key.private.sign(code.payload()).hex(),
        "code": text,
    }


def rewritten(text: str, at: int, value: int) -> str:
    body = text.removeprefix(codes.PREFIX)
    raw = bytearray(base64.b32decode(body + "=" * (-len(body) % 8)))
    raw[at] = value
    return codes.PREFIX + base64.b32encode(bytes(raw)).decode().rstrip("=")


def build() -> dict[str, Any]:
    first = valid("issue 1, to the buyer", KEY_1, HOLDERS[0], 1)
    ring = KeyRing((KEY_1.code_key(T0),))
    return {
        "about": "Ticket code v1 (README.md, 'Ticket codes'). Test keys only: never deploy them.",
        "keys": ring.published(),
        "private_key_seeds": {KEY_1.key_id: SEED_1.hex(), KEY_2.key_id: SEED_2.hex()},
        "valid": [
            first,
            valid("issue 2, after a transfer", KEY_1, HOLDERS[1], 2),
            valid("the highest serial", KEY_1, HOLDERS[1], codes.MAX_SERIAL),
        ],
        "invalid": [
            {
                "name": "the serial changed after signing (1 to 2)",
                "code": rewritten(first["code"], 38, 2),
                "rejection": "BAD_SIGNATURE",
            },
            {
                "name": "the ring's key id, signed by another key",
                "code": KEY_2.encode(codes.read(first["code"]).code),
                "rejection": "BAD_SIGNATURE",
            },
            {
                "name": "signed by a key that is not in the ring",
                "code": valid("", KEY_2, HOLDERS[0], 1)["code"],
                "rejection": "UNKNOWN_KEY",
            },
            {
                "name": "version 2 in a v1 code",
                "code": rewritten(first["code"], 0, 2),
                "rejection": "MALFORMED",
            },
            {
                "name": "one character short",
                "code": first["code"][:-1],
                "rejection": "MALFORMED",
            },
        ],
    }


def written() -> str:
    return json.dumps(build(), indent=2) + "\n"


@pytest.fixture(scope="module")
def vectors() -> dict[str, Any]:
    return json.loads(VECTORS.read_text())


def test_the_code_makes_every_vector_as_written() -> None:
    assert VECTORS.read_text() == written(), (
        "the v1 ticket code changed: verifiers built on the vectors break (a new format is a "
        "new version); after adding a vector, run python -m tests.unit.test_ticket_code_vectors"
        " --write"
    )


def test_each_valid_vector_verifies_with_the_published_keys(vectors) -> None:
    ring = KeyRing.from_published(vectors["keys"])
    for vector in vectors["valid"]:
        code = ring.verify(vector["code"], check_signature, T0)
        assert code.payload().hex() == vector["payload"]
        assert codes.read(vector["code"]).signature.hex() == vector["signature"]
        holder = vector["holder"]
        assert code.holder_tag == codes.holder_tag(
            bytes.fromhex(holder["salt"]), holder["holder_id"]
        )


def test_each_invalid_vector_is_refused_for_its_reason(vectors) -> None:
    ring = KeyRing.from_published(vectors["keys"])
    for vector in vectors["invalid"]:
        with pytest.raises(CodeRejected) as rejected:
            ring.verify(vector["code"], check_signature, T0)
        assert rejected.value.reason.value == vector["rejection"], vector["name"]


def readme_verifier() -> dict[str, Any]:
    """The Python block of README.md's "Ticket codes" section, run as a module."""
    section = README.read_text().split("## Ticket codes", 1)[1].split("\n## ", 1)[0]
    (block,) = re.findall(r"```python\n(.*?)```", section, re.DOTALL)
    namespace: dict[str, Any] = {"__name__": "readme_verifier"}
    exec(compile(block, "README.md", "exec"), namespace)
    return namespace


def test_the_readme_s_venue_verifier_agrees_with_the_vectors(vectors) -> None:
    verifier = readme_verifier()
    now = datetime(2026, 12, 24, 19, 0, tzinfo=UTC)
    kit = {"event_id": EVENT, "keys": vectors["keys"], "revoked": [], "admissions": []}
    first, second, _ = vectors["valid"]
    admitted: dict[str, str] = {}
    assert verifier["scan"](first["code"], kit, admitted, now) == "VALID"
    assert verifier["scan"](first["code"], kit, admitted, now) == "ALREADY_SCANNED"
    revoked = {**kit, "revoked": [{"pass_id": PASS, "valid_from": 2}]}
    assert verifier["scan"](first["code"], revoked, {}, now) == "REVOKED"
    assert verifier["scan"](second["code"], revoked, {}, now) == "VALID"
    other_event = {**kit, "event_id": HOLDERS[0]}
    assert verifier["scan"](first["code"], other_event, {}, now) == "WRONG_EVENT"
    for vector in vectors["invalid"]:
        assert verifier["scan"](vector["code"], kit, {}, now) == "INVALID_SIGNATURE", vector
    retired_keys = KeyRing.from_published(vectors["keys"]).rotated(KEY_2.code_key(now))
    retired = {**kit, "keys": retired_keys.retired(KEY_1.key_id, now).published()}
    assert verifier["scan"](first["code"], retired, {}, now) == "INVALID_SIGNATURE"


if __name__ == "__main__" and sys.argv[1:] == ["--write"]:
    VECTORS.write_text(written())
