"""Per-request GraphQL context: the caller, the clients, and (later) per-request DataLoaders."""

from __future__ import annotations

from dataclasses import dataclass, field

import strawberry
from starlette.requests import Request
from starlette.responses import Response

from common.errors import Unauthenticated
from common.jwt import Claims
from gateway.accounts import Accounts
from gateway.clients import ServiceClients
from gateway.session import claims_of


@dataclass
class Context:
    request: Request
    response: Response
    clients: ServiceClients
    accounts: Accounts
    token: str | None
    _claims: Claims | None = field(default=None, init=False)
    _checked: bool = field(default=False, init=False)

    async def user(self) -> Claims | None:
        """The verified caller, or None (checked once per request)."""
        if not self._checked:
            self._claims = await claims_of(self.accounts.verifier, self.token)
            self._checked = True
        return self._claims

    async def require_user(self) -> Claims:
        claims = await self.user()
        if claims is None:
            raise Unauthenticated("Sign in first")
        return claims


Info = strawberry.Info[Context, None]
