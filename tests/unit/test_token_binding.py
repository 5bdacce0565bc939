"""Tokens bound to where they were issued (issue 18): `iss` and `aud` from the deployment's
settings, `kid` naming the key, and a key rollover with two public keys (docs/security.md)."""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

import jwt as pyjwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ec import SECP256R1, generate_private_key
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from common.clock import FrozenClock
from common.config import CommonSettings
from common.errors import Unauthenticated
from common.jwt import (
    DEFAULT_BINDING,
    TokenBinding,
    TokenIssuer,
    TokenVerifier,
    generate_key_pair,
    key_id,
    public_keys,
)
from common.revocations import TokenRevoked
from tests.unit.fakes import FakeRevocations

TTL = 900
OLD_PRIVATE, OLD_PUBLIC = generate_key_pair()
NEW_PRIVATE, NEW_PUBLIC = generate_key_pair()
HERE = TokenBinding.of_namespace("here")
ELSEWHERE = TokenBinding.of_namespace("elsewhere")


def kid_of(private_pem: str) -> str:
    key = serialization.load_pem_private_key(private_pem.encode(), password=None)
    return key_id(key.public_key())  # type: ignore[arg-type]


def payload(clock: FrozenClock, binding: TokenBinding = HERE, **changes: Any) -> dict[str, Any]:
    iat = int(clock.now().timestamp())
    claims: dict[str, Any] = {
        "iss": binding.issuer,
        "aud": binding.audience,
        "sub": "user-1",
        "email": "alice@example.com",
        "iat": iat,
        "exp": iat + TTL,
        "jti": "jti-1",
    }
    claims.update(changes)
    return claims


def b64url_json(value: Any) -> str:
    data = json.dumps(value, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def sign(claims: dict[str, Any], private_pem: str = OLD_PRIVATE, **headers: Any) -> str:
    """Signed as is, by hand: PyJWT refuses to encode an `iss` or a `kid` that is no string."""
    key = serialization.load_pem_private_key(private_pem.encode(), password=None)
    signing_input = (
        f"{b64url_json({'alg': 'EdDSA', 'typ': 'JWT', **headers})}.{b64url_json(claims)}"
    )
    signature = key.sign(signing_input.encode())  # type: ignore[union-attr, call-arg]
    return f"{signing_input}.{base64.urlsafe_b64encode(signature).rstrip(b'=').decode()}"


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock()


def verifier(clock: FrozenClock, *pems: str, binding: TokenBinding = HERE) -> TokenVerifier:
    return TokenVerifier("".join(pems or (OLD_PUBLIC,)), FakeRevocations(), clock, binding=binding)


def issuer(clock: FrozenClock, private: str = OLD_PRIVATE, binding=HERE) -> TokenIssuer:
    return TokenIssuer(private, TTL, clock, binding=binding)


async def refusal(verifier: TokenVerifier, token: str) -> str:
    with pytest.raises(Unauthenticated) as caught:
        await verifier.verify(token)
    return caught.value.message


# --- iss and aud --------------------------------------------------------------------------------


async def test_a_token_carries_its_deployments_iss_and_aud_and_its_keys_kid(clock) -> None:
    token, claims = issuer(clock).issue("user-1", "alice@example.com")

    body = pyjwt.decode(token, options={"verify_signature": False})
    assert (body["iss"], body["aud"]) == ("urn:ticketing:here", "urn:ticketing:here:api")
    assert pyjwt.get_unverified_header(token)["kid"] == kid_of(OLD_PRIVATE)
    assert await verifier(clock).verify(token) == claims


async def test_a_token_of_another_deployment_with_the_same_key_pair_is_refused(clock) -> None:
    # The issue's row: same key pair, another namespace. Before iss/aud it was accepted here, and
    # signing out there (a revocation in that namespace's Redis keys) did not revoke it here.
    foreign, _ = issuer(clock, binding=ELSEWHERE).issue("user-1", "alice@example.com")
    here, _ = issuer(clock).issue("user-1", "alice@example.com")

    assert await refusal(verifier(clock), foreign) == "Invalid token"
    assert (await verifier(clock).verify(here)).sub == "user-1"
    # ...and the other deployment refuses ours.
    assert await refusal(verifier(clock, binding=ELSEWHERE), here) == "Invalid token"


@pytest.mark.parametrize(
    "changes",
    [
        {"iss": ELSEWHERE.issuer},
        {"aud": ELSEWHERE.audience},
        {"aud": "urn:ticketing:here:device"},  # our issuer, another use
        {"aud": [ELSEWHERE.audience]},
        {"iss": ["urn:ticketing:here"]},
        {"iss": None},
        {"aud": None},
        {"iss": ""},
        {"aud": ""},
    ],
)
async def test_a_token_with_another_iss_or_aud_is_refused(clock, changes) -> None:
    token = sign(payload(clock, **changes), kid=kid_of(OLD_PRIVATE))
    assert await refusal(verifier(clock), token) == "Invalid token"


@pytest.mark.parametrize("missing", ["iss", "aud"])
async def test_a_token_without_iss_or_aud_is_refused(clock, missing) -> None:
    claims = payload(clock)
    del claims[missing]
    assert await refusal(verifier(clock), sign(claims, kid=kid_of(OLD_PRIVATE))) == "Invalid token"


async def test_a_token_listing_our_audience_among_others_is_accepted(clock) -> None:
    # RFC 7519 4.1.3: `aud` may be an array; ours among them is enough.
    claims = payload(clock, aud=["urn:other", HERE.audience])
    assert (await verifier(clock).verify(sign(claims, kid=kid_of(OLD_PRIVATE)))).sub == "user-1"


async def test_a_token_issued_before_iss_aud_and_kid_is_refused(clock) -> None:
    # What auth issued before this change: signed by the same key, no iss/aud/kid. Its user signs
    # in again (CHANGELOG).
    legacy = payload(clock)
    del legacy["iss"], legacy["aud"]
    assert await refusal(verifier(clock), sign(legacy)) == "Invalid token"


# --- kid ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("kid", [None, "", "unknown", 42, ["x"], {"k": 1}])
async def test_a_token_without_a_kid_or_with_an_unknown_one_is_refused(clock, kid) -> None:
    headers = {} if kid is None else {"kid": kid}
    token = sign(payload(clock), **headers)
    assert await refusal(verifier(clock), token) == "Invalid token"


async def test_a_token_naming_one_key_and_signed_by_another_is_refused(clock) -> None:
    # Both keys are ours (a rollover): the kid must name the key that signed.
    token = sign(payload(clock), NEW_PRIVATE, kid=kid_of(OLD_PRIVATE))
    assert await refusal(verifier(clock, OLD_PUBLIC, NEW_PUBLIC), token) == "Invalid token"


def test_the_kid_is_the_rfc_7638_thumbprint_of_the_key() -> None:
    # RFC 8037, appendix A.3: the thumbprint of the example Ed25519 key.
    x = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"
    key = Ed25519PublicKey.from_public_bytes(base64.urlsafe_b64decode(x + "="))
    assert key_id(key) == "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"


def test_the_kid_matches_the_jwk_thumbprint_pyjwt_computes() -> None:
    key = serialization.load_pem_public_key(OLD_PUBLIC.encode())
    jwk = json.loads(pyjwt.algorithms.OKPAlgorithm.to_jwk(key))  # type: ignore[arg-type]
    members = json.dumps({k: jwk[k] for k in ("crv", "kty", "x")}, separators=(",", ":"))
    digest = base64.urlsafe_b64encode(hashlib.sha256(members.encode()).digest()).rstrip(b"=")
    assert key_id(key) == digest.decode()  # type: ignore[arg-type]


# --- several public keys: a rollover ------------------------------------------------------------


async def test_a_rollover_accepts_both_keys_while_both_are_configured(clock) -> None:
    # 1) every process gets both public keys; auth still signs with the old one.
    before, _ = issuer(clock, OLD_PRIVATE).issue("user-1", "alice@example.com")
    both = verifier(clock, OLD_PUBLIC, NEW_PUBLIC)
    assert (await both.verify(before)).sub == "user-1"
    assert both.key_ids == {kid_of(OLD_PRIVATE), kid_of(NEW_PRIVATE)}

    # 2) auth signs with the new private key: old and new sessions both hold.
    after, _ = issuer(clock, NEW_PRIVATE).issue("user-2", "bob@example.com")
    assert (await both.verify(after)).sub == "user-2"
    assert (await both.verify(before)).sub == "user-1"

    # 3) once JWT_TTL_SECONDS has passed, the old public key is removed: what it signed is
    # refused (had it not expired), the new key's tokens still verify.
    only_new = verifier(clock, NEW_PUBLIC)
    assert await refusal(only_new, before) == "Invalid token"
    assert (await only_new.verify(after)).sub == "user-2"


async def test_a_token_of_a_key_not_yet_configured_is_refused(clock) -> None:
    # Step 2 before step 1: a verifier with only the old key refuses the new key's tokens (auth
    # refuses to start so; test_auth_refuses_a_private_key_whose_public_key_is_not_configured).
    token, _ = issuer(clock, NEW_PRIVATE).issue("user-1", "alice@example.com")
    assert await refusal(verifier(clock, OLD_PUBLIC), token) == "Invalid token"


async def test_revocation_applies_whichever_key_signed(clock) -> None:
    revocations = FakeRevocations()
    both = TokenVerifier(OLD_PUBLIC + NEW_PUBLIC, revocations, clock, binding=HERE)
    token, claims = issuer(clock, NEW_PRIVATE).issue("user-1", "alice@example.com")
    await revocations.publish([TokenRevoked(claims.jti, claims.sub, claims.exp)])
    assert await refusal(both, token) == "Token revoked"


def test_public_keys_reads_every_pem_block_around_other_text() -> None:
    bundle = f"# old, remove after the rollover\n{OLD_PUBLIC}\n# new\n{NEW_PUBLIC}"
    assert set(public_keys(bundle)) == {kid_of(OLD_PRIVATE), kid_of(NEW_PRIVATE)}
    assert set(public_keys(OLD_PUBLIC + OLD_PUBLIC)) == {kid_of(OLD_PRIVATE)}


def test_public_keys_refuses_a_bundle_without_a_key_or_with_a_key_not_ed25519() -> None:
    with pytest.raises(ValueError, match="no PEM public key"):
        public_keys("not a key")
    with pytest.raises(ValueError, match="no PEM public key"):
        TokenVerifier(OLD_PRIVATE, FakeRevocations())  # a private key is no public key
    ec = generate_private_key(SECP256R1()).public_key()
    pem = ec.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()
    with pytest.raises(ValueError, match="Ed25519"):
        public_keys(OLD_PUBLIC + pem)


# --- from settings ------------------------------------------------------------------------------


def test_the_binding_defaults_to_the_namespaces_and_settings_override_it() -> None:
    assert TokenBinding.of(CommonSettings.from_env({})) == DEFAULT_BINDING
    assert DEFAULT_BINDING == TokenBinding("urn:ticketing:ticketing", "urn:ticketing:ticketing:api")
    assert TokenBinding.of(CommonSettings.from_env({"TICKETING_NAMESPACE": "here"})) == HERE
    assert HERE != ELSEWHERE
    explicit = CommonSettings.from_env(
        {"TICKETING_NAMESPACE": "here", "JWT_ISSUER": "https://id.example", "JWT_AUDIENCE": "api"}
    )
    assert TokenBinding.of(explicit) == TokenBinding("https://id.example", "api")
