from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt as pyjwt
import pytest
from cryptography.hazmat.primitives import serialization

from common.clock import FrozenClock
from common.errors import Unauthenticated
from common.jwt import (
    BINDING_CLAIMS,
    DEFAULT_BINDING,
    REQUIRED_CLAIMS,
    Claims,
    TokenIssuer,
    TokenVerifier,
    bearer_token,
    generate_key_pair,
    key_id,
)
from common.revocations import SessionsEnded, TokenRevoked
from tests.unit.fakes import FakeRevocations

TTL = 900
PRIVATE_KEY, PUBLIC_KEY = generate_key_pair()


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_json(value: dict[str, Any]) -> str:
    return b64url(json.dumps(value, separators=(",", ":")).encode())


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock()


@pytest.fixture
def revocations() -> FakeRevocations:
    return FakeRevocations()


@pytest.fixture
def issuer(clock: FrozenClock) -> TokenIssuer:
    return TokenIssuer(PRIVATE_KEY, TTL, clock)


@pytest.fixture
def verifier(clock: FrozenClock, revocations: FakeRevocations) -> TokenVerifier:
    return TokenVerifier(PUBLIC_KEY, revocations, clock)


def claims_now(clock: FrozenClock, **changes: Any) -> dict[str, Any]:
    """A session token's payload as auth signs it for the default deployment."""
    iat = int(clock.now().timestamp())
    claims: dict[str, Any] = {
        "iss": DEFAULT_BINDING.issuer,
        "aud": DEFAULT_BINDING.audience,
        "sub": "user-1",
        "email": "alice@example.com",
        "iat": iat,
        "exp": iat + TTL,
        "jti": "jti-1",
    }
    claims.update(changes)
    return claims


def as_claims(payload: dict[str, Any]) -> Claims:
    return Claims(**{name: payload[name] for name in REQUIRED_CLAIMS})


def kid_of(private_pem: str) -> str:
    key = serialization.load_pem_private_key(private_pem.encode(), password=None)
    return key_id(key.public_key())  # type: ignore[arg-type]


KID = kid_of(PRIVATE_KEY)


def sign(
    payload: dict[str, Any], private_pem: str = PRIVATE_KEY, kid: str | object | None = ...
) -> str:
    """`payload` signed with `private_pem`, its header naming `kid` (default: that key's own;
    None: no kid)."""
    key = serialization.load_pem_private_key(private_pem.encode(), password=None)
    kid = kid_of(private_pem) if kid is ... else kid
    headers = None if kid is None else {"kid": kid}
    return pyjwt.encode(payload, key, algorithm="EdDSA", headers=headers)  # type: ignore[arg-type]


async def assert_refused(verifier: TokenVerifier, token: str) -> Unauthenticated:
    with pytest.raises(Unauthenticated) as caught:
        await verifier.verify(token)
    # decode() (no revocation check) refuses it too.
    with pytest.raises(Unauthenticated):
        verifier.decode(token)
    return caught.value


# --- accepted -----------------------------------------------------------------------------------


async def test_issued_token_verifies(issuer: TokenIssuer, verifier: TokenVerifier) -> None:
    token, issued = issuer.issue("user-1", "alice@example.com")

    claims = await verifier.verify(token)

    assert claims == issued
    assert claims.user_id == claims.sub == "user-1"
    assert claims.email == "alice@example.com"
    assert claims.exp - claims.iat == TTL
    assert verifier.decode(token) == issued


def test_issuer_uses_the_clock(issuer: TokenIssuer, clock: FrozenClock) -> None:
    _, claims = issuer.issue("user-1", "alice@example.com")
    assert claims.iat == int(clock.now().timestamp())
    assert claims.exp == claims.iat + TTL


def test_issuer_refuses_a_key_that_is_not_ed25519() -> None:
    from cryptography.hazmat.primitives.asymmetric import ec

    key = ec.generate_private_key(ec.SECP256R1())
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    with pytest.raises(ValueError, match="Ed25519"):
        TokenIssuer(pem, TTL)


async def test_token_hand_signed_with_our_key_verifies(
    verifier: TokenVerifier, clock: FrozenClock
) -> None:
    # Guards the refusal tests below: the same construction with our key is accepted.
    claims = await verifier.verify(sign(claims_now(clock)))
    assert claims == as_claims(claims_now(clock))


# --- refused ------------------------------------------------------------------------------------


async def test_token_signed_by_another_key_is_refused(
    verifier: TokenVerifier, clock: FrozenClock
) -> None:
    other_private, _ = generate_key_pair()
    error = await assert_refused(verifier, sign(claims_now(clock), other_private))
    assert error.message == "Invalid token"


async def test_tampered_payload_is_refused(issuer: TokenIssuer, verifier: TokenVerifier) -> None:
    token, _ = issuer.issue("user-1", "alice@example.com")
    header, payload, signature = token.split(".")
    middle = len(payload) // 2
    replacement = "B" if payload[middle] != "B" else "C"
    tampered_payload = payload[:middle] + replacement + payload[middle + 1 :]
    assert tampered_payload != payload

    await assert_refused(verifier, f"{header}.{tampered_payload}.{signature}")


async def test_payload_with_swapped_subject_is_refused(
    issuer: TokenIssuer, verifier: TokenVerifier
) -> None:
    token, claims = issuer.issue("user-1", "alice@example.com")
    header, _, signature = token.split(".")
    forged = b64url_json({**vars(claims), "sub": "admin"})

    await assert_refused(verifier, f"{header}.{forged}.{signature}")


async def test_tampered_signature_is_refused(issuer: TokenIssuer, verifier: TokenVerifier) -> None:
    token, _ = issuer.issue("user-1", "alice@example.com")
    header, payload, signature = token.split(".")
    raw = bytearray(base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4)))
    raw[0] ^= 0x01
    await assert_refused(verifier, f"{header}.{payload}.{b64url(bytes(raw))}")


@pytest.mark.parametrize("alg", ["none", "None", "NONE"])
async def test_alg_none_token_is_refused(
    verifier: TokenVerifier, clock: FrozenClock, alg: str
) -> None:
    header = b64url_json({"alg": alg, "typ": "JWT", "kid": KID})
    payload = b64url_json(claims_now(clock))
    await assert_refused(verifier, f"{header}.{payload}.")


async def test_alg_none_keeping_a_valid_signature_is_refused(
    issuer: TokenIssuer, verifier: TokenVerifier
) -> None:
    token, _ = issuer.issue("user-1", "alice@example.com")
    _, payload, signature = token.split(".")
    header = b64url_json({"alg": "none", "typ": "JWT", "kid": KID})
    await assert_refused(verifier, f"{header}.{payload}.{signature}")


def public_key_forms() -> dict[str, bytes]:
    public = serialization.load_pem_public_key(PUBLIC_KEY.encode())
    return {
        "pem": PUBLIC_KEY.encode(),
        "der": public.public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        ),
        "raw": public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw),
    }


@pytest.mark.parametrize("form", ["pem", "der", "raw"])
@pytest.mark.parametrize(("alg", "digest"), [("HS256", hashlib.sha256), ("HS512", hashlib.sha512)])
async def test_hmac_signed_with_the_public_key_is_refused(
    verifier: TokenVerifier, clock: FrozenClock, form: str, alg: str, digest: Any
) -> None:
    # Key confusion: the public key is no secret, so an HMAC made with it proves nothing.
    # PyJWT refuses to sign with an asymmetric key as HMAC secret, so the token is built by hand.
    header = b64url_json({"alg": alg, "typ": "JWT", "kid": KID})
    payload = b64url_json(claims_now(clock))
    signing_input = f"{header}.{payload}".encode()
    mac = hmac.new(public_key_forms()[form], signing_input, digest).digest()
    forged = f"{header}.{payload}.{b64url(mac)}"

    error = await assert_refused(verifier, forged)
    assert error.message == "Invalid token"


async def test_expired_token_is_refused(
    issuer: TokenIssuer, verifier: TokenVerifier, clock: FrozenClock
) -> None:
    token, _ = issuer.issue("user-1", "alice@example.com")

    clock.advance(TTL - 1)
    await verifier.verify(token)  # still valid one second before exp

    clock.advance(1)  # now == exp
    error = await assert_refused(verifier, token)
    assert error.message == "Token expired"

    clock.advance(3600)
    await assert_refused(verifier, token)


@pytest.mark.parametrize("missing", [*REQUIRED_CLAIMS, *BINDING_CLAIMS])
async def test_token_missing_a_claim_is_refused(
    verifier: TokenVerifier, clock: FrozenClock, missing: str
) -> None:
    payload = claims_now(clock)
    del payload[missing]
    await assert_refused(verifier, sign(payload))


@pytest.mark.parametrize(
    "changes",
    [
        {"sub": 42},
        {"email": None},
        {"jti": ["a"]},
        {"exp": "tomorrow"},
        {"exp": 1.5e12},
        {"gen": "1"},
        {"gen": -1},
        {"gen": True},
        {"gen": 1.5},
        {"gen": None},
        {"roles": "admin"},
        {"roles": [1]},
        {"roles": {"admin": True}},
    ],
)
async def test_token_with_a_claim_of_the_wrong_type_is_refused(
    verifier: TokenVerifier, clock: FrozenClock, changes: dict[str, Any]
) -> None:
    await assert_refused(verifier, sign(claims_now(clock, **changes)))


async def test_revoked_token_is_refused(
    issuer: TokenIssuer, verifier: TokenVerifier, revocations: FakeRevocations
) -> None:
    token, claims = issuer.issue("user-1", "alice@example.com")
    await revocations.publish([TokenRevoked(claims.jti, claims.sub, claims.exp)])

    with pytest.raises(Unauthenticated) as caught:
        await verifier.verify(token)
    assert caught.value.message == "Token revoked"
    # decode() alone does not consult the revocation list.
    assert verifier.decode(token) == claims


async def test_a_token_below_its_users_session_generation_is_refused(
    clock: FrozenClock, verifier: TokenVerifier, revocations: FakeRevocations
) -> None:
    issuer = TokenIssuer(PRIVATE_KEY, TTL, clock)
    older, _ = issuer.issue("user-1", "alice@example.com", generation=0)
    # Issued in the same second as the change that ends generation 0: told apart by `gen`.
    newer, newer_claims = issuer.issue("user-1", "alice@example.com", generation=1)
    others, _ = issuer.issue("user-2", "bob@example.com", generation=0)

    await revocations.publish([SessionsEnded("user-1", 1, newer_claims.exp + 60)])

    assert await refusal(verifier, older) == "Token revoked"
    assert (await verifier.verify(newer)).gen == 1
    assert (await verifier.verify(others)).sub == "user-2"


async def test_a_token_from_before_generations_counts_as_generation_zero(
    clock: FrozenClock, verifier: TokenVerifier, revocations: FakeRevocations
) -> None:
    legacy = sign(claims_now(clock))  # no `gen` claim: issued before it existed
    assert (await verifier.verify(legacy)).gen == 0
    await revocations.publish([SessionsEnded("user-1", 1, int(clock.now().timestamp()) + TTL)])
    assert await refusal(verifier, legacy) == "Token revoked"


@pytest.mark.parametrize(
    "token", ["", "garbage", "a.b.c", "a.b", "....", "eyJhbGciOiJFZERTQSJ9.e30.AAAA"]
)
async def test_malformed_token_is_refused(verifier: TokenVerifier, token: str) -> None:
    await assert_refused(verifier, token)


def test_generated_key_pair_is_a_matching_ed25519_pair() -> None:
    private, public = generate_key_pair()
    assert private.startswith("-----BEGIN PRIVATE KEY-----")
    assert public.startswith("-----BEGIN PUBLIC KEY-----")
    assert (private, public) != (PRIVATE_KEY, PUBLIC_KEY)
    clock = FrozenClock()
    token, _ = TokenIssuer(private, TTL, clock).issue("u", "u@example.com")
    TokenVerifier(public, FakeRevocations(), clock).decode(token)
    with pytest.raises(Unauthenticated):
        TokenVerifier(PUBLIC_KEY, FakeRevocations(), clock).decode(token)


async def test_token_issued_slightly_in_the_future_is_accepted(
    revocations: FakeRevocations,
) -> None:
    # The issuer's clock runs 2 s ahead of the real one (ordinary skew between hosts); the
    # verifier is told the same time, so by its own clock the token is valid.
    clock = FrozenClock(datetime.now(UTC) + timedelta(seconds=2))
    token, claims = TokenIssuer(PRIVATE_KEY, TTL, clock).issue("user-1", "alice@example.com")
    assert TokenVerifier(PUBLIC_KEY, revocations, clock).decode(token) == claims


# --- bearer_token -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("Bearer abc.def.ghi", "abc.def.ghi"),
        ("bearer abc", "abc"),
        ("BEARER abc", "abc"),
        ("Bearer   abc  ", "abc"),
        (None, None),
        ("", None),
        ("Bearer", None),
        ("Bearer ", None),
        ("Bearer    ", None),
        ("Basic dXNlcjpwYXNz", None),
        ("Token abc", None),
        ("abc.def.ghi", None),
        ("Bearerabc", None),
    ],
)
def test_bearer_token(header: str | None, expected: str | None) -> None:
    assert bearer_token(header) == expected


async def refusal(verifier: TokenVerifier, token: str) -> str:
    with pytest.raises(Unauthenticated) as caught:
        await verifier.verify(token)
    return caught.value.message


@pytest.fixture
def signature_checks(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    checked: list[str] = []
    decode = pyjwt.decode
    monkeypatch.setattr(
        pyjwt, "decode", lambda token, *a, **k: checked.append(token) or decode(token, *a, **k)
    )
    return checked


async def test_a_token_is_signature_checked_once_and_its_expiry_and_revocation_every_time(
    issuer: TokenIssuer,
    verifier: TokenVerifier,
    clock: FrozenClock,
    revocations: FakeRevocations,
    signature_checks: list[str],
) -> None:
    token, claims = issuer.issue("user-1", "alice@example.com")
    assert [await verifier.verify(token) for _ in range(3)] == [claims] * 3
    assert signature_checks == [token]

    await revocations.publish([TokenRevoked(claims.jti, claims.sub, claims.exp)])
    assert await refusal(verifier, token) == "Token revoked"
    clock.advance(TTL)
    assert await refusal(verifier, token) == "Token expired"
    assert signature_checks == [token]


async def test_a_refused_token_is_checked_again_every_time(
    issuer: TokenIssuer, verifier: TokenVerifier, signature_checks: list[str]
) -> None:
    token, _ = issuer.issue("user-1", "alice@example.com")
    tampered = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    assert [await refusal(verifier, tampered) for _ in range(3)] == ["Invalid token"] * 3
    assert signature_checks == [tampered] * 3


async def test_roles_travel_in_the_token(issuer: TokenIssuer, verifier: TokenVerifier) -> None:
    token, issued = issuer.issue("user-1", "alice@example.com", roles=("admin",))

    claims = await verifier.verify(token)

    assert claims == issued
    assert claims.roles == ("admin",) and claims.is_admin
    assert pyjwt.decode(token, options={"verify_signature": False})["roles"] == ["admin"]


async def test_a_token_without_roles_has_none_and_no_roles_claim(
    issuer: TokenIssuer, verifier: TokenVerifier, clock: FrozenClock
) -> None:
    token, _ = issuer.issue("user-1", "alice@example.com")
    assert "roles" not in pyjwt.decode(token, options={"verify_signature": False})
    claims = await verifier.verify(token)
    assert claims.roles == () and not claims.is_admin
    # Issued before roles existed: none either.
    assert (await verifier.verify(sign(claims_now(clock)))).roles == ()


async def test_a_role_added_to_a_token_by_hand_breaks_its_signature(
    issuer: TokenIssuer, verifier: TokenVerifier
) -> None:
    token, _ = issuer.issue("user-1", "alice@example.com")
    header, _payload, signature = token.split(".")
    forged = pyjwt.decode(token, options={"verify_signature": False}) | {"roles": ["admin"]}
    await assert_refused(verifier, f"{header}.{b64url_json(forged)}.{signature}")
