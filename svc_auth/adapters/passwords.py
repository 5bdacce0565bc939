"""Password hashes: argon2id (argon2-cffi) for every new hash; scrypt hashes written before it are
still verified, and `needs_rehash` says so, so that a successful sign-in replaces them.

Every hash and verification runs on the bounded `HashingPool`, off the event loop.

Sizing: a hash holds its memory while it runs. Auth's memory limit is 384 MiB (k8s) and the
process itself takes ~100 MiB, so PASSWORD_HASHING_CONCURRENCY hashes must fit in what is left:
argon2id with OWASP's first recommended parameters (19 MiB, 2 passes, 1 lane) takes 19 MiB, a
legacy scrypt verification 32 MiB, so the default 4 slots need at most 128 MiB. (argon2-cffi's
own default, RFC 9106's low-memory profile, takes 64 MiB a hash: 4 of them would be 256 MiB.)
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

import argon2
from argon2.exceptions import InvalidHashError, VerificationError

from svc_auth.adapters.hashing_pool import HashingPool

# OWASP Password Storage Cheat Sheet: argon2id, m=19 MiB, t=2, p=1.
ARGON2_PARAMETERS = argon2.Parameters(
    type=argon2.Type.ID,
    version=19,
    salt_len=16,
    hash_len=32,
    time_cost=2,
    memory_cost=19 * 1024,  # KiB
    parallelism=1,
)
ARGON2_PREFIX = "$argon2id$"
SCRYPT_PREFIX = "scrypt$"


class Argon2Passwords:
    """New hashes argon2id with `parameters`; verifies those and legacy scrypt hashes."""

    def __init__(self, pool: HashingPool, parameters: argon2.Parameters = ARGON2_PARAMETERS):
        self.pool = pool
        self._argon2 = argon2.PasswordHasher.from_parameters(parameters)

    async def hash(self, password: str) -> str:
        return await self.pool.run(self._hash, password)

    async def verify(self, password: str, encoded: str) -> bool:
        return await self.pool.run(self._verify, password, encoded)

    def needs_rehash(self, encoded: str) -> bool:
        """True for a legacy scrypt hash, or an argon2 one made with other parameters."""
        if not encoded.startswith(ARGON2_PREFIX):
            return True
        try:
            return self._argon2.check_needs_rehash(encoded)
        except InvalidHashError:
            return True

    # The work itself, on a hashing thread:

    def _hash(self, password: str) -> str:
        return self._argon2.hash(password)

    def _verify(self, password: str, encoded: str) -> bool:
        if encoded.startswith(SCRYPT_PREFIX):
            return LegacyScrypt.verify(password, encoded)
        try:
            return self._argon2.verify(encoded, password)
        except (VerificationError, InvalidHashError):
            return False


class LegacyScrypt:
    """The format auth wrote before argon2id: `scrypt$n$r$p$salt$digest` (base64), 32 MiB a hash
    at the default n=2**15, r=8. Only verified now; `encode` makes such hashes for tests."""

    @staticmethod
    def _derive(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
        return hashlib.scrypt(
            password.encode(), salt=salt, n=n, r=r, p=p, maxmem=256 * 1024 * 1024, dklen=32
        )

    @classmethod
    def encode(cls, password: str, n: int = 2**15, r: int = 8, p: int = 1) -> str:
        salt = secrets.token_bytes(16)
        digest = cls._derive(password, salt, n, r, p)
        b64 = base64.b64encode
        return f"scrypt${n}${r}${p}${b64(salt).decode()}${b64(digest).decode()}"

    @classmethod
    def verify(cls, password: str, encoded: str) -> bool:
        try:
            scheme, n, r, p, salt, digest = encoded.split("$")
            if scheme != "scrypt":
                return False
            actual = cls._derive(password, base64.b64decode(salt), int(n), int(r), int(p))
        except ValueError:  # malformed: not a hash we wrote
            return False
        return hmac.compare_digest(actual, base64.b64decode(digest))
