"""Session tokens: EdDSA (Ed25519) JWTs signed by auth, verified everywhere with the public key.

A token is refused when it is not EdDSA (including `alg: none`), not signed by our key, altered,
expired, missing a claim, or revoked: signed out (its `jti`), or issued before its user's sessions
were ended by a password change (its `gen` below the user's session generation). What is revoked
is decided by auth and read from Redis (common.revocations).
"""

from __future__ import annotations

import functools
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Protocol

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from common.clock import Clock, SystemClock
from common.errors import Unauthenticated

ALGORITHM = "EdDSA"
REQUIRED_CLAIMS = ("sub", "email", "iat", "exp", "jti")
# The roles a user may be granted (`ticketing users grant-admin EMAIL`); a token lists its
# user's in its `roles` claim. `admin`: the marketplace's operators (the market reports).
ADMIN = "admin"
ROLES = (ADMIN,)
VERIFIED_TOKENS = 4096


@dataclass(frozen=True)
class Claims:
    sub: str
    email: str
    iat: int
    exp: int
    jti: str
    # The user's session generation when the token was issued: ending a user's sessions (a
    # password change) raises it, and every token below it is refused. A counter, not a time:
    # a token issued in the same second as the change, or by a sign-in that checked the old
    # password while the change committed, is told apart exactly. Tokens issued before the claim
    # existed carry none and count as 0.
    gen: int = 0
    # The user's roles when the token was issued (ROLES); tokens without the claim have none. A
    # role granted later shows in the tokens issued after it: at the next sign-in.
    roles: tuple[str, ...] = ()

    @property
    def user_id(self) -> str:
        return self.sub

    @property
    def is_admin(self) -> bool:
        return ADMIN in self.roles


def generate_key_pair() -> tuple[str, str]:
    """A new Ed25519 key pair as (private PEM, public PEM)."""
    key = Ed25519PrivateKey.generate()
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return private, public


class Revocations(Protocol):
    """Whether a validly signed, unexpired token was revoked since (common.revocations reads
    Redis). Raises `Unavailable` when that cannot be known: never guesses either way."""

    async def is_revoked(self, claims: Claims) -> bool: ...


class TokenIssuer:
    def __init__(self, private_key_pem: str, ttl_seconds: int, clock: Clock | None = None) -> None:
        self._key = serialization.load_pem_private_key(private_key_pem.encode(), password=None)
        if not isinstance(self._key, Ed25519PrivateKey):
            raise ValueError("JWT private key must be an Ed25519 key")
        self.ttl = timedelta(seconds=ttl_seconds)
        self.clock = clock or SystemClock()

    def issue(
        self, user_id: str, email: str, generation: int = 0, roles: tuple[str, ...] = ()
    ) -> tuple[str, Claims]:
        now = self.clock.now()
        claims = Claims(
            sub=user_id,
            email=email,
            iat=int(now.timestamp()),
            exp=int((now + self.ttl).timestamp()),
            jti=str(uuid.uuid4()),
            gen=generation,
            roles=tuple(roles),
        )
        payload = {**vars(claims), "roles": list(claims.roles)}
        if not claims.roles:
            del payload["roles"]  # a token as before roles existed: no claim, no role
        token = jwt.encode(payload, self._key, algorithm=ALGORITHM)
        return token, claims


class TokenVerifier:
    def __init__(
        self, public_key_pem: str, revocations: Revocations, clock: Clock | None = None
    ) -> None:
        self._key = serialization.load_pem_public_key(public_key_pem.encode())
        self.revocations = revocations
        self.clock = clock or SystemClock()
        # A token's bytes and signature never change: its signature and claims are checked once
        # (an Ed25519 verification is ~0.1-0.3 ms, a tenth of a gateway request) and remembered
        # for the next requests of the same session; expiry and revocation are checked on every
        # use. Only tokens our key signed get in (failures are not cached), so the cache holds
        # real sessions, at most VERIFIED_TOKENS of them (~1 KiB each).
        self._signed_claims = functools.lru_cache(maxsize=VERIFIED_TOKENS)(
            self._check_signature_and_claims
        )

    def decode(self, token: str) -> Claims:
        """Signature, algorithm, claims and expiry; not revocation (that needs Redis)."""
        claims = self._signed_claims(token)
        if claims.exp <= self.clock.now().timestamp():
            raise Unauthenticated("Token expired")
        return claims

    def _check_signature_and_claims(self, token: str) -> Claims:
        try:
            payload = jwt.decode(
                token,
                self._key,  # type: ignore[arg-type]
                algorithms=[ALGORITHM],
                # exp is checked by decode() against the injected clock; iat is informational (a
                # token from a host whose clock runs a little ahead must not be refused).
                options={
                    "require": list(REQUIRED_CLAIMS),
                    "verify_exp": False,
                    "verify_iat": False,
                },
            )
        except jwt.PyJWTError:
            raise Unauthenticated("Invalid token") from None
        roles = payload.get("roles", [])
        if not isinstance(roles, list) or not all(isinstance(role, str) for role in roles):
            raise Unauthenticated("Invalid token")
        try:
            claims = Claims(
                **{name: payload[name] for name in REQUIRED_CLAIMS},
                gen=payload.get("gen", 0),
                roles=tuple(roles),
            )
        except TypeError:
            raise Unauthenticated("Invalid token") from None
        if not all(isinstance(getattr(claims, n), str) for n in ("sub", "email", "jti")):
            raise Unauthenticated("Invalid token")
        if not all(_is_int(value) for value in (claims.exp, claims.gen)) or claims.gen < 0:
            raise Unauthenticated("Invalid token")
        return claims

    async def verify(self, token: str) -> Claims:
        claims = self.decode(token)
        if await self.revocations.is_revoked(claims):
            raise Unauthenticated("Token revoked")
        return claims


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def bearer_token(header: str | None) -> str | None:
    """The token of an `Authorization: Bearer <jwt>` header, or None."""
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()
