from __future__ import annotations

import itertools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta

import jwt as pyjwt
import pytest

from common.clock import FrozenClock
from common.errors import (
    AlreadyExists,
    Conflict,
    InvalidInput,
    NotFound,
    Overloaded,
    Unauthenticated,
    Unavailable,
)
from common.jwt import (
    BINDING_CLAIMS,
    DEFAULT_BINDING,
    REQUIRED_CLAIMS,
    TokenIssuer,
    TokenVerifier,
    generate_key_pair,
)
from common.revocations import SessionsEnded, TokenRevoked
from svc_auth.adapters.device_tokens import DeviceTokens
from svc_auth.domain.model import User
from svc_auth.service_layer.handlers import (
    INVALID_CREDENTIALS,
    SESSIONS_ENDED_MARGIN,
    AuthHandlers,
    ChangePassword,
    SignIn,
    SignUp,
)
from svc_auth.service_layer.roles import grant_role
from svc_auth.service_layer.signin_throttle import SignInThrottle
from tests.unit.fakes import (
    FakeAuthUnitOfWork,
    FakeCounter,
    FakeDatabase,
    FakeHasher,
    FakeRevocations,
)
from ticketing.events.v1 import users_pb2

TTL = 3600
DEVICE_TTL = 180 * 24 * 3600
PASSWORD = "correct horse"
NEW_PASSWORD = "battery staple"

# One key pair for the module: generating Ed25519 keys is cheap, but there is no need to repeat it.
PRIVATE_KEY, PUBLIC_KEY = generate_key_pair()


@dataclass
class World:
    handlers: AuthHandlers
    db: FakeDatabase
    hasher: FakeHasher
    revocations: FakeRevocations
    verifier: TokenVerifier
    clock: FrozenClock
    counter: FakeCounter
    devices: DeviceTokens


def make_world(
    hasher: FakeHasher | None = None, *, account_limit: int = 0, device_limit: int = 0
) -> World:
    """Sign-in throttling off unless a limit is given (tests/unit/test_signin_throttle.py)."""
    db = FakeDatabase()
    hasher = hasher or FakeHasher()
    revocations = FakeRevocations()
    clock = FrozenClock()
    ids = (f"user-{n}" for n in itertools.count(1))
    counter = FakeCounter()
    devices = DeviceTokens(PRIVATE_KEY, DEVICE_TTL, clock)
    throttle = SignInThrottle(
        counter,
        account_limit=account_limit,
        account_window_seconds=900,
        device_limit=device_limit,
        device_window_seconds=900,
    )
    handlers = AuthHandlers(
        uow=lambda: FakeAuthUnitOfWork(db),
        hasher=hasher,
        issuer=TokenIssuer(PRIVATE_KEY, TTL, clock),
        revocations=revocations,
        clock=clock,
        throttle=throttle,
        devices=devices,
        new_id=lambda: next(ids),
    )
    verifier = TokenVerifier(PUBLIC_KEY, revocations, clock)
    return World(handlers, db, hasher, revocations, verifier, clock, counter, devices)


@pytest.fixture
def world() -> World:
    return make_world()


# --- the fakes keep the adapters' contracts ------------------------------------------------------


async def test_fake_unit_of_work_discards_what_is_not_committed() -> None:
    db = FakeDatabase()
    user = User.register("u-1", "a@example.com", "h", FrozenClock().now())
    async with FakeAuthUnitOfWork(db) as uow:
        await uow.users.add(user)
        assert await uow.users.get("u-1") is not None  # visible inside its own transaction
    assert db.users == {}
    assert db.published == []
    async with FakeAuthUnitOfWork(db) as uow:
        assert await uow.users.get("u-1") is None


async def test_fake_repository_checks_the_version_on_save() -> None:
    db = FakeDatabase()
    async with FakeAuthUnitOfWork(db) as uow:
        await uow.users.add(User.register("u-1", "a@example.com", "h", FrozenClock().now()))
        await uow.commit()
    async with FakeAuthUnitOfWork(db) as uow:
        stale = await uow.users.get("u-1")
        assert stale is not None
        stale.version += 2  # not exactly one past the stored version
        with pytest.raises(Conflict):
            await uow.users.save(stale)


# --- sign_up ------------------------------------------------------------------------------------


async def test_sign_up_returns_a_session_whose_token_verifies(world: World) -> None:
    session = await world.handlers.sign_up(SignUp("alice@example.com", PASSWORD))

    claims = await world.verifier.verify(session.token)

    assert claims == session.claims
    assert claims.sub == session.user.id == "user-1"
    assert claims.email == "alice@example.com"


async def test_sign_up_token_carries_every_claim_and_lives_for_the_ttl(world: World) -> None:
    session = await world.handlers.sign_up(SignUp("alice@example.com", PASSWORD))

    header = pyjwt.get_unverified_header(session.token)
    payload = pyjwt.decode(session.token, options={"verify_signature": False})
    assert header["alg"] == "EdDSA"
    assert set(payload) == {*REQUIRED_CLAIMS, *BINDING_CLAIMS, "gen"}
    assert (payload["iss"], payload["aud"]) == (DEFAULT_BINDING.issuer, DEFAULT_BINDING.audience)
    assert header["kid"] in world.verifier.key_ids
    assert payload["gen"] == 0  # a new account's session generation
    assert payload["sub"] == session.user.id
    assert payload["email"] == "alice@example.com"
    assert payload["iat"] == int(world.clock.now().timestamp())
    assert payload["exp"] - payload["iat"] == TTL
    assert isinstance(payload["jti"], str) and payload["jti"]


async def test_each_session_has_its_own_jti(world: World) -> None:
    await world.handlers.sign_up(SignUp("alice@example.com", PASSWORD))
    first = await world.handlers.sign_in(SignIn("alice@example.com", PASSWORD))
    second = await world.handlers.sign_in(SignIn("alice@example.com", PASSWORD))
    assert first.claims.jti != second.claims.jti


async def test_sign_up_normalises_the_email(world: World) -> None:
    session = await world.handlers.sign_up(SignUp("  Alice@Example.COM ", PASSWORD))

    assert session.user.email == "alice@example.com"
    assert session.claims.email == "alice@example.com"
    assert world.db.users["user-1"].email == "alice@example.com"


async def test_sign_up_stores_the_user_and_publishes_user_created_once(world: World) -> None:
    session = await world.handlers.sign_up(SignUp("alice@example.com", PASSWORD))

    stored = world.db.users[session.user.id]
    assert stored.email == "alice@example.com"
    assert stored.version == 0
    assert stored.created_at == world.clock.now()
    assert world.db.published == [
        users_pb2.UserCreated(id=session.user.id, email="alice@example.com")
    ]
    assert world.db.commits == 1


async def test_sign_up_never_stores_the_password(world: World) -> None:
    session = await world.handlers.sign_up(SignUp("alice@example.com", PASSWORD))

    stored = world.db.users[session.user.id]
    assert stored.password_hash != PASSWORD
    assert PASSWORD != session.user.password_hash
    assert await world.hasher.verify(PASSWORD, stored.password_hash)


@pytest.mark.parametrize(
    "second_email", ["alice@example.com", "ALICE@example.com", "  Alice@Example.Com  "]
)
async def test_sign_up_with_a_taken_email_is_refused(world: World, second_email: str) -> None:
    await world.handlers.sign_up(SignUp("alice@example.com", PASSWORD))

    with pytest.raises(AlreadyExists) as caught:
        await world.handlers.sign_up(SignUp(second_email, "another password"))

    assert caught.value.message == "Email in use"
    assert caught.value.field == "email"
    assert list(world.db.users) == ["user-1"]
    assert len(world.db.published) == 1  # only the first sign-up's UserCreated
    # The first account still signs in with its own password.
    await world.handlers.sign_in(SignIn("alice@example.com", PASSWORD))


@pytest.mark.parametrize(
    ("email", "password", "field"),
    [
        ("", PASSWORD, "email"),
        ("not-an-email", PASSWORD, "email"),
        ("alice@example", PASSWORD, "email"),
        ("alice@example.com", "short", "password"),
        ("alice@example.com", "x" * 129, "password"),
        ("alice@example.com", "", "password"),
    ],
)
async def test_sign_up_with_invalid_input_changes_nothing(
    world: World, email: str, password: str, field: str
) -> None:
    with pytest.raises(InvalidInput) as caught:
        await world.handlers.sign_up(SignUp(email, password))

    assert caught.value.field == field
    assert world.db.users == {}
    assert world.db.published == []
    assert world.db.commits == 0
    assert world.hasher.hash_calls == 0  # refused before any expensive hashing


# --- sign_in ------------------------------------------------------------------------------------


async def test_sign_in_returns_a_verifiable_session(world: World) -> None:
    signed_up = await world.handlers.sign_up(SignUp("alice@example.com", PASSWORD))

    session = await world.handlers.sign_in(SignIn(" ALICE@example.com ", PASSWORD))

    assert session.user.id == signed_up.user.id
    claims = await world.verifier.verify(session.token)
    assert claims.sub == signed_up.user.id
    assert claims.email == "alice@example.com"


async def test_sign_in_publishes_nothing(world: World) -> None:
    await world.handlers.sign_up(SignUp("alice@example.com", PASSWORD))
    published = list(world.db.published)

    await world.handlers.sign_in(SignIn("alice@example.com", PASSWORD))

    assert world.db.published == published


async def test_wrong_password_and_unknown_email_look_the_same(world: World) -> None:
    await world.handlers.sign_up(SignUp("alice@example.com", PASSWORD))

    with pytest.raises(Unauthenticated) as wrong_password:
        await world.handlers.sign_in(SignIn("alice@example.com", "wrong password"))
    with pytest.raises(Unauthenticated) as unknown_email:
        await world.handlers.sign_in(SignIn("nobody@example.com", PASSWORD))

    assert wrong_password.value.message == unknown_email.value.message == INVALID_CREDENTIALS
    assert INVALID_CREDENTIALS == "Invalid credentials"
    assert wrong_password.value.field is None and unknown_email.value.field is None
    assert wrong_password.value == unknown_email.value


async def test_unknown_email_still_verifies_a_hash(world: World) -> None:
    # An unknown email must cost a password check too, so timing does not reveal accounts.
    with pytest.raises(Unauthenticated):
        await world.handlers.sign_in(SignIn("nobody@example.com", PASSWORD))
    assert world.hasher.verify_calls == 1


# --- sign_in upgrades a hash of an older scheme -------------------------------------------------


async def legacy_user(world: World) -> str:
    """A user whose password hash is of the older scheme (scrypt, before argon2id)."""
    session = await world.handlers.sign_up(SignUp("alice@example.com", PASSWORD))
    world.db.users[session.user.id].password_hash = FakeHasher.LEGACY_PREFIX + PASSWORD
    world.db.published.clear()
    return session.user.id


async def test_sign_in_replaces_a_legacy_hash_with_a_current_one(world: World) -> None:
    user_id = await legacy_user(world)

    await world.handlers.sign_in(SignIn("alice@example.com", PASSWORD))

    stored = world.db.users[user_id]
    assert stored.password_hash == FakeHasher.PREFIX + PASSWORD
    # The same password in a stronger hash: no new version, no event, nothing for anyone else.
    assert stored.version == 0
    assert world.db.published == []
    await world.handlers.sign_in(SignIn("alice@example.com", PASSWORD))  # still the password


async def test_a_failed_sign_in_leaves_a_legacy_hash_alone(world: World) -> None:
    user_id = await legacy_user(world)
    hashes = world.hasher.hash_calls

    with pytest.raises(Unauthenticated):
        await world.handlers.sign_in(SignIn("alice@example.com", "wrong password"))

    assert world.db.users[user_id].password_hash == FakeHasher.LEGACY_PREFIX + PASSWORD
    assert world.hasher.hash_calls == hashes


async def test_a_current_hash_is_not_hashed_again(world: World) -> None:
    await world.handlers.sign_up(SignUp("alice@example.com", PASSWORD))
    hashes = world.hasher.hash_calls

    await world.handlers.sign_in(SignIn("alice@example.com", PASSWORD))

    assert world.hasher.hash_calls == hashes


class BusyHasher(FakeHasher):
    """Verifies, but has no slot left for a new hash."""

    async def hash(self, password: str) -> str:
        if self.verify_calls:
            raise Overloaded("Too many sign-ins at once, try again shortly")
        return await super().hash(password)


async def test_a_sign_in_succeeds_when_the_upgrade_cannot_be_done_now() -> None:
    world = make_world(BusyHasher())
    user_id = await legacy_user(world)

    session = await world.handlers.sign_in(SignIn("alice@example.com", PASSWORD))

    assert session.user.id == user_id
    assert world.db.users[user_id].password_hash == FakeHasher.LEGACY_PREFIX + PASSWORD


class PasswordChangedMeanwhile(FakeHasher):
    """While the upgraded hash is computed, the user changes the password elsewhere."""

    db: FakeDatabase | None = None
    user_id: str | None = None

    async def hash(self, password: str) -> str:
        if self.db is not None and self.user_id is not None and self.verify_calls:
            self.db.users[self.user_id].password_hash = self.PREFIX + "changed meanwhile"
            self.db = None
        return await super().hash(password)


async def test_an_upgrade_never_overwrites_a_password_changed_meanwhile() -> None:
    hasher = PasswordChangedMeanwhile()
    world = make_world(hasher)
    user_id = await legacy_user(world)
    hasher.db, hasher.user_id = world.db, user_id

    await world.handlers.sign_in(SignIn("alice@example.com", PASSWORD))

    assert world.db.users[user_id].password_hash == FakeHasher.PREFIX + "changed meanwhile"


@pytest.mark.parametrize("email", ["", "not-an-email", "a b@example.com"])
async def test_sign_in_with_a_malformed_email_is_invalid_credentials(
    world: World, email: str
) -> None:
    with pytest.raises(Unauthenticated) as caught:
        await world.handlers.sign_in(SignIn(email, PASSWORD))
    assert caught.value == Unauthenticated(INVALID_CREDENTIALS)


async def test_sign_in_with_an_empty_password_is_invalid_credentials(world: World) -> None:
    await world.handlers.sign_up(SignUp("alice@example.com", PASSWORD))
    with pytest.raises(Unauthenticated) as caught:
        await world.handlers.sign_in(SignIn("alice@example.com", ""))
    assert caught.value.message == INVALID_CREDENTIALS


# --- sign_out -----------------------------------------------------------------------------------


async def test_sign_out_revokes_the_token(world: World) -> None:
    session = await world.handlers.sign_up(SignUp("alice@example.com", PASSWORD))
    await world.verifier.verify(session.token)

    await world.handlers.sign_out(session.claims)

    assert session.claims.jti in world.revocations.revoked
    assert world.revocations.expires_at[session.claims.jti] == session.claims.exp
    with pytest.raises(Unauthenticated) as caught:
        await world.verifier.verify(session.token)
    assert caught.value.message == "Token revoked"
    # Recorded in auth's database too, whence Redis is loaded again should it lose it.
    assert world.db.revocations == [
        TokenRevoked(session.claims.jti, session.user.id, session.claims.exp)
    ]


async def test_sign_out_while_redis_cannot_take_it_is_recorded_and_unavailable(
    world: World,
) -> None:
    session = await world.handlers.sign_up(SignUp("alice@example.com", PASSWORD))
    world.revocations.reachable = False

    with pytest.raises(Unavailable):
        await world.handlers.sign_out(session.claims)

    # The sync loop writes it to Redis when it can; the client is told to try again meanwhile.
    assert world.db.revocations == [
        TokenRevoked(session.claims.jti, session.user.id, session.claims.exp)
    ]


async def test_sign_out_revokes_only_that_session(world: World) -> None:
    first = await world.handlers.sign_up(SignUp("alice@example.com", PASSWORD))
    second = await world.handlers.sign_in(SignIn("alice@example.com", PASSWORD))

    await world.handlers.sign_out(first.claims)

    with pytest.raises(Unauthenticated):
        await world.verifier.verify(first.token)
    assert (await world.verifier.verify(second.token)).jti == second.claims.jti


# --- get_user -----------------------------------------------------------------------------------


async def test_get_user(world: World) -> None:
    session = await world.handlers.sign_up(SignUp("alice@example.com", PASSWORD))
    bob = await world.handlers.sign_up(SignUp("bob@example.com", PASSWORD))
    user = await world.handlers.get_user(session.user.id, session.user.id)
    assert (user.id, user.email) == (session.user.id, "alice@example.com")
    with pytest.raises(NotFound):
        await world.handlers.get_user("missing", "missing")
    # Another user's account is not shown, not even whether it exists.
    with pytest.raises(NotFound) as other:
        await world.handlers.get_user(session.user.id, bob.user.id)
    with pytest.raises(NotFound) as unknown:
        await world.handlers.get_user(session.user.id, "missing")
    assert other.value == unknown.value


# --- change_password ----------------------------------------------------------------------------


async def test_change_password_with_a_wrong_current_password(world: World) -> None:
    session = await world.handlers.sign_up(SignUp("alice@example.com", PASSWORD))

    with pytest.raises(InvalidInput) as caught:
        await world.handlers.change_password(
            ChangePassword(session.user.id, "not the password", NEW_PASSWORD)
        )

    assert caught.value.field == "currentPassword"
    assert world.db.users[session.user.id].version == 0
    assert len(world.db.published) == 1
    await world.handlers.sign_in(SignIn("alice@example.com", PASSWORD))


@pytest.mark.parametrize("new_password", ["short", "", "x" * 129])
async def test_change_password_to_an_invalid_one(world: World, new_password: str) -> None:
    session = await world.handlers.sign_up(SignUp("alice@example.com", PASSWORD))

    with pytest.raises(InvalidInput) as caught:
        await world.handlers.change_password(
            ChangePassword(session.user.id, PASSWORD, new_password)
        )

    assert caught.value.field == "newPassword"
    assert world.db.users[session.user.id].version == 0
    assert len(world.db.published) == 1


async def test_change_password_of_an_unknown_user(world: World) -> None:
    with pytest.raises(NotFound):
        await world.handlers.change_password(ChangePassword("missing", PASSWORD, NEW_PASSWORD))
    assert world.db.published == []


async def test_change_password_replaces_the_password(world: World) -> None:
    session = await world.handlers.sign_up(SignUp("alice@example.com", PASSWORD))

    changed = await world.handlers.change_password(
        ChangePassword(session.user.id, PASSWORD, NEW_PASSWORD)
    )

    assert changed.user.version == 1
    stored = world.db.users[session.user.id]
    assert stored.version == 1
    assert stored.password_hash not in (PASSWORD, NEW_PASSWORD)
    assert world.db.published == [
        users_pb2.UserCreated(id=session.user.id, email="alice@example.com"),
        users_pb2.UserUpdated(id=session.user.id, email="alice@example.com", version=1),
    ]
    with pytest.raises(Unauthenticated):
        await world.handlers.sign_in(SignIn("alice@example.com", PASSWORD))
    signed_in = await world.handlers.sign_in(SignIn("alice@example.com", NEW_PASSWORD))
    assert signed_in.user.id == session.user.id


async def test_change_password_twice_publishes_successive_versions(world: World) -> None:
    session = await world.handlers.sign_up(SignUp("alice@example.com", PASSWORD))
    uid = session.user.id

    await world.handlers.change_password(ChangePassword(uid, PASSWORD, NEW_PASSWORD))
    await world.handlers.change_password(ChangePassword(uid, NEW_PASSWORD, "third password"))

    updates = [e for e in world.db.published if isinstance(e, users_pb2.UserUpdated)]
    assert [e.version for e in updates] == [1, 2]
    assert world.db.users[uid].version == 2


class RacingHasher(FakeHasher):
    """Changes the stored password while change_password is hashing the new one."""

    def __init__(self) -> None:
        super().__init__()
        self.db: FakeDatabase | None = None
        self.user_id: str | None = None

    async def hash(self, password: str) -> str:
        if self.db is not None and self.user_id is not None:
            async with FakeAuthUnitOfWork(self.db) as uow:
                user = await uow.users.get(self.user_id)
                assert user is not None
                user.change_password(self.PREFIX + "changed meanwhile")
                await uow.users.save(user)
                await uow.commit()
            self.db = None
        return await super().hash(password)


async def test_change_password_refuses_when_changed_meanwhile() -> None:
    hasher = RacingHasher()
    world = make_world(hasher)
    session = await world.handlers.sign_up(SignUp("alice@example.com", PASSWORD))
    hasher.db, hasher.user_id = world.db, session.user.id

    with pytest.raises(Conflict):
        await world.handlers.change_password(
            ChangePassword(session.user.id, PASSWORD, NEW_PASSWORD)
        )

    stored = world.db.users[session.user.id]
    assert stored.version == 1  # only the concurrent change
    assert stored.password_hash == FakeHasher.PREFIX + "changed meanwhile"
    updates = [e for e in world.db.published if isinstance(e, users_pb2.UserUpdated)]
    assert [e.version for e in updates] == [1]


# --- changing the password ends every session ---------------------------------------------------


async def test_change_password_ends_every_earlier_session_and_returns_a_new_one(
    world: World,
) -> None:
    first = await world.handlers.sign_up(SignUp("alice@example.com", PASSWORD))
    other = await world.handlers.sign_in(SignIn("alice@example.com", PASSWORD))
    bob = await world.handlers.sign_up(SignUp("bob@example.com", PASSWORD))

    # The same second as the sign-ins (the clock is frozen): `iat` alone could not tell them apart.
    changed = await world.handlers.change_password(
        ChangePassword(first.user.id, PASSWORD, NEW_PASSWORD)
    )

    for earlier in (first, other):
        with pytest.raises(Unauthenticated) as caught:
            await world.verifier.verify(earlier.token)
        assert caught.value.message == "Token revoked"
    assert changed.claims.iat == first.claims.iat
    assert (await world.verifier.verify(changed.token)).sub == first.user.id
    assert (await world.verifier.verify(bob.token)).sub == bob.user.id
    later = await world.handlers.sign_in(SignIn("alice@example.com", NEW_PASSWORD))
    assert (await world.verifier.verify(later.token)).gen == 1
    assert world.db.revocations == [
        SessionsEnded(
            first.user.id,
            1,
            int((world.clock.now() + timedelta(seconds=TTL) + SESSIONS_ENDED_MARGIN).timestamp()),
        )
    ]


async def test_change_password_while_redis_cannot_take_it_still_changes_it(world: World) -> None:
    session = await world.handlers.sign_up(SignUp("alice@example.com", PASSWORD))
    world.revocations.reachable = False

    changed = await world.handlers.change_password(
        ChangePassword(session.user.id, PASSWORD, NEW_PASSWORD)
    )

    # Done and recorded: the sync loop writes the revocation to Redis as soon as it answers.
    assert changed.user.version == 1
    assert [type(r) for r in world.db.revocations] == [SessionsEnded]
    await world.handlers.sign_in(SignIn("alice@example.com", NEW_PASSWORD))


class ChangingWhileVerifying(FakeHasher):
    """The password is changed (by another request) while a sign-in checks the old one."""

    def __init__(self) -> None:
        super().__init__()
        self.change: Callable[[], Awaitable[object]] | None = None

    async def verify(self, password: str, encoded: str) -> bool:
        matches = await super().verify(password, encoded)
        if self.change is not None:
            change, self.change = self.change, None
            await change()
        return matches


async def test_a_sign_in_that_checked_the_old_password_during_a_change_gets_no_token() -> None:
    hasher = ChangingWhileVerifying()
    world = make_world(hasher)
    session = await world.handlers.sign_up(SignUp("alice@example.com", PASSWORD))
    hasher.change = lambda: world.handlers.change_password(
        ChangePassword(session.user.id, PASSWORD, NEW_PASSWORD)
    )

    with pytest.raises(Unauthenticated) as caught:
        await world.handlers.sign_in(SignIn("alice@example.com", PASSWORD))

    assert caught.value.message == INVALID_CREDENTIALS
    assert world.db.users[session.user.id].version == 1


# --- roles ---------------------------------------------------------------------------------------


async def test_a_granted_role_is_in_the_tokens_of_the_next_sign_in(world: World) -> None:
    before = await world.handlers.sign_up(SignUp("Ann@Example.com", PASSWORD))
    assert before.claims.roles == ()

    user, granted = await grant_role(
        lambda: FakeAuthUnitOfWork(world.db), " ANN@example.com ", "admin"
    )

    assert granted and user.roles == ("admin",) and user.version == 1
    assert world.db.users[user.id].roles == ("admin",)  # committed
    assert isinstance(world.db.published[-1], users_pb2.UserUpdated)
    # The session opened before the grant is unchanged; the next one is an admin's.
    assert (await world.verifier.verify(before.token)).roles == ()
    after = await world.handlers.sign_in(SignIn("ann@example.com", PASSWORD))
    assert (await world.verifier.verify(after.token)).is_admin


async def test_granting_a_role_twice_changes_nothing(world: World) -> None:
    await world.handlers.sign_up(SignUp("ann@example.com", PASSWORD))
    uow = lambda: FakeAuthUnitOfWork(world.db)  # noqa: E731
    await grant_role(uow, "ann@example.com", "admin")
    events = len(world.db.published)

    user, granted = await grant_role(uow, "ann@example.com", "admin")

    assert not granted and user.roles == ("admin",) and user.version == 1
    assert len(world.db.published) == events


async def test_granting_to_an_unknown_email_or_an_unknown_role_is_refused(world: World) -> None:
    await world.handlers.sign_up(SignUp("ann@example.com", PASSWORD))
    uow = lambda: FakeAuthUnitOfWork(world.db)  # noqa: E731
    with pytest.raises(NotFound, match=r"No user has the email bob@example\.com"):
        await grant_role(uow, "bob@example.com", "admin")
    with pytest.raises(InvalidInput, match="Email must be valid"):
        await grant_role(uow, "not-an-email", "admin")
    with pytest.raises(InvalidInput, match="Unknown role 'root'"):
        await grant_role(uow, "ann@example.com", "root")
    assert world.db.users["user-1"].roles == ()
