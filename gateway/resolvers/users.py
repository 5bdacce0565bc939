"""The caller's account: who is signed in, and the mutations that sign up, in and out. The auth
mutations keep the browser's `session` cookie in step (gateway/accounts.py)."""

from __future__ import annotations

from typing import Annotated

import strawberry

from common.errors import Unauthenticated
from gateway.accounts import SignedIn
from gateway.context import Info
from gateway.rate_limits import client_address
from gateway.resolvers.shared import INPUT, MUTATION, user_errors_field
from gateway.session import device_token_of
from gateway.types.common import UserError
from gateway.types.user import User
from gateway.user_errors import expected_failures


@strawberry.input(description="A new account.")
class SignUpInput:
    email: str = strawberry.field(
        description="The address to sign in with; BAD_USER_INPUT when malformed, CONFLICT when "
        "registered."
    )
    password: str = strawberry.field(description="At least 8 characters (BAD_USER_INPUT).")


@strawberry.type(description="The account created, signed in.")
class SignUpPayload:
    user: User | None = strawberry.field(description="The new user; null when refused.")
    token: str | None = strawberry.field(
        description="A session token (also set as the `session` cookie); null when refused."
    )
    user_errors: list[UserError] = user_errors_field()


@strawberry.input(description="An account's credentials.")
class SignInInput:
    email: str = strawberry.field(description="The account's address.")
    password: str = strawberry.field(
        description="Its password; INVALID_CREDENTIALS when they do not match."
    )
    device_token: str | None = strawberry.field(
        default=None,
        description="The `deviceToken` an earlier signIn returned to this client, for clients "
        "that keep no cookies (a browser's `device` cookie does the same). A valid one of this "
        "account is not held up by other devices' failed attempts at it; any other value is "
        "ignored.",
    )


@strawberry.type(description="The user signed in.")
class SignInPayload:
    user: User | None = strawberry.field(description="The user; null when refused.")
    token: str | None = strawberry.field(
        description="A session token (also set as the `session` cookie); null when refused."
    )
    device_token: str | None = strawberry.field(
        default=None,
        description="Makes this client a device the account knows: give it as `deviceToken` "
        "at the next signIn (also set as the `device` cookie). Not a session token. Null when "
        "refused.",
    )
    user_errors: list[UserError] = user_errors_field()


@strawberry.type(description="The user signed out.")
class SignOutPayload:
    user: User | None = strawberry.field(description="The user whose session ended.")
    user_errors: list[UserError] = user_errors_field()


@strawberry.input(description="A new password for the caller's account.")
class ChangePasswordInput:
    current_password: str = strawberry.field(
        description="The password now; INVALID_CREDENTIALS when wrong."
    )
    new_password: str = strawberry.field(description="At least 8 characters (BAD_USER_INPUT).")


@strawberry.type(description="The password replaced; every earlier session ended.")
class ChangePasswordPayload:
    user: User | None = strawberry.field(description="The caller; null when refused.")
    token: str | None = strawberry.field(
        description="The caller's new session token (also set as the `session` cookie); every "
        "earlier one is refused from now on. Null when refused."
    )
    user_errors: list[UserError] = user_errors_field()


def _own(signed: SignedIn) -> User:
    return User.of(signed.user.id, own_email=signed.user.email, own_admin=signed.claims.is_admin)


@strawberry.type
class UserQuery:
    @strawberry.field(
        description="The signed-in caller (email included), or null without a valid token (no "
        "error)."
    )
    async def current_user(self, info: Info) -> User | None:
        claims = await info.context.user()
        return User.of(claims.sub, own_email=claims.email) if claims else None


@strawberry.type
class UserMutation:
    @strawberry.mutation(
        description="Creates an account and signs it in; also sets the `session` cookie. "
        "userErrors: BAD_USER_INPUT, CONFLICT (email registered). Top-level RATE_LIMITED after "
        "too many sign-ups.",
        directives=MUTATION,
    )
    async def sign_up(
        self, info: Info, input: Annotated[SignUpInput, INPUT]
    ) -> SignUpPayload | None:
        ctx = info.context
        # A registered email is CONFLICT on it (auth names no field for it).
        with expected_failures(subject="email") as outcome:
            signed = await ctx.accounts.sign_up(
                input.email,
                input.password,
                ctx.response,
                client_address=client_address(ctx.request),
            )
            return SignUpPayload(user=_own(signed), token=signed.token, user_errors=[])
        return SignUpPayload(user=None, token=None, user_errors=outcome.user_errors)

    @strawberry.mutation(
        description="Signs in; also sets the `session` and `device` cookies. userErrors: "
        "BAD_USER_INPUT, INVALID_CREDENTIALS. Top-level RATE_LIMITED after too many attempts "
        "from this address, at this account from unknown devices, or from this device.",
        directives=MUTATION,
    )
    async def sign_in(
        self, info: Info, input: Annotated[SignInInput, INPUT]
    ) -> SignInPayload | None:
        ctx = info.context
        with expected_failures(invalid_credentials="password") as outcome:
            signed = await ctx.accounts.sign_in(
                input.email,
                input.password,
                ctx.response,
                client_address=client_address(ctx.request),
                device_token=device_token_of(ctx.request, input.device_token),
            )
            return SignInPayload(
                user=_own(signed),
                token=signed.token,
                device_token=signed.device_token,
                user_errors=[],
            )
        return SignInPayload(user=None, token=None, user_errors=outcome.user_errors)

    @strawberry.mutation(
        description="Revokes the caller's token and clears the `session` cookie. No userErrors; "
        "top-level UNAUTHENTICATED without a valid session (a repeated signOut: take it as "
        "done).",
        directives=MUTATION,
    )
    async def sign_out(self, info: Info) -> SignOutPayload | None:
        ctx = info.context
        claims = await ctx.user()
        if not await ctx.accounts.sign_out(ctx.token, ctx.response):  # cookie cleared either way
            raise Unauthenticated("Sign in first")
        assert claims is not None  # a session was revoked: its claims were valid
        return SignOutPayload(user=User.of(claims.sub, own_email=claims.email), user_errors=[])

    @strawberry.mutation(
        description="Replaces the caller's password and signs out every session of the account, "
        "this one included: go on with the token returned (the `session` cookie is set to it). "
        "userErrors: BAD_USER_INPUT, INVALID_CREDENTIALS (current password), CONFLICT. Top-level "
        "UNAUTHENTICATED when signed out.",
        directives=MUTATION,
    )
    async def change_password(
        self, info: Info, input: Annotated[ChangePasswordInput, INPUT]
    ) -> ChangePasswordPayload | None:
        ctx = info.context
        await ctx.require_user()
        with expected_failures(invalid_credentials="currentPassword") as outcome:
            signed = await ctx.accounts.change_password(
                ctx.token, input.current_password, input.new_password, ctx.response
            )
            return ChangePasswordPayload(user=_own(signed), token=signed.token, user_errors=[])
        return ChangePasswordPayload(user=None, token=None, user_errors=outcome.user_errors)
