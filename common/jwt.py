"""Session tokens: EdDSA (Ed25519) JWTs signed by auth, verified everywhere with the public keys.

A token is refused when it is not EdDSA (including `alg: none`), names no key we hold (`kid`), is
not signed by that key, altered, expired, missing a claim, issued for another deployment or
audience (`iss`, `aud`: TokenBinding), or revoked: signed out (its `jti`), or issued before its
user's sessions were ended by a password change (its `gen` below the user's session generation).
What is revoked is decided by auth and read from Redis (common.revocations).

Key rotation (docs/security.md, "Tokens bound to their deployment"): a verifier holds every public
key it is given (several PEM blocks in JWT_PUBLIC_KEY), each known by its RFC 7638 thumbprint; auth
signs with its one private key and names it in the header's `kid`.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import json
import re
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Protocol

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from common.clock import Clock, SystemClock
from common.config import DEFAULT_NAMESPACE, CommonSettings
from common.errors import Unauthenticated
from common.roles import ADMIN

ALGORITHM = "EdDSA"
REQUIRED_CLAIMS = ("sub", "email", "iat", "exp", "jti")
# Required too, and checked against the verifier's TokenBinding; not part of Claims.
BINDING_CLAIMS = ("iss", "aud")
VERIFIED_TOKENS = 4096
_PUBLIC_PEM = re.compile(r"-----BEGIN PUBLIC KEY-----.+?-----END PUBLIC KEY-----", re.DOTALL)


@dataclass(frozen=True)
class TokenBinding:
    """Where a session token is valid: `iss`, the deployment whose auth issued it, and `aud`, what
    accepts it (that deployment's API: the gateway and the services acting for a user). Both are
    signed into every token and required by every verifier, so a token of another deployment
    (another namespace, even with the same key pair) or meant for another use is refused."""

    issuer: str
    audience: str

    @classmethod
    def of_namespace(cls, namespace: str) -> TokenBinding:
        """The defaults: distinct per TICKETING_NAMESPACE, so two deployments differ unset."""
        return cls(f"urn:ticketing:{namespace}", f"urn:ticketing:{namespace}:api")

    @classmethod
    def of(cls, settings: CommonSettings) -> TokenBinding:
        """JWT_ISSUER and JWT_AUDIENCE, each defaulting to its namespace's."""
        default = cls.of_namespace(settings.namespace)
        return cls(settings.jwt_issuer or default.issuer, settings.jwt_audience or default.audience)


# The default namespace's: what a constructor given none binds to (tests, tools).
DEFAULT_BINDING = TokenBinding.of_namespace(DEFAULT_NAMESPACE)


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


def ed25519_private_key(pem: str, what: str = "JWT private key") -> Ed25519PrivateKey:
    """The Ed25519 private key of a PEM (session, device and service tokens all sign with one);
    ValueError naming `what` for a key of another kind."""
    key = serialization.load_pem_private_key(pem.encode(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError(f"{what} must be an Ed25519 key")
    return key


def key_id(key: Ed25519PublicKey) -> str:
    """The key's RFC 7638 JWK thumbprint (SHA-256, base64url): the `kid` of the tokens it
    verifies. Derived from the key, so no setting can disagree with it."""
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    # The required members of an OKP key, in lexicographic order, no whitespace (RFC 7638 3.2).
    jwk = {"crv": "Ed25519", "kty": "OKP", "x": _b64url(raw)}
    digest = hashlib.sha256(json.dumps(jwk, separators=(",", ":")).encode()).digest()
    return _b64url(digest)


def public_keys(pem: str) -> dict[str, Ed25519PublicKey]:
    """Every Ed25519 public key of a PEM bundle (one or more `BEGIN PUBLIC KEY` blocks), by key id.
    Raises ValueError for a bundle without one, or with a key that is not Ed25519."""
    keys: dict[str, Ed25519PublicKey] = {}
    for block in _PUBLIC_PEM.findall(pem):
        key = serialization.load_pem_public_key(block.encode())
        if not isinstance(key, Ed25519PublicKey):
            raise ValueError("JWT public keys must be Ed25519 keys")
        keys[key_id(key)] = key
    if not keys:
        raise ValueError("no PEM public key (-----BEGIN PUBLIC KEY-----) in the JWT public keys")
    return keys


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class Revocations(Protocol):
    """Whether a validly signed, unexpired token was revoked since (common.revocations reads
    Redis). Raises `Unavailable` when that cannot be known: never guesses either way."""

    async def is_revoked(self, claims: Claims) -> bool: ...


class TokenIssuer:
    def __init__(
        self,
        private_key_pem: str,
        ttl_seconds: int,
        clock: Clock | None = None,
        *,
        binding: TokenBinding = DEFAULT_BINDING,
    ) -> None:
        self._key = ed25519_private_key(private_key_pem)
        # The `kid` of every token issued: the thumbprint of the key that verifies them.
        self.key_id = key_id(self._key.public_key())
        self.binding = binding
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
        payload = {
            "iss": self.binding.issuer,
            "aud": self.binding.audience,
            **vars(claims),
            "roles": list(claims.roles),
        }
        if not claims.roles:
            del payload["roles"]  # a token as before roles existed: no claim, no role
        token = jwt.encode(payload, self._key, algorithm=ALGORITHM, headers={"kid": self.key_id})
        return token, claims


class TokenVerifier:
    def __init__(
        self,
        public_keys_pem: str,
        revocations: Revocations,
        clock: Clock | None = None,
        *,
        binding: TokenBinding = DEFAULT_BINDING,
    ) -> None:
        # Several during a key rollover: a token is checked with the one its `kid` names.
        self._keys = public_keys(public_keys_pem)
        self.binding = binding
        self.revocations = revocations
        self.clock = clock or SystemClock()
        # A token's bytes and signature never change: its signature and claims are checked once
        # (an Ed25519 verification is ~0.1-0.3 ms, a tenth of a gateway request) and remembered
        # for the next requests of the same session; expiry and revocation are checked on every
        # use. Only tokens our keys signed get in (failures are not cached), so the cache holds
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

    @property
    def key_ids(self) -> frozenset[str]:
        """The `kid` of every key a token may be signed with."""
        return frozenset(self._keys)

    def _check_signature_and_claims(self, token: str) -> Claims:
        try:
            kid = jwt.get_unverified_header(token).get("kid")
            # No kid, or one of no key we hold (another deployment's, a retired one): refused.
            key = self._keys.get(kid) if isinstance(kid, str) else None
            if key is None:
                raise Unauthenticated("Invalid token")
            payload = jwt.decode(
                token,
                key,
                algorithms=[ALGORITHM],
                issuer=self.binding.issuer,
                audience=self.binding.audience,
                # exp is checked by decode() against the injected clock; iat is informational (a
                # token from a host whose clock runs a little ahead must not be refused).
                options={
                    "require": [*REQUIRED_CLAIMS, *BINDING_CLAIMS],
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
