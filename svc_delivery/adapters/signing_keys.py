"""The ticket-code keys on disk, and Ed25519 through `cryptography` for the domain's codes.

A key directory holds:

    ring.json           the key ring as published (`KeyRing.published`): every key's public
                        half, id, `not_before` and `retired_at`; the one record of the ring
    private/<kid>.pem   each usable key's private half (PKCS#8 PEM, mode 0600); removed when
                        the key is retired

`generate` makes the first key or the next one (a rotation); `retire` ends one. Both rewrite
ring.json in one rename, so a process reading the directory sees the old ring or the new one.
A CLI (`ticketing ticket-keys ...`, with the service) calls them; the service `load`s the
directory at start. Key pairs, PEM parsing and key thumbprints are `common/jwt.py`'s, as for
session and service tokens.
"""

from __future__ import annotations

import base64
import json
import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from common.errors import Conflict
from common.jwt import ed25519_private_key, generate_key_pair, key_id
from common.settings import ConfigError
from svc_delivery.domain import codes
from svc_delivery.domain.codes import KEY_ID_BYTES
from svc_delivery.domain.keys import CodeKey, KeyRing

RING_FILE = "ring.json"
PRIVATE_DIR = "private"


def check_signature(public_key: bytes, signature: bytes, message: bytes) -> bool:
    """`codes.SignatureCheck` with `cryptography`'s Ed25519."""
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(signature, message)
    except (InvalidSignature, ValueError):
        return False
    return True


def raw_public_key(key: Ed25519PrivateKey | Ed25519PublicKey) -> bytes:
    public = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    return public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def code_key_id(key: Ed25519PrivateKey | Ed25519PublicKey) -> str:
    """A key's id in codes: the first 4 bytes of its RFC 7638 thumbprint (`common.jwt.key_id`,
    the `kid` of tokens), in hex."""
    public = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    thumbprint = base64.urlsafe_b64decode(key_id(public) + "=")
    return thumbprint[:KEY_ID_BYTES].hex()


@dataclass(frozen=True)
class CodeSigner:
    """The key ring and the private keys that sign with it: signs a code with the key that
    signs at the time asked."""

    ring: KeyRing
    private_keys: dict[str, Ed25519PrivateKey]

    def signing_key_id(self, at: datetime) -> str:
        return self.ring.signing_key(at).key_id

    def published_keys(self) -> dict[str, Any]:
        return self.ring.published()

    def sign(self, code: codes.TicketCode) -> str:
        """The text of `code`, signed with its key (`code.key_id`, from `signing_key_id`)."""
        private = self.private_keys.get(code.key_id)
        if private is None:
            raise ConfigError(f"no private key {code.key_id} to sign ticket codes with")
        return codes.encode(code, private.sign)


def load(directory: Path, now: datetime, private_dir: Path | None = None) -> CodeSigner:
    """The signer of a key directory (its private keys in `private_dir` when given, e.g. a
    second mounted Secret, else in its private/). ConfigError when it has no ring, a private
    key that is not its ring's, or lacks the private key of a key that signs now or later."""
    ring = read_ring(directory)
    private_keys: dict[str, Ed25519PrivateKey] = {}
    for path in sorted((private_dir or directory / PRIVATE_DIR).glob("*.pem")):
        try:
            private = ed25519_private_key(path.read_text(), f"ticket-code key {path}")
        except ValueError as refused:
            raise ConfigError(str(refused)) from None
        kid = code_key_id(private)
        listed = next((key for key in ring.keys if key.key_id == kid), None)
        if listed is None or listed.public_key != raw_public_key(private) or path.stem != kid:
            raise ConfigError(f"{path} is not the private half of ring key {path.stem}")
        private_keys[kid] = private
    try:
        signing = ring.signing_key(now)
    except Conflict as refused:
        raise ConfigError(f"{directory}: {refused}") from None
    for key in ring.keys:
        if key.not_before >= signing.not_before and key.retired_at is None:
            if key.key_id not in private_keys:
                raise ConfigError(f"{directory}: no private key for key {key.key_id}")
    return CodeSigner(ring, private_keys)


def read_ring(directory: Path) -> KeyRing:
    path = directory / RING_FILE
    try:
        return KeyRing.from_published(json.loads(path.read_text()))
    except FileNotFoundError:
        raise ConfigError(f"no {path}: generate the ticket-code keys first") from None
    except (ValueError, KeyError, TypeError) as refused:
        raise ConfigError(f"{path}: {refused}") from None


def generate(directory: Path, starts_at: datetime) -> CodeKey:
    """A new key that signs from `starts_at`: the directory's first, or a rotation (the newest
    key until then keeps signing, and every older key keeps verifying until retired)."""
    ring = read_ring(directory) if (directory / RING_FILE).exists() else KeyRing()
    private_pem, _ = generate_key_pair()
    private = ed25519_private_key(private_pem, "a new ticket-code key")
    key = CodeKey(code_key_id(private), raw_public_key(private), starts_at)
    rotated = ring.rotated(key)  # Conflict for a key id taken (1 in 4 billion: run it again)
    private_dir = directory / PRIVATE_DIR
    private_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = private_dir / f"{key.key_id}.pem"
    path.touch(mode=0o600)
    path.write_text(private_pem)
    _write_ring(directory, rotated)
    return key


def retire(directory: Path, key_id: str, now: datetime) -> KeyRing:
    """Key `key_id` ends now (codes signed with it are refused from then on) and its private
    half is deleted. Refused (Conflict) while no other key signs."""
    ring = read_ring(directory).retired(key_id, now)
    _write_ring(directory, ring)
    (directory / PRIVATE_DIR / f"{key_id}.pem").unlink(missing_ok=True)
    return ring


def _write_ring(directory: Path, ring: KeyRing) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    temporary = directory / f".{RING_FILE}.tmp"
    temporary.write_text(json.dumps(ring.published(), indent=2) + "\n")
    os.replace(temporary, directory / RING_FILE)
