from __future__ import annotations

import strawberry

from common.errors import Unauthenticated
from gateway.context import Info
from gateway.rate_limits import client_address
from gateway.types.user import AuthPayload, User


@strawberry.type
class UserQuery:
    @strawberry.field(description="The signed-in user, or null without a valid token.")
    async def current_user(self, info: Info) -> User | None:
        claims = await info.context.user()
        return User(id=strawberry.ID(claims.sub), email=claims.email) if claims else None


@strawberry.type
class UserMutation:
    @strawberry.mutation(description="Creates an account; also sets the `session` cookie.")
    async def signup(self, info: Info, email: str, password: str) -> AuthPayload:
        ctx = info.context
        signed = await ctx.accounts.sign_up(
            email, password, ctx.response, client_address=client_address(ctx.request)
        )
        return AuthPayload(token=signed.token, user=User.from_proto(signed.user))

    @strawberry.mutation(description="Signs in; also sets the `session` cookie.")
    async def signin(self, info: Info, email: str, password: str) -> AuthPayload:
        ctx = info.context
        signed = await ctx.accounts.sign_in(
            email, password, ctx.response, client_address=client_address(ctx.request)
        )
        return AuthPayload(token=signed.token, user=User.from_proto(signed.user))

    @strawberry.mutation(description="Revokes the caller's token and clears the cookie.")
    async def signout(self, info: Info) -> bool:
        ctx = info.context
        if not await ctx.accounts.sign_out(ctx.token, ctx.response):  # cookie cleared either way
            raise Unauthenticated("Sign in first")
        return True

    @strawberry.mutation(
        description=(
            "Replaces the caller's password and signs out every session of the account, this "
            "one included: go on with the token returned (the `session` cookie is set to it)."
        )
    )
    async def change_password(
        self, info: Info, current_password: str, new_password: str
    ) -> AuthPayload:
        ctx = info.context
        await ctx.require_user()
        signed = await ctx.accounts.change_password(
            ctx.token, current_password, new_password, ctx.response
        )
        return AuthPayload(token=signed.token, user=User.from_proto(signed.user))
