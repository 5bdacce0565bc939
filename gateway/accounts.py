"""Account operations shared by the GraphQL resolvers and the REST routes: call auth, then keep
the browser's `session` cookie in step with the outcome."""

from __future__ import annotations

from dataclasses import dataclass, replace

from starlette.responses import Response

from common.errors import Unauthenticated
from common.jwt import Claims, TokenVerifier
from gateway.access import note_user
from gateway.clients import ServiceClients
from gateway.rate_limits import AccountLimits
from gateway.session import Cookies, claims_of
from ticketing.auth.v1 import auth_pb2


@dataclass(frozen=True)
class SignedIn:
    user: auth_pb2.User
    token: str
    claims: Claims
    device_token: str | None = None  # a sign-in's (also set as the `device` cookie)


class Accounts:
    def __init__(
        self,
        clients: ServiceClients,
        verifier: TokenVerifier,
        cookies: Cookies,
        limits: AccountLimits,
    ) -> None:
        self.clients = clients
        self.verifier = verifier
        self.cookies = cookies
        self.limits = limits

    def _signed_in(
        self,
        reply: auth_pb2.SignUpResponse | auth_pb2.SignInResponse | auth_pb2.ChangePasswordResponse,
        response: Response,
    ) -> SignedIn:
        claims = self.verifier.decode(reply.token)
        note_user(claims.sub)
        self.cookies.set(response, reply.token, claims)
        return SignedIn(reply.user, reply.token, claims)

    async def sign_up(
        self, email: str, password: str, response: Response, *, client_address: str
    ) -> SignedIn:
        await self.limits.before_sign_up(client_address)  # RateLimited: HTTP 429
        request = auth_pb2.SignUpRequest(email=email, password=password)
        return self._signed_in(await self.clients.call(self.clients.auth.SignUp, request), response)

    async def sign_in(
        self,
        email: str,
        password: str,
        response: Response,
        *,
        client_address: str,
        device_token: str | None,
    ) -> SignedIn:
        """`device_token`: the one the client sent (the input's, else the `device` cookie).
        Auth throttles per account and per device (RateLimited: HTTP 429); this, per address."""
        await self.limits.before_sign_in(client_address)  # RateLimited: HTTP 429
        request = auth_pb2.SignInRequest(
            email=email, password=password, device_token=device_token or ""
        )
        reply = await self.clients.call(self.clients.auth.SignIn, request)
        signed = self._signed_in(reply, response)
        if not reply.device_token:
            return signed
        self.cookies.set_device(response, reply.device_token)
        return replace(signed, device_token=reply.device_token)

    async def sign_out(self, token: str | None, response: Response) -> bool:
        """Clears the cookie whatever happens; revokes the token when there is a valid one."""
        self.cookies.clear(response)
        if await claims_of(self.verifier, token) is None:
            return False
        await self.clients.call(self.clients.auth.SignOut, auth_pb2.SignOutRequest(), token)
        return True

    async def change_password(
        self, token: str | None, current: str, new: str, response: Response
    ) -> SignedIn:
        """Every session of the user ends, this one too: the cookie is set to the new one."""
        if await claims_of(self.verifier, token) is None:
            raise Unauthenticated("Sign in first")
        request = auth_pb2.ChangePasswordRequest(current_password=current, new_password=new)
        reply = await self.clients.call(self.clients.auth.ChangePassword, request, token)
        return self._signed_in(reply, response)
