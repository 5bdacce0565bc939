"""The gateway's Starlette application: /graphql (GraphiQL on GET; subscriptions over a WebSocket
on the same path), the REST routes and the web app at / (gateway/web.py) on the public port; the
probes and /metrics on the admin port (gateway/admin.py)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from datetime import timedelta

import orjson
from cross_web import HTTPException
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL

from common.jwt import TokenBinding, TokenVerifier
from common.redis_client import redis_client
from common.revocations import RevocationCache
from gateway.access import AccessLog
from gateway.accounts import Accounts
from gateway.admin import ByLocalPort, admin_app, not_public
from gateway.behaviour import BehaviourEvents, BehaviourRecorder
from gateway.client_mistakes import quiet_client_mistakes
from gateway.clients import ServiceClients
from gateway.config import GatewaySettings
from gateway.context import Context
from gateway.csrf import cross_origin_middleware
from gateway.delivery_files import delivery_file_routes
from gateway.http_errors import GRAPHQL_PATH
from gateway.limits import BodyLimit, JsonLimits, JsonRefused, parse_json
from gateway.loaders import payments_loader, tickets_loader
from gateway.metrics import metrics_route
from gateway.origins import origin_allowed
from gateway.pass_files import pass_file_routes
from gateway.persisted_queries import (
    APQ,
    STORE_TIMEOUT_SECONDS,
    PersistedQueries,
    PersistedQueryView,
    load_persisted_queries,
)
from gateway.probes import Probes
from gateway.rate_limits import (
    CHECK_TIMEOUT_SECONDS,
    AccountLimits,
    GraphQLLimits,
    limiter,
    trusted_proxies,
)
from gateway.rate_limits.connections import ConnectionLimits, OpenConnections
from gateway.rest import rest_routes
from gateway.schema import build_schema
from gateway.security_headers import BrowserPolicy, SecurityHeaders
from gateway.session import COOKIE, Cookies, token_of
from gateway.shutdown import AnswerCutOffRequests
from gateway.subscriptions.feed import LiveFeed
from gateway.subscriptions.hub import Hub
from gateway.subscriptions.revocations import RevocationListener
from gateway.subscriptions.transport import SubscriptionsHandler, TextWebSocket
from gateway.ticket_cache import CacheEvents, TicketReads, ticket_cache
from gateway.types.deliveries import UPLOAD_PATH
from gateway.visitors import AnonymousIds
from gateway.web import WebBuild
from gateway.webhooks import stripe_webhook_route


class GraphQLApp(PersistedQueryView, GraphQL):
    websocket_adapter_class = TextWebSocket  # type: ignore[assignment]
    graphql_transport_ws_handler_class = SubscriptionsHandler  # type: ignore[assignment]

    def __init__(
        self,
        accounts: Accounts,
        clients: ServiceClients,
        ticket_reads: TicketReads,
        settings: GatewaySettings,
        hub: Hub,
        connections: OpenConnections,
        web: WebBuild,
        persisted: PersistedQueries,
        recorder: BehaviourRecorder | None = None,
    ) -> None:
        super().__init__(
            build_schema(settings.query_limits()),
            graphql_ide="graphiql" if settings.graphql_ide else None,
            subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
            connection_init_wait_timeout=timedelta(
                seconds=settings.subscription_init_timeout_seconds
            ),
            max_subscriptions_per_connection=settings.subscriptions_per_connection,
        )
        self.accounts = accounts
        self.clients = clients
        self.ticket_reads = ticket_reads
        self.recorder = recorder
        self.anonymous_ids = AnonymousIds(secure=settings.cookie_secure)
        self.settings = settings
        self.hub = hub
        self.connections = connections
        self.json_limits: JsonLimits = settings.json_limits()
        self.web = web
        self.persisted = persisted

    async def render_graphql_ide(self, request: Request) -> Response:  # type: ignore[override]
        # Our own build of GraphiQL (web/), not Strawberry's page, which loads from CDNs.
        return self.web.graphiql_page()

    def is_websocket_origin_allowed(self, request: WebSocket, origin: str) -> bool:  # type: ignore[override]
        # Called for a handshake from another origin only (Strawberry lets the gateway's own
        # through, and clients that send no Origin: not browsers). Without the session cookie
        # it carries no credentials a foreign page could abuse (a token in connection_init is
        # one the page already has), so only a handshake with the cookie must come from an
        # allowed origin: cross-site WebSocket hijacking. Refused: 403 before it is accepted.
        if COOKIE not in request.cookies:
            return True
        host = request.headers.get("host")
        return origin_allowed(origin, host, self.settings.cors_allowed_origins)

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

    async def get_context(  # type: ignore[override]
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> Context:
        token = token_of(request)
        # A WebSocket's context lasts as long as its connection: loaders that do not cache.
        websocket = isinstance(request, WebSocket)
        return Context(
            request=request,
            response=response if isinstance(response, Response) else None,
            clients=self.clients,
            accounts=self.accounts,
            token=token,
            ticket_reads=self.ticket_reads,
            tickets=tickets_loader(self.ticket_reads, cache=not websocket),
            payments=payments_loader(self.clients, token, cache=not websocket),
            recorder=None if websocket else self.recorder,
            # A WebSocket's handshake answer has no cookie to set: subscriptions record nothing.
            anonymous_id="" if websocket else self.anonymous_ids.of(request, response),
            hub=self.hub,
            token_recheck_seconds=self.settings.subscription_token_recheck_seconds,
            websocket=websocket,
        )


def create_app(settings: GatewaySettings) -> ByLocalPort:
    # Nothing connects here: channels and the Redis pool connect on first use.
    quiet_client_mistakes()  # what clients get wrong is logged at INFO/WARNING, rate-limited
    redis = redis_client(settings)
    verifier = TokenVerifier(
        settings.public_keys(),
        RevocationCache(redis, settings.namespace),
        binding=TokenBinding.of(settings),
    )
    clients = ServiceClients(settings)
    limits = limiter(settings)
    accounts = Accounts(
        clients, verifier, Cookies(secure=settings.cookie_secure), AccountLimits(limits, settings)
    )
    cache = ticket_cache(settings)
    ticket_reads = TicketReads(clients, cache)
    cache_events = CacheEvents(settings, cache)
    hub = Hub()
    live_feed = LiveFeed(settings, hub)
    # Its own client: a subscribed connection serves nothing else.
    revocation_listener = RevocationListener(
        redis_client(settings), settings.namespace, hub.sessions
    )
    connections = OpenConnections(
        redis_client(settings, fail_fast_seconds=CHECK_TIMEOUT_SECONDS), settings.namespace
    )
    behaviour = BehaviourEvents(settings)
    web = WebBuild(settings.web_dist())
    persisted = load_persisted_queries(
        settings.graphql_persisted_queries,
        settings.web_dist(),
        settings.persisted_clients(),
        # The APQ store: a cache, which never holds a request up (a miss instead).
        redis_client(settings, fail_fast_seconds=STORE_TIMEOUT_SECONDS)
        if settings.graphql_persisted_queries == APQ
        else None,
        settings.namespace,
        web_manifest_required=settings.web_app,
    )
    graphql = GraphQLApp(
        accounts,
        clients,
        ticket_reads,
        settings,
        hub,
        connections,
        web,
        persisted,
        behaviour.recorder,
    )
    graphql_limited = GraphQLLimits(
        ConnectionLimits(graphql, connections, settings.subscription_connections_per_address),
        limits,
        verifier,
        settings,
    )

    probes = Probes(clients, redis)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        clients.open()
        cache_events.start()
        behaviour.start()
        live_feed.start()
        revocation_listener.start()
        yield
        await revocation_listener.stop()
        await live_feed.stop()
        await behaviour.stop()
        await cache_events.stop()
        await clients.close()
        await redis.aclose()
        await limits.close()
        await ticket_reads.close()
        await connections.close()
        await persisted.close()

    account_routes = rest_routes(accounts, settings.json_limits())
    file_routes = [
        *delivery_file_routes(accounts, clients, settings.delivery_upload_max_bytes),
        *pass_file_routes(accounts, clients),
    ]
    admin_routes = [*probes.routes(), metrics_route()]
    routes = [
        Route(GRAPHQL_PATH, graphql_limited, methods=["GET", "POST"]),
        WebSocketRoute(GRAPHQL_PATH, graphql_limited),
        *account_routes,
        *file_routes,
        stripe_webhook_route(clients, settings.webhook_secret()),
        *not_public(admin_routes),
    ]
    if settings.web_app or settings.graphql_ide:
        routes.append(web.assets_route())
    if settings.web_app:  # last: its catch-all takes only what no route above has
        routes += web.app_routes(settings.web_runtime_config())
    # Outermost, the client's address (from trusted proxies only); then AccessLog: every request
    # gets its span and line, a refused one too; then a request the shutdown cuts off is
    # answered 503 UNAVAILABLE (gateway/shutdown.py); then the body limit: an oversized body is
    # refused before any route runs.
    access_log = Middleware(AccessLog, routes=[route.path for route in routes], probes=())
    body_limit = Middleware(
        BodyLimit, max_bytes=settings.max_request_body_bytes, own_limits=[UPLOAD_PATH]
    )
    # CORS for CORS_ALLOWED_ORIGINS, and the CSRF guard on the routes the session cookie acts on.
    cross_origin = cross_origin_middleware(
        settings.cors_allowed_origins,
        [GRAPHQL_PATH, UPLOAD_PATH, *(r.path for r in account_routes)],
    )
    # CSP, HSTS, nosniff... on every response, a refusal by the middleware below it too.
    security_headers = Middleware(
        SecurityHeaders, policy=BrowserPolicy(settings.stripe_js_url, hsts=settings.cookie_secure)
    )
    public = Starlette(
        routes=routes,
        lifespan=lifespan,
        middleware=[
            trusted_proxies(settings),
            security_headers,
            access_log,
            Middleware(AnswerCutOffRequests),
            *cross_origin,
            body_limit,
        ],
    )
    return ByLocalPort(public, admin_app(admin_routes), settings.gateway_admin_port)
