"""Password hashing with scrypt (memory-hard, in the standard library), off the event loop."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import secrets


class ScryptHasher:
    # 2**15 * 8 * 128 bytes = 32 MiB a hash: OWASP's recommended scrypt floor.
    def __init__(self, n: int = 2**15, r: int = 8, p: int = 1) -> None:
        self.n, self.r, self.p = n, r, p

    def _derive(self, password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
        return hashlib.scrypt(
            password.encode(), salt=salt, n=n, r=r, p=p, maxmem=256 * 1024 * 1024, dklen=32
        )

    def _hash(self, password: str) -> str:
        salt = secrets.token_bytes(16)
        digest = self._derive(password, salt, self.n, self.r, self.p)
        b64 = base64.b64encode
        return f"scrypt${self.n}${self.r}${self.p}${b64(salt).decode()}${b64(digest).decode()}"

    def _verify(self, password: str, encoded: str) -> bool:
        try:
            scheme, n, r, p, salt, digest = encoded.split("$")
        except ValueError:
            return False
        if scheme != "scrypt":
            return False
        actual = self._derive(password, base64.b64decode(salt), int(n), int(r), int(p))
        return hmac.compare_digest(actual, base64.b64decode(digest))

    async def hash(self, password: str) -> str:
        return await asyncio.to_thread(self._hash, password)

    async def verify(self, password: str, encoded: str) -> bool:
        return await asyncio.to_thread(self._verify, password, encoded)
