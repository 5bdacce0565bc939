"""Granting roles: an operator's command, run by `ticketing users grant-admin EMAIL` against
auth's database (no RPC: nobody holds a role before the first is granted, and the command
needs no one's token, only the database the auth pods reach)."""

from __future__ import annotations

from collections.abc import Callable

from common.errors import NotFound
from common.retries import retry_transient
from svc_auth.domain.model import User, normalise_email
from svc_auth.service_layer.unit_of_work import AuthUnitOfWork


@retry_transient()
async def grant_role(uow: Callable[[], AuthUnitOfWork], email: str, role: str) -> tuple[User, bool]:
    """Gives the user with this email `role`: (the user, True), or (the user, False) if they had
    it already. NotFound for an unknown email. It shows in the user's tokens from their next
    sign-in on (tokens issued before keep what they had until they expire)."""
    address = normalise_email(email)
    async with uow() as unit:
        user = await unit.users.get_by_email(address)
        if user is None:
            raise NotFound(f"No user has the email {address}", field="email")
        granted = user.grant(role)
        if granted:
            await unit.users.save(user)  # with its UserUpdated, through the outbox
            await unit.commit()
        return user, granted
