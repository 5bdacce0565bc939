"""The key ring of ticket codes: the deployment's Ed25519 keys by id, which one signs, which
still verify, and the document a venue downloads to verify codes offline.

Rotation: a new key is added with the time it starts signing (`not_before`, now or later: a key
published before it signs is already in every scanner that synced since). From then on new codes
are signed with it, and codes signed with an older key stay valid until that key is retired.
Retiring a key ends it at once: codes signed with it are refused from then on (after a
compromise, or once every event it signed for is over). A key is never deleted from the ring,
so a retired key's codes are told apart from forgeries (KEY_RETIRED, not UNKNOWN_KEY).

Only public keys here; the private keys are the adapter's (`svc_delivery/adapters/
signing_keys.py`), as is a key's id (the first 4 bytes of its RFC 7638 thumbprint, in hex).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from common.errors import Conflict
from svc_delivery.domain import codes
from svc_delivery.domain.codes import KEY_ID_BYTES, CodeRejected, Rejection, SignatureCheck

PUBLIC_KEY_BYTES = 32
HEX_DIGITS = "0123456789abcdef"


@dataclass(frozen=True)
class CodeKey:
    """One public key of the ring: it signs new codes from `not_before` until a newer key takes
    over, and verifies codes until `retired_at` (never, while None)."""

    key_id: str
    public_key: bytes
    not_before: datetime
    retired_at: datetime | None = None

    def __post_init__(self) -> None:
        if len(self.key_id) != 2 * KEY_ID_BYTES or not set(self.key_id) <= set(HEX_DIGITS):
            raise ValueError(f"a key id is {2 * KEY_ID_BYTES} lower-case hex digits")
        if len(self.public_key) != PUBLIC_KEY_BYTES:
            raise ValueError(f"an Ed25519 public key is {PUBLIC_KEY_BYTES} bytes")
        if self.not_before.tzinfo is None or (
            self.retired_at is not None and self.retired_at.tzinfo is None
        ):
            raise ValueError("a key's times are timezone-aware")

    def verifies_at(self, at: datetime) -> bool:
        return self.retired_at is None or at < self.retired_at


@dataclass(frozen=True)
class KeyRing:
    """The deployment's code keys, oldest first. Immutable: `rotated` and `retired` answer a new
    ring, which the adapter writes."""

    keys: tuple[CodeKey, ...] = ()

    def __post_init__(self) -> None:
        ids = [key.key_id for key in self.keys]
        if len(set(ids)) != len(ids):
            raise ValueError(f"two keys share a key id: {sorted(ids)}")
        starts = [key.not_before for key in self.keys]
        if starts != sorted(starts):
            raise ValueError("keys are listed oldest first")

    def signing_key(self, at: datetime) -> CodeKey:
        """The key that signs codes made at `at`: the newest one started and not retired.
        Conflict when there is none (no key yet, or every started key retired: rotate)."""
        for key in reversed(self.keys):
            if key.not_before <= at and key.verifies_at(at):
                return key
        raise Conflict("No ticket-code key signs now: generate or rotate the keys")

    def verifying_key(self, key_id: str, at: datetime) -> CodeKey:
        """The key that verifies a code with `key_id` scanned at `at`; CodeRejected with
        UNKNOWN_KEY or KEY_RETIRED."""
        for key in self.keys:
            if key.key_id == key_id:
                if not key.verifies_at(at):
                    raise CodeRejected(Rejection.KEY_RETIRED, f"key {key_id} is retired")
                return key
        raise CodeRejected(Rejection.UNKNOWN_KEY, f"no key {key_id}")

    def verify(self, text: str, check: SignatureCheck, at: datetime) -> codes.TicketCode:
        """The fields of a code's text scanned at `at`, once signed by a key of the ring valid
        then; CodeRejected (MALFORMED, UNKNOWN_KEY, KEY_RETIRED, BAD_SIGNATURE) otherwise."""
        signed = codes.read(text)
        key = self.verifying_key(signed.code.key_id, at)
        return codes.verify(signed, key.public_key, check)

    def rotated(self, new: CodeKey) -> KeyRing:
        """`new` added: it signs from its `not_before`, which must come after every other key's
        (the newest started key signs)."""
        if any(key.key_id == new.key_id for key in self.keys):
            raise Conflict(f"Key {new.key_id} is already in the ring")
        if new.retired_at is not None:
            raise Conflict("A new key cannot be retired")
        if self.keys and new.not_before <= self.keys[-1].not_before:
            raise Conflict("A new key starts signing after the newest key started")
        return KeyRing((*self.keys, new))

    def retired(self, key_id: str, at: datetime) -> KeyRing:
        """The key `key_id` ends at `at`. Refused when no other key would sign at `at` (rotate
        first: a deployment that can sign nothing cannot deliver)."""
        key = next((k for k in self.keys if k.key_id == key_id), None)
        if key is None:
            raise Conflict(f"No key {key_id} in the ring")
        if key.retired_at is not None:
            return self
        ring = KeyRing(tuple(replace(k, retired_at=at) if k is key else k for k in self.keys))
        ring.signing_key(at)  # Conflict when nothing would sign
        return ring

    def published(self) -> dict[str, Any]:
        """The public document a venue downloads (a JWK Set, RFC 7517/8037, with each key's
        `not_before` and `retired_at` as RFC 3339 times)."""
        return {"keys": [_jwk(key) for key in self.keys]}

    @classmethod
    def from_published(cls, document: Mapping[str, Any]) -> KeyRing:
        """The ring of a published document; ValueError for a key it cannot use."""
        keys = []
        for jwk in document.get("keys", ()):
            if (jwk.get("kty"), jwk.get("crv")) != ("OKP", "Ed25519"):
                raise ValueError(f"key {jwk.get('kid')!r} is not an Ed25519 key")
            retired = jwk.get("retired_at")
            keys.append(
                CodeKey(
                    key_id=str(jwk["kid"]),
                    public_key=_b64url_decode(str(jwk["x"])),
                    not_before=datetime.fromisoformat(jwk["not_before"]),
                    retired_at=datetime.fromisoformat(retired) if retired else None,
                )
            )
        return cls(tuple(keys))


def _jwk(key: CodeKey) -> dict[str, Any]:
    return {
        "kty": "OKP",
        "crv": "Ed25519",
        "alg": "EdDSA",
        "use": "sig",
        "kid": key.key_id,
        "x": base64.urlsafe_b64encode(key.public_key).rstrip(b"=").decode(),
        "not_before": key.not_before.isoformat(),
        "retired_at": key.retired_at.isoformat() if key.retired_at else None,
    }


def _b64url_decode(text: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise ValueError("a key's x is not base64url") from None
