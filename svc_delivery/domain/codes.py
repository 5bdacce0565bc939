"""Ticket codes, format v1: what a pass's QR code holds (README.md, "Ticket codes").

A code is a signed statement "pass P of event E, issue S, held by H", readable offline by anyone
with the deployment's public keys. The bytes, big-endian:

    0      1  version (1)
    1      4  key id: the signing key's id (`keys.py`), 8 hex digits in the published keys
    5     16  event id (a UUID's 16 bytes)
    21    16  pass id (a UUID's 16 bytes)
    37     2  issue serial, 1 to 65535: + 1 at every re-issue (transfer, resale)
    39     6  holder tag: HMAC-SHA256(the pass's holder salt, "holder:" + user id)[:6]
    45    64  Ed25519 signature of bytes 0-44

The text is `TK1` and the 109 bytes in RFC 4648 base32 without padding: 178 characters, all of
the QR code's alphanumeric mode, so a version 7 QR code (45 x 45 modules) holds one at error
correction level M (178 characters at most). Base32's A-Z and 2-7 also survive typing, URLs and
keyboard-wedge scanners; base45 would be 11 characters shorter but holds spaces, '%' and '$'.

The holder is a tag, not the user id: a code shown at a door or posted online names nobody, and
two passes of one holder are not linkable (each pass has its own random salt, never published).
The platform, which keeps the salt, recomputes the tag to prove whom an issue was for.

Signing and verifying are the adapters' (`cryptography` is not domain code): this module takes
a `sign` function and a `SignatureCheck`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import struct
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

VERSION = 1
PREFIX = "TK1"
KEY_ID_BYTES = 4
HOLDER_TAG_BYTES = 6
SIGNATURE_BYTES = 64
MAX_SERIAL = 0xFFFF
_FIELDS = struct.Struct(f">B{KEY_ID_BYTES}s16s16sH{HOLDER_TAG_BYTES}s")
PAYLOAD_BYTES = _FIELDS.size  # 45
CODE_BYTES = PAYLOAD_BYTES + SIGNATURE_BYTES  # 109
CODE_LENGTH = len(PREFIX) + -(-CODE_BYTES * 8 // 5)  # 178


class Rejection(StrEnum):
    """Why a code is not the platform's (a door answers INVALID_SIGNATURE for each)."""

    # Not a v1 code: wrong prefix, characters, length or version.
    MALFORMED = "MALFORMED"
    # Signed with a key id the key ring does not know.
    UNKNOWN_KEY = "UNKNOWN_KEY"
    # Signed with a key retired before the scan (after a rotation, or a compromise).
    KEY_RETIRED = "KEY_RETIRED"
    # The signature does not match the bytes: tampered with, or forged.
    BAD_SIGNATURE = "BAD_SIGNATURE"


class CodeRejected(Exception):
    """A code that cannot be trusted, and why (`reason`). Not an `AppError`: a scan answers it as
    an outcome, and a handler that refuses a code from a caller says so in its own error."""

    def __init__(self, reason: Rejection, detail: str) -> None:
        super().__init__(f"{reason.value}: {detail}")
        self.reason = reason
        self.detail = detail


class SignatureCheck(Protocol):
    """Whether `signature` is `public_key`'s Ed25519 signature of `message` (raw 32-byte key)."""

    def __call__(self, public_key: bytes, signature: bytes, message: bytes) -> bool: ...


def holder_tag(salt: bytes, holder_id: str) -> bytes:
    """The tag a code carries for `holder_id` on the pass with this salt."""
    digest = hmac.new(salt, b"holder:" + holder_id.encode(), hashlib.sha256).digest()
    return digest[:HOLDER_TAG_BYTES]


@dataclass(frozen=True)
class TicketCode:
    """The signed fields of a code. Ids are canonical UUID strings (as `str(uuid.uuid4())`)."""

    key_id: str
    event_id: str
    pass_id: str
    serial: int
    holder_tag: bytes

    def __post_init__(self) -> None:
        if len(self.key_id) != 2 * KEY_ID_BYTES or not _is_lower_hex(self.key_id):
            raise ValueError(f"a key id is {2 * KEY_ID_BYTES} lower-case hex digits")
        for name in ("event_id", "pass_id"):
            value = getattr(self, name)
            if _canonical_uuid(value) is None:
                raise ValueError(f"{name} {value!r} is not a canonical UUID")
        if not 1 <= self.serial <= MAX_SERIAL:
            raise ValueError(f"a serial is 1 to {MAX_SERIAL}")
        if len(self.holder_tag) != HOLDER_TAG_BYTES:
            raise ValueError(f"a holder tag is {HOLDER_TAG_BYTES} bytes")

    def payload(self) -> bytes:
        """The signed bytes (0-44 of the code)."""
        return _FIELDS.pack(
            VERSION,
            bytes.fromhex(self.key_id),
            uuid.UUID(self.event_id).bytes,
            uuid.UUID(self.pass_id).bytes,
            self.serial,
            self.holder_tag,
        )

    @classmethod
    def from_payload(cls, payload: bytes) -> TicketCode:
        if len(payload) != PAYLOAD_BYTES:
            raise CodeRejected(Rejection.MALFORMED, f"a payload is {PAYLOAD_BYTES} bytes")
        version, key_id, event, pass_, serial, tag = _FIELDS.unpack(payload)
        if version != VERSION:
            raise CodeRejected(Rejection.MALFORMED, f"version {version} is not {VERSION}")
        try:
            return cls(
                key_id.hex(), str(uuid.UUID(bytes=event)), str(uuid.UUID(bytes=pass_)), serial, tag
            )
        except ValueError as refused:  # serial 0
            raise CodeRejected(Rejection.MALFORMED, str(refused)) from None


@dataclass(frozen=True)
class SignedCode:
    """A code as read from its text, its signature not checked yet."""

    code: TicketCode
    signature: bytes

    @property
    def payload(self) -> bytes:
        return self.code.payload()


def encode(code: TicketCode, sign: Callable[[bytes], bytes]) -> str:
    """The text of `code`, signed by `sign` (the private key of `code.key_id`)."""
    payload = code.payload()
    signature = sign(payload)
    if len(signature) != SIGNATURE_BYTES:
        raise ValueError(f"an Ed25519 signature is {SIGNATURE_BYTES} bytes")
    return PREFIX + base64.b32encode(payload + signature).decode().rstrip("=")


def read(text: str) -> SignedCode:
    """The fields and signature of a code's text; CodeRejected(MALFORMED) for anything that is
    not a v1 code. Lower case and surrounding blanks (a typed code) are accepted."""
    text = text.strip().upper()
    if not text.startswith(PREFIX):
        raise CodeRejected(Rejection.MALFORMED, f"a code starts with {PREFIX}")
    if len(text) != CODE_LENGTH:
        raise CodeRejected(Rejection.MALFORMED, f"a code is {CODE_LENGTH} characters")
    body = text[len(PREFIX) :]
    try:
        raw = base64.b32decode(body + "=" * (-len(body) % 8))
    except (binascii.Error, ValueError):
        raise CodeRejected(Rejection.MALFORMED, "not base32") from None
    code = TicketCode.from_payload(raw[:PAYLOAD_BYTES])
    return SignedCode(code, raw[PAYLOAD_BYTES:])


def verify(signed: SignedCode, public_key: bytes, check: SignatureCheck) -> TicketCode:
    """`signed`'s fields once its signature is `public_key`'s; CodeRejected(BAD_SIGNATURE)."""
    if not check(public_key, signed.signature, signed.payload):
        raise CodeRejected(Rejection.BAD_SIGNATURE, "the signature does not match the code")
    return signed.code


def _is_lower_hex(text: str) -> bool:
    return set(text) <= set("0123456789abcdef")


def _canonical_uuid(text: str) -> uuid.UUID | None:
    try:
        value = uuid.UUID(text)
    except (ValueError, TypeError, AttributeError):
        return None
    return value if str(value) == text else None
