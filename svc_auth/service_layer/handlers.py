"""One method per command; each opens the unit of work, applies one domain change, commits."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Protocol

from common.clock import Clock
from common.errors import Conflict, InvalidInput, NotFound, Unauthenticated, Unavailable
from common.jwt import Claims, TokenIssuer
from common.retries import is_outage, retry_transient
from common.revocations import Revocation, SessionsEnded, TokenRevoked
from svc_auth.domain.device import Device
from svc_auth.domain.model import User, check_password, normalise_email
from svc_auth.service_layer.signin_throttle import SignInThrottle
from svc_auth.service_layer.unit_of_work import AuthUnitOfWork

INVALID_CREDENTIALS = "Invalid credentials"
# Ended sessions are remembered this much longer than a token lives: covers clock differences
# between auth replicas and the instant between a sign-in's last look at the user and its token.
SESSIONS_ENDED_MARGIN = timedelta(seconds=60)

log = logging.getLogger(__name__)


class PasswordHasher(Protocol):
    async def hash(self, password: str) -> str: ...

    async def verify(self, password: str, encoded: str) -> bool: ...

    def needs_rehash(self, encoded: str) -> bool:
        """The hash is of an older scheme or weaker parameters than new hashes get."""
        ...


class RevocationPublisher(Protocol):
    async def publish(self, revocations: Sequence[Revocation]) -> bool:
        """Writes committed revocations where the verifiers read them; False if that must wait
        (they are written later)."""
        ...


class DeviceTokens(Protocol):
    def issue(self, device: Device) -> str: ...

    def read(self, token: str | None) -> Device | None:
        """The device a valid device token names; None for no token or any other string."""
        ...


@dataclass(frozen=True)
class SignUp:
    email: str
    password: str


@dataclass(frozen=True)
class SignIn:
    email: str
    password: str
    # The device token an earlier successful sign-in gave this client, if any.
    device_token: str | None = None


@dataclass(frozen=True)
class ChangePassword:
    user_id: str
    current_password: str
    new_password: str


@dataclass(frozen=True)
class Session:
    user: User
    token: str
    claims: Claims
    # A sign-in's: the token that makes the client's device known to the account next time.
    device_token: str | None = None


class AuthHandlers:
    def __init__(
        self,
        uow: Callable[[], AuthUnitOfWork],
        hasher: PasswordHasher,
        issuer: TokenIssuer,
        revocations: RevocationPublisher,
        clock: Clock,
        throttle: SignInThrottle,
        devices: DeviceTokens,
        new_id: Callable[[], str] = lambda: str(uuid.uuid4()),
    ) -> None:
        self.uow = uow
        self.throttle = throttle
        self.devices = devices
        self.hasher = hasher
        self.issuer = issuer
        self.revocations = revocations
        self.clock = clock
        self.new_id = new_id
        self._decoy_hash: str | None = None

    def _session(self, user: User) -> Session:
        token, claims = self.issuer.issue(user.id, user.email, user.session_generation, user.roles)
        return Session(user, token, claims)

    async def sign_up(self, cmd: SignUp) -> Session:
        email = normalise_email(cmd.email)
        password = check_password(cmd.password)
        password_hash = await self.hasher.hash(password)
        user = await self._register(email, password_hash)
        return self._session(user)

    @retry_transient()
    async def _register(self, email: str, password_hash: str) -> User:
        async with self.uow() as uow:
            user = User.register(self.new_id(), email, password_hash, self.clock.now())
            await uow.users.add(user)  # AlreadyExists("Email in use") on a taken email
            await uow.commit()
            return user

    async def sign_in(self, cmd: SignIn) -> Session:
        # Any malformed input is just as "invalid" as a wrong password: no hint of which.
        try:
            email = normalise_email(cmd.email)
        except InvalidInput:
            raise Unauthenticated(INVALID_CREDENTIALS) from None
        # Throttled before any hashing (svc_auth/service_layer/signin_throttle.py): a refused
        # attempt costs a signature check at most, and a look-up when it shows a device token.
        claimed = self.devices.read(cmd.device_token)
        if claimed is None:
            await self.throttle.before_attempt(email, None)
            user = await self._user_by_email(email)
            known = None
        else:
            user = await self._user_by_email(email)
            known = claimed if user is not None and claimed.user_id == user.id else None
            await self.throttle.before_attempt(email, known)
        user = await self._check_password(user, cmd.password or "")
        await self.throttle.succeeded(known)
        # The device's token renewed with the same id, or a new device.
        device = known or Device(user.id, str(uuid.uuid4()))
        return replace(self._session(user), device_token=self.devices.issue(device))

    @retry_transient()  # a read: safe to run again on a fresh connection
    async def _user_by_email(self, email: str) -> User | None:
        async with self.uow() as uow:
            return await uow.users.get_by_email(email)

    async def _check_password(self, user: User | None, password: str) -> User:
        if user is None:
            # Hash anyway, so an unknown email takes as long as a wrong password.
            if self._decoy_hash is None:
                self._decoy_hash = await self.hasher.hash("decoy-password")
            await self.hasher.verify(password, self._decoy_hash)
            raise Unauthenticated(INVALID_CREDENTIALS)
        if not await self.hasher.verify(password, user.password_hash):
            raise Unauthenticated(INVALID_CREDENTIALS)
        # The password may have been changed while it was being checked: a token issued now
        # with the old generation would be refused anyway, but not once that change is
        # forgotten (SESSIONS_ENDED_MARGIN after the last token it refuses): look again.
        current = await self._user_by_id(user.id)
        if current is None or current.session_generation != user.session_generation:
            raise Unauthenticated(INVALID_CREDENTIALS)
        if self.hasher.needs_rehash(user.password_hash):
            await self._upgrade_hash(user, password)
        return user

    @retry_transient()  # a read: safe to run again on a fresh connection
    async def _user_by_id(self, user_id: str) -> User | None:
        async with self.uow() as uow:
            return await uow.users.get(user_id)

    async def _upgrade_hash(self, user: User, password: str) -> None:
        """Replaces a hash of an older scheme (scrypt) with a current one, now that the password
        is known. Best effort: the sign-in succeeds whatever happens here (the next one tries
        again), and a password changed meanwhile is left alone."""
        try:
            new_hash = await self.hasher.hash(password)
            async with self.uow() as uow:
                await uow.users.replace_password_hash(user.id, user.password_hash, new_hash)
                await uow.commit()
        except Unavailable as exc:  # hashing at capacity
            log.info("password hash not upgraded: %s", exc.message, extra={"user": user.id})
        except Exception as exc:
            if not is_outage(exc):
                raise
            log.warning("password hash not upgraded", extra={"user": user.id, "error": repr(exc)})

    async def sign_out(self, claims: Claims) -> None:
        """Durable first (auth's database), then where the verifiers look (Redis)."""
        revoked = TokenRevoked(claims.jti, claims.user_id, claims.exp)
        await self._record(revoked)
        if not await self.revocations.publish([revoked]):
            # Recorded: it reaches Redis once Redis answers. Saying so lets the client retry
            # rather than believe the token is refused already.
            raise Unavailable("Cannot sign out right now, try again shortly")

    @retry_transient()
    async def _record(self, revocation: Revocation) -> None:
        async with self.uow() as uow:
            await uow.revocations.record(revocation)
            await uow.commit()

    @retry_transient()  # a read: safe to run again on a fresh connection
    async def get_user(self, caller: str, user_id: str) -> User:
        """Callers see their own account only; anyone else's is as good as absent."""
        if user_id != caller:
            raise NotFound("User not found", field="id")
        async with self.uow() as uow:
            user = await uow.users.get(user_id)
        if user is None:
            raise NotFound("User not found", field="id")
        return user

    async def change_password(self, cmd: ChangePassword) -> Session:
        """Replaces the password and ends every session of the user, the caller's included; the
        caller carries on with the new session returned."""
        new_password = check_password(cmd.new_password, field="newPassword")
        async with self.uow() as uow:
            user = await uow.users.get(cmd.user_id)
        if user is None:
            raise NotFound("User not found")
        if not await self.hasher.verify(cmd.current_password or "", user.password_hash):
            raise InvalidInput("Current password is incorrect", field="currentPassword")
        new_hash = await self.hasher.hash(new_password)
        user, ended = await self._store_password(cmd.user_id, user.version, new_hash)
        # The password is changed whatever Redis says: if it cannot take the revocation now,
        # the sync loop writes it as soon as it can (the caller could not retry: the current
        # password is no longer the one they know).
        await self.revocations.publish([ended])
        return self._session(user)

    @retry_transient()
    async def _store_password(
        self, user_id: str, seen_version: int, new_hash: str
    ) -> tuple[User, SessionsEnded]:
        async with self.uow() as uow:
            user = await uow.users.get(user_id)
            if user is None:
                raise NotFound("User not found")
            if user.version != seen_version:  # changed since the current password was checked
                raise Conflict("The password was changed meanwhile; sign in again")
            user.change_password(new_hash)
            last_expiry = self.clock.now() + self.issuer.ttl + SESSIONS_ENDED_MARGIN
            ended = SessionsEnded(user.id, user.session_generation, int(last_expiry.timestamp()))
            await uow.users.save(user)
            await uow.revocations.record(ended)
            await uow.commit()
            return user, ended
