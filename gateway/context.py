"""Per-request GraphQL context: the caller, the clients, and this request's DataLoaders.

Over a WebSocket (subscriptions) there is one context per connection: its request is the
WebSocket, it has no response to set cookies or a status on, its DataLoaders do not cache (a
subscription pushes the same order many times, each time as it is now), and its token may come
from the `connection_init` message rather than the handshake.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import strawberry
from starlette.requests import HTTPConnection
from starlette.responses import Response
from strawberry.dataloader import DataLoader

from common.errors import Forbidden, Unauthenticated
from common.jwt import Claims
from gateway.accounts import Accounts
from gateway.behaviour import BehaviourRecorder, RequestBehaviour
from gateway.clients import ServiceClients
from gateway.loaders import (
    QuoteKey,
    deliveries_loader,
    events_loader,
    fee_quotes_loader,
    order_charges_loader,
    order_passes_loader,
    payments_by_id_loader,
    payments_loader,
    payouts_loader,
    refunds_loader,
    seller_records_loader,
)
from gateway.session import claims_of
from gateway.subscriptions.hub import Hub
from gateway.ticket_cache.reads import TicketReads
from ticketing.catalogue.v1 import catalogue_pb2
from ticketing.delivery.v1 import delivery_pb2
from ticketing.payments.v1 import payments_pb2
from ticketing.tickets.v1 import tickets_pb2


@dataclass
class Context:
    request: HTTPConnection  # a Request, or the WebSocket of a subscriptions connection
    response: Response | None  # None over a WebSocket
    clients: ServiceClients
    accounts: Accounts
    token: str | None
    ticket_reads: TicketReads
    tickets: DataLoader[str, tickets_pb2.Ticket | None]
    payments: DataLoader[str, payments_pb2.Payment | None]
    # Records behaviour events (gateway/behaviour/); None: not recorded.
    recorder: BehaviourRecorder | None = None
    # The visitor's stable anonymous id (the `anon_id` cookie, gateway/visitors.py).
    anonymous_id: str = ""
    # What the resolvers record the visitor's actions with.
    behaviour: RequestBehaviour = field(init=False)
    # Subscriptions: the events of this process, and how often a quiet one checks its token.
    hub: Hub | None = None
    token_recheck_seconds: float = 60.0
    websocket: bool = False  # the context of a WebSocket connection (subscriptions)
    # Payments by their own ids (node, nodes).
    payments_by_id: DataLoader[str, payments_pb2.Payment | None] = field(init=False)
    # Payouts by id (Dispute.payout), as payments lets the caller read them.
    payouts: DataLoader[str, payments_pb2.Payout | None] = field(init=False)
    # The refunds of the caller's orders, by order id (Order.refunds).
    refunds: DataLoader[str, list[payments_pb2.Refund]] = field(init=False)
    # Catalogue events by id (Listing.event): public, the same whoever asks.
    events: DataLoader[str, catalogue_pb2.Event | None] = field(init=False)
    # Fee quotes (all-in prices, a seller's proceeds): public, the same whoever asks.
    fee_quotes: DataLoader[QuoteKey, payments_pb2.FeeQuote] = field(init=False)
    # Orders' fixed fee breakdowns (Order.charges), the caller's only.
    order_charges: DataLoader[str, payments_pb2.FeeQuote | None] = field(init=False)
    # Orders' deliveries (Order.delivery), those the caller may see.
    deliveries: DataLoader[str, delivery_pb2.Delivery | None] = field(init=False)
    # Sellers' public delivery records (User.deliveryRecord), once per seller.
    seller_records: DataLoader[str, delivery_pb2.GetSellerRecordResponse] = field(init=False)
    # Orders' passes (Order.passes), as the delivery service shows them to the caller.
    order_passes: DataLoader[str, list[delivery_pb2.Pass] | None] = field(init=False)
    _claims: Claims | None = field(default=None, init=False)
    _checked: bool = field(default=False, init=False)

    def __post_init__(self) -> None:
        self.behaviour = RequestBehaviour(self.recorder, self.anonymous_id, self.user_id)
        cache = not self.websocket  # a subscription pushes objects as they are now
        self.payments_by_id = payments_by_id_loader(self.clients, self.token, cache=cache)
        self.payouts = payouts_loader(self.clients, self.token, cache=cache)
        self.refunds = refunds_loader(self.clients, self.token, cache=cache)
        self.events = events_loader(self.clients, cache=cache)
        self.fee_quotes = fee_quotes_loader(self.clients, cache=cache)
        self.order_charges = order_charges_loader(self.clients, self.token, cache=cache)
        self.deliveries = deliveries_loader(self.clients, self.token, cache=cache)
        self.order_passes = order_passes_loader(self.clients, self.token, cache=cache)
        self.seller_records = seller_records_loader(self.clients, cache=cache)

    def sign_in_with(self, token: str) -> None:
        """The token a WebSocket client gave in `connection_init`, in place of the handshake's."""
        self.token = token
        self._claims, self._checked = None, False
        self.payments = payments_loader(self.clients, token, cache=False)
        self.payments_by_id = payments_by_id_loader(self.clients, token, cache=False)
        self.order_charges = order_charges_loader(self.clients, token, cache=False)
        self.payouts = payouts_loader(self.clients, token, cache=False)
        self.refunds = refunds_loader(self.clients, token, cache=False)
        self.deliveries = deliveries_loader(self.clients, token, cache=False)
        self.order_passes = order_passes_loader(self.clients, token, cache=False)

    async def user(self) -> Claims | None:
        """The verified caller, or None (checked once per request)."""
        if not self._checked:
            self._claims = await claims_of(self.accounts.verifier, self.token)
            self._checked = True
        return self._claims

    async def user_id(self) -> str:
        """The verified caller's id, '' when anonymous."""
        claims = await self.user()
        return claims.user_id if claims is not None else ""

    async def require_user(self) -> Claims:
        claims = await self.user()
        if claims is None:
            raise Unauthenticated("Sign in first")
        return claims

    async def roles(self) -> tuple[str, ...]:
        """The verified caller's roles (the token's `roles` claim); none when signed out."""
        claims = await self.user()
        return claims.roles if claims is not None else ()

    async def require_admin(self) -> Claims:
        """The caller, if an operator: UNAUTHENTICATED signed out, FORBIDDEN without the role."""
        claims = await self.require_user()
        if not claims.is_admin:
            raise Forbidden(
                "Operators only: this needs the admin role (granted by `ticketing users "
                "grant-admin EMAIL`; a session shows it from the sign-in after the grant)"
            )
        return claims

    async def call(
        self,
        method: Any,
        request: Any,
        *,
        authenticated: bool = True,
        timeout: float | None = None,
    ) -> Any:
        """A gRPC call on the caller's behalf (signed in first, unless `authenticated=False`)."""
        if authenticated:
            await self.require_user()
        token = self.token if authenticated else None
        return await self.clients.call(method, request, token, timeout)


Info = strawberry.Info[Context, None]


async def require_admin(info: Info) -> Claims:
    """For the operators' resolvers (the market reports): the caller if they hold the `admin`
    role, else UNAUTHENTICATED (signed out) or FORBIDDEN."""
    return await info.context.require_admin()
