"""Session-token key files for operators (`ticketing keys`): a new pair written to a directory,
and the key ids (`kid`) of the keys in a PEM file, to check a rollover's steps
(docs/security.md)."""

from __future__ import annotations

import re
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from common.jwt import generate_key_pair, key_id, public_keys

_PRIVATE_PEM = re.compile(r"-----BEGIN PRIVATE KEY-----.+?-----END PRIVATE KEY-----", re.DOTALL)


def ids_in(pem: str) -> list[str]:
    """The key id of every key in `pem`: each private key's (the kid of the tokens it signs),
    then each public key's. Raises ValueError when there is none, or one that is not Ed25519."""
    ids = []
    for block in _PRIVATE_PEM.findall(pem):
        key = serialization.load_pem_private_key(block.encode(), password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise ValueError("not an Ed25519 private key")
        ids.append(key_id(key.public_key()))
    if "PUBLIC KEY" in pem or not ids:
        ids += list(public_keys(pem))
    return ids


def generate_into(directory: Path) -> str:
    """A new pair as `directory`/private.pem (mode 0600) and public.pem; its key id. Refuses to
    overwrite either file."""
    private, public = directory / "private.pem", directory / "public.pem"
    for path in (private, public):
        if path.exists():
            raise ValueError(f"{path} exists; choose another directory")
    directory.mkdir(parents=True, exist_ok=True)
    private_pem, public_pem = generate_key_pair()
    private.touch(mode=0o600)
    private.write_text(private_pem)
    public.write_text(public_pem)
    return ids_in(public_pem)[0]
