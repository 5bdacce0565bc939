"""Ticket codes v1 (svc_delivery/domain/codes.py): what a door reads back is what was signed,
and any change to a code, or a code of another key, is refused with its reason."""

from __future__ import annotations

import base64
import string

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from svc_delivery.adapters.signing_keys import check_signature
from svc_delivery.domain import codes
from svc_delivery.domain.codes import CodeRejected, Rejection, TicketCode
from tests.support.ticket_codes import KEY_1, KEY_2, new_id

QR_ALPHANUMERIC = set(string.ascii_uppercase + string.digits + " $%*+-./:")


def a_code(serial: int = 1) -> TicketCode:
    return TicketCode(KEY_1.key_id, new_id(), new_id(), serial, bytes.fromhex("0102030405ff"))


def verified(text: str, public_key: bytes | None = None) -> TicketCode:
    signed = codes.read(text)
    return codes.verify(signed, public_key or KEY_1.code_key().public_key, check_signature)


def rejection_of(text: str, public_key: bytes | None = None) -> Rejection:
    with pytest.raises(CodeRejected) as rejected:
        verified(text, public_key)
    return rejected.value.reason


def test_a_code_reads_back_as_signed_and_fits_a_qr_codes_alphanumeric_mode() -> None:
    code = a_code(serial=7)
    text = KEY_1.encode(code)
    assert verified(text) == code
    assert text.startswith("TK1")
    # A version 7 QR code at error correction M holds 178 alphanumeric characters.
    assert len(text) == codes.CODE_LENGTH == 178
    assert set(text) <= QR_ALPHANUMERIC


def test_a_typed_code_in_lower_case_with_blanks_around_it_is_read() -> None:
    code = a_code()
    assert verified(f"  {KEY_1.encode(code).lower()}\n") == code


# Where each field lies in the 109 bytes (README.md, "Ticket codes").
FIELDS = {
    "key id": 1,
    "event id": 5,
    "pass id": 21,
    "serial": 38,
    "holder tag": 39,
    "signature": 45,
    "signature's last byte": 108,
}


def tampered(text: str, at: int) -> str:
    body = text.removeprefix(codes.PREFIX)
    raw = bytearray(base64.b32decode(body + "=" * (-len(body) % 8)))
    raw[at] ^= 0x01
    return codes.PREFIX + base64.b32encode(bytes(raw)).decode().rstrip("=")


@pytest.mark.parametrize("field", FIELDS)
def test_changing_any_field_of_a_signed_code_is_refused(field: str) -> None:
    text = KEY_1.encode(a_code(serial=3))
    changed = tampered(text, FIELDS[field])
    assert changed != text
    # (A changed key id is checked here against the key that signed; a door, looking the id up
    # in its ring, answers UNKNOWN_KEY: tests/unit/test_delivery_entry.py.)
    assert rejection_of(changed) is Rejection.BAD_SIGNATURE


def test_a_changed_version_byte_is_not_a_v1_code() -> None:
    assert rejection_of(tampered(KEY_1.encode(a_code()), 0)) is Rejection.MALFORMED


def test_a_code_signed_by_another_key_is_refused() -> None:
    code = a_code()
    forged = KEY_2.encode(code)  # claims KEY_1's id, signed by KEY_2
    assert codes.read(forged).code.key_id == KEY_1.key_id
    assert rejection_of(forged) is Rejection.BAD_SIGNATURE
    assert verified(forged, KEY_2.code_key().public_key) == code


@pytest.mark.parametrize(
    "text",
    [
        "",
        "TK1",
        "TK2" + "A" * 175,
        "TK1" + "A" * 174,  # a character short
        "TK1" + "A" * 176,
        "TK1" + "1" * 175,  # not base32
        "TK1:" + "A" * 174,
        "https://example.com/ticket/123",
    ],
)
def test_what_is_not_a_v1_code_is_malformed(text: str) -> None:
    with pytest.raises(CodeRejected) as rejected:
        codes.read(text)
    assert rejected.value.reason is Rejection.MALFORMED


def test_serial_zero_is_malformed_even_when_signed() -> None:
    code = a_code()
    payload = bytearray(code.payload())
    payload[37:39] = b"\x00\x00"
    text = codes.PREFIX + base64.b32encode(
        bytes(payload) + KEY_1.private.sign(bytes(payload))
    ).decode().rstrip("=")
    with pytest.raises(CodeRejected) as rejected:
        codes.read(text)
    assert rejected.value.reason is Rejection.MALFORMED


@pytest.mark.parametrize(
    "fields",
    [
        {"event_id": "not-a-uuid"},
        {"event_id": new_id().upper()},  # not canonical: would not read back equal
        {"pass_id": new_id().replace("-", "")},
        {"serial": 0},
        {"serial": codes.MAX_SERIAL + 1},
        {"holder_tag": b"short"},
        {"key_id": "B1DAFC55"},
        {"key_id": "abc"},
    ],
)
def test_a_code_refuses_fields_it_could_not_read_back(fields: dict[str, object]) -> None:
    values: dict[str, object] = {
        "key_id": KEY_1.key_id,
        "event_id": new_id(),
        "pass_id": new_id(),
        "serial": 1,
        "holder_tag": bytes(6),
    }
    with pytest.raises(ValueError):
        TicketCode(**(values | fields))  # type: ignore[arg-type]


def test_a_holder_tag_depends_on_the_salt_and_the_holder() -> None:
    salt, other_salt = bytes(16), bytes(range(16))
    tags = {
        codes.holder_tag(salt, "u1"),
        codes.holder_tag(salt, "u2"),
        codes.holder_tag(other_salt, "u1"),
    }
    assert len(tags) == 3
    assert codes.holder_tag(salt, "u1") == codes.holder_tag(salt, "u1")


@settings(max_examples=200, deadline=None)
@given(
    event=st.uuids(),
    pass_=st.uuids(),
    serial=st.integers(1, codes.MAX_SERIAL),
    tag=st.binary(min_size=6, max_size=6),
)
def test_every_code_reads_back_as_signed(event, pass_, serial, tag) -> None:
    code = TicketCode(KEY_1.key_id, str(event), str(pass_), serial, tag)
    text = KEY_1.encode(code)
    assert len(text) == codes.CODE_LENGTH
    assert verified(text) == code
