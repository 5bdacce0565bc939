"""The gateway's Starlette application: /graphql (GraphiQL on GET), the REST routes, probes."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

import orjson
from cross_web import HTTPException
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from strawberry.asgi import GraphQL

from common.jwt import TokenVerifier
from common.redis_client import redis_client
from common.revocations import RevocationCache
from gateway.access import AccessLog
from gateway.accounts import Accounts
from gateway.behaviour import BehaviourEvents, BehaviourRecorder
from gateway.clients import ServiceClients
from gateway.config import GatewaySettings
from gateway.context import Context
from gateway.limits import BodyLimit, JsonLimits, JsonRefused, parse_json
from gateway.loaders import payments_loader, tickets_loader
from gateway.metrics import metrics_route
from gateway.probes import Probes
from gateway.rate_limits import AccountLimits, GraphQLLimits, limiter, trusted_proxies
from gateway.rest import rest_routes
from gateway.schema import build_schema
from gateway.session import Cookies, token_of
from gateway.ticket_cache import CacheEvents, TicketReads, ticket_cache
from gateway.visitors import AnonymousIds
from gateway.webhooks import stripe_webhook_route


class GraphQLApp(GraphQL):
    def __init__(
        self,
        accounts: Accounts,
        clients: ServiceClients,
        ticket_reads: TicketReads,
        settings: GatewaySettings,
        recorder: BehaviourRecorder | None = None,
    ) -> None:
        super().__init__(
            build_schema(settings.query_limits()),
            graphql_ide="graphiql" if settings.graphql_ide else None,
        )
        self.accounts = accounts
        self.clients = clients
        self.ticket_reads = ticket_reads
        self.recorder = recorder
        self.anonymous_ids = AnonymousIds(secure=settings.cookie_secure)
        self.json_limits: JsonLimits = settings.json_limits()

    # orjson: a page of 100 tickets (15 KB) is encoded in 13 µs instead of 320 µs (its decode
    # errors are json.JSONDecodeErrors, so a malformed body is still a 400).
    def encode_json(self, data: object) -> bytes:
        return orjson.dumps(data)

    def decode_json(self, data: str | bytes) -> object:
        # The POST body, or the `variables` of a GET. A body of `null` is a request without a
        # query (Strawberry would fail on it with a 500); any other non-object is refused here.
        try:
            value = parse_json(data, self.json_limits, long_strings_at=("query",))
        except JsonRefused as exc:
            raise HTTPException(400, str(exc)) from None
        if value is None:
            return {}
        if not isinstance(value, (dict, list)):
            raise HTTPException(400, "A GraphQL request must be a JSON object")
        return value

    async def get_context(self, request: Request, response: Response) -> Context:  # type: ignore[override]
        token = token_of(request)
        return Context(
            request=request,
            response=response,
            clients=self.clients,
            accounts=self.accounts,
            token=token,
            ticket_reads=self.ticket_reads,
            tickets=tickets_loader(self.ticket_reads),
            payments=payments_loader(self.clients, token),
            recorder=self.recorder,
            anonymous_id=self.anonymous_ids.of(request, response),
        )


def create_app(settings: GatewaySettings) -> Starlette:
    # Nothing connects here: channels and the Redis pool connect on first use.
    redis = redis_client(settings)
    verifier = TokenVerifier(settings.public_key(), RevocationCache(redis, settings.namespace))
    clients = ServiceClients(settings)
    limits = limiter(settings)
    accounts = Accounts(
        clients, verifier, Cookies(secure=settings.cookie_secure), AccountLimits(limits, settings)
    )
    cache = ticket_cache(settings)
    ticket_reads = TicketReads(clients, cache)
    cache_events = CacheEvents(settings, cache)
    behaviour = BehaviourEvents(settings)
    graphql = GraphQLApp(accounts, clients, ticket_reads, settings, behaviour.recorder)

    probes = Probes(clients, redis)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        clients.open()
        cache_events.start()
        behaviour.start()
        yield
        await behaviour.stop()
        await cache_events.stop()
        await clients.close()
        await redis.aclose()
        await limits.close()
        await ticket_reads.close()

    routes = [
        Route(
            "/graphql", GraphQLLimits(graphql, limits, verifier, settings), methods=["GET", "POST"]
        ),
        *probes.routes(),
        metrics_route(),
        *rest_routes(accounts, settings.json_limits()),
        stripe_webhook_route(clients, settings.webhook_secret()),
    ]
    # Outermost, the client's address (from trusted proxies only); then AccessLog: every request
    # gets its span and line, a refused one too; then the body limit: an oversized body is
    # refused before any route runs.
    access_log = Middleware(
        AccessLog,
        routes=[route.path for route in routes],
        probes=[route.path for route in probes.routes()],
    )
    body_limit = Middleware(BodyLimit, max_bytes=settings.max_request_body_bytes)
    return Starlette(
        routes=routes,
        lifespan=lifespan,
        middleware=[trusted_proxies(settings), access_log, body_limit],
    )
