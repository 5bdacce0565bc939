"""Auth's sign-in throttling (svc_auth/service_layer/signin_throttle.py) through its handlers,
with an in-memory count: unknown devices are counted per account and refused past the limit
before any hashing; a device token of the account skips that count and has one of its own; a
token that is not a valid one of the account buys nothing."""

from __future__ import annotations

import jwt as pyjwt
import pytest
from cryptography.hazmat.primitives.serialization import load_pem_private_key

from common.errors import RateLimited, Unauthenticated, Unavailable
from common.jwt import generate_key_pair, key_id
from svc_auth.adapters.device_tokens import TYPE, DeviceTokens
from svc_auth.domain.device import Device
from svc_auth.service_layer.handlers import SignIn, SignUp
from svc_auth.service_layer.signin_throttle import (
    ACCOUNT_REFUSAL,
    DEVICE_REFUSAL,
    account_key,
)
from tests.unit.test_auth_handlers import (
    DEVICE_TTL,
    PASSWORD,
    PRIVATE_KEY,
    PUBLIC_KEY,
    World,
    make_world,
)

ANN = "ann@example.com"
WRONG = "not the password"


async def signed_up(world: World, email: str = ANN) -> str:
    """The new account's device token, from a first sign-in (which takes one attempt)."""
    await world.handlers.sign_up(SignUp(email, PASSWORD))
    session = await world.handlers.sign_in(SignIn(email, PASSWORD))
    assert session.device_token
    return session.device_token


async def fail(world: World, times: int, device_token: str | None = None) -> None:
    for _ in range(times):
        with pytest.raises(Unauthenticated):
            await world.handlers.sign_in(SignIn(ANN, WRONG, device_token))


async def refused(world: World, password: str, device_token: str | None = None) -> str:
    """The refusal's message, after checking no password was looked at for it."""
    verified = world.hasher.verify_calls
    with pytest.raises(RateLimited) as info:
        await world.handlers.sign_in(SignIn(ANN, password, device_token))
    assert world.hasher.verify_calls == verified  # refused before hashing
    assert info.value.retry_after_seconds == 900
    return info.value.message


async def test_past_the_limit_unknown_devices_are_refused_before_hashing_right_password_too():
    world = make_world(account_limit=5)
    await signed_up(world)  # a success from an unknown device: one place taken
    await fail(world, 4)

    assert (await refused(world, WRONG)).startswith(ACCOUNT_REFUSAL)
    assert (await refused(world, PASSWORD)).startswith(ACCOUNT_REFUSAL)
    # " Ann@Example.com " is the same account.
    with pytest.raises(RateLimited):
        await world.handlers.sign_in(SignIn(" Ann@Example.COM ", PASSWORD))


async def test_the_owners_device_signs_in_while_unknown_devices_are_refused():
    world = make_world(account_limit=3, device_limit=3)
    device_token = await signed_up(world)
    await fail(world, 2)
    await refused(world, PASSWORD)  # the account is limited for unknown devices

    session = await world.handlers.sign_in(SignIn(ANN, PASSWORD, device_token))
    assert session.user.email == ANN
    await refused(world, PASSWORD)  # still, for everyone else


async def test_a_known_devices_failures_lock_only_that_device():
    world = make_world(account_limit=3, device_limit=2)
    stolen = await signed_up(world)
    owners = (await world.handlers.sign_in(SignIn(ANN, PASSWORD))).device_token
    await fail(world, 2, stolen)

    assert (await refused(world, PASSWORD, stolen)).startswith(DEVICE_REFUSAL)
    assert world.counter.used("signin-account") == 2  # the two sign-ins above, nothing more
    assert (await world.handlers.sign_in(SignIn(ANN, PASSWORD, owners))).user.email == ANN
    # And an unknown device still has its place left.
    assert (await world.handlers.sign_in(SignIn(ANN, PASSWORD))).user.email == ANN


async def test_a_success_clears_its_devices_failures_and_not_the_unknown_devices_count():
    world = make_world(account_limit=4, device_limit=3)
    device_token = await signed_up(world)  # unknown devices: 1
    await fail(world, 2)  # unknown devices: 3 (a stranger)
    await fail(world, 2, device_token)

    renewed = await world.handlers.sign_in(SignIn(ANN, PASSWORD, device_token))
    assert renewed.device_token
    await fail(world, 2, renewed.device_token)  # counted afresh: two more before the limit
    assert world.counter.used("signin-account") == 3  # the stranger's failures still count

    await fail(world, 1)  # the stranger's last place...
    await refused(world, WRONG)  # ...and no more, however often the owner signs in


async def test_the_token_is_renewed_for_the_same_device():
    world = make_world()
    first = await signed_up(world)
    renewed = await world.handlers.sign_in(SignIn(ANN, PASSWORD, first))
    assert renewed.device_token
    old, new = world.devices.read(first), world.devices.read(renewed.device_token)
    assert old is not None and new is not None
    assert new.device_id == old.device_id and new.user_id == old.user_id == renewed.user.id
    # An unknown device gets a device of its own.
    other = (await world.handlers.sign_in(SignIn(ANN, PASSWORD))).device_token
    assert world.devices.read(other).device_id != old.device_id  # type: ignore[union-attr]


def forged_tokens(world: World, ann_id: str, bobs: str, anns: str) -> dict[str, str]:
    other_key, _ = generate_key_pair()
    header, payload, signature = anns.split(".")
    now = int(world.clock.now().timestamp())
    issuer, audience = world.devices.binding.issuer, world.devices.audience
    claims = {"sub": ann_id, "did": "d-1", "iss": issuer, "aud": audience, "iat": now}
    claims["exp"] = now + 60
    kid = {
        "typ": TYPE,
        "kid": key_id(load_pem_private_key(PRIVATE_KEY.encode(), None).public_key()),
    }
    return {
        "another account's": bobs,
        "tampered": f"{header}.{payload}.{signature[:-4]}AAAA",
        "signed with another key": pyjwt.encode(claims, other_key, algorithm="EdDSA", headers=kid),
        # Signed with auth's own key, each lacking one mark of a device token.
        "of another type": pyjwt.encode(
            claims, PRIVATE_KEY, algorithm="EdDSA", headers={**kid, "typ": "JWT"}
        ),
        "for another audience": pyjwt.encode(
            {**claims, "aud": "ticketing"}, PRIVATE_KEY, algorithm="EdDSA", headers=kid
        ),
        "from another deployment": pyjwt.encode(
            {**claims, "iss": "urn:ticketing:elsewhere", "aud": "urn:ticketing:elsewhere:device"},
            PRIVATE_KEY,
            algorithm="EdDSA",
            headers=kid,
        ),
        "without its key id": pyjwt.encode(
            claims, PRIVATE_KEY, algorithm="EdDSA", headers={"typ": TYPE}
        ),
        "not a token": "device",
        "too long": "a" * 10_000,
    }


async def test_a_forged_or_foreign_device_token_buys_no_bypass():
    world = make_world(account_limit=2)
    anns = await signed_up(world)
    bobs = await signed_up(world, "bob@example.com")
    ann = world.devices.read(anns)
    assert ann is not None
    session = await world.handlers.sign_in(SignIn(ANN, PASSWORD))  # a session token...
    await refused(world, PASSWORD)  # ...and the account is limited for unknown devices

    for what, token in forged_tokens(world, ann.user_id, bobs, anns).items():
        try:
            await world.handlers.sign_in(SignIn(ANN, PASSWORD, token))
            pytest.fail(f"{what} device token: signed in")
        except RateLimited as exc:
            assert exc.message.startswith(ACCOUNT_REFUSAL), what
    with pytest.raises(RateLimited, match=ACCOUNT_REFUSAL):
        await world.handlers.sign_in(SignIn(ANN, PASSWORD, session.token))

    # An expired one: the device is known for DEVICE_TTL seconds, not a second more.
    world.clock.advance(DEVICE_TTL)
    with pytest.raises(RateLimited, match=ACCOUNT_REFUSAL):
        await world.handlers.sign_in(SignIn(ANN, PASSWORD, anns))


def test_a_device_token_is_no_session_token():
    world = make_world()
    token = world.devices.issue(Device("user-1", "d-1"))
    with pytest.raises(Unauthenticated):
        world.verifier.decode(token)


def test_a_device_token_from_another_key_is_not_read():
    world = make_world()
    other_private, _ = generate_key_pair()
    foreign = DeviceTokens(other_private, DEVICE_TTL, world.clock).issue(Device("user-1", "d"))
    assert world.devices.read(foreign) is None
    assert world.devices.read(world.devices.issue(Device("user-1", "d"))) == Device("user-1", "d")


def test_a_key_rollover_leaves_known_devices_known():
    """Auth signs with the new key once every process has both public keys (docs/security.md):
    a device token of the old key still names its device until that key is removed."""
    world = make_world()
    old_token = world.devices.issue(Device("user-1", "d"))
    new_private, new_public = generate_key_pair()
    both = PUBLIC_KEY + new_public
    rolled = DeviceTokens(new_private, DEVICE_TTL, world.clock, public_keys_pem=both)
    assert rolled.read(old_token) == Device("user-1", "d")
    assert rolled.read(rolled.issue(Device("user-1", "e"))) == Device("user-1", "e")
    after = DeviceTokens(new_private, DEVICE_TTL, world.clock, public_keys_pem=new_public)
    assert after.read(old_token) is None


async def test_without_its_counts_sign_in_is_refused_as_unavailable():
    world = make_world(account_limit=10, device_limit=10)
    device_token = await signed_up(world)
    world.counter.reachable = False
    verified = world.hasher.verify_calls
    for token in (None, device_token):
        with pytest.raises(Unavailable):
            await world.handlers.sign_in(SignIn(ANN, PASSWORD, token))
    assert world.hasher.verify_calls == verified


def test_an_accounts_key_is_bounded_and_never_fails():
    assert account_key("ann@example.com") != account_key("bob@example.com")
    assert len(account_key("\ud800" * 10_000)) == 32  # a lone surrogate, as JSON allows
