from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from pathlib import Path

from common.config import CommonSettings, ConfigError, read_secret
from gateway.limits import JsonLimits
from gateway.origins import parse_origins
from gateway.persisted_queries import MODES as PERSISTED_QUERY_MODES
from gateway.query_limits import QueryLimits
from gateway.security_headers import StripeSources
from gateway.workers import CGROUP_ROOT, available_cpus

# Each is set by <NAME>_LIMIT and <NAME>_WINDOW_SECONDS.
# (Sign-ins per account and per known device are auth's to count: svc_auth.config.SIGNIN_LIMITS.)
RATE_LIMITS = (
    "signin_address",
    "signup_address",
    "graphql_user",
    "graphql_visitor",
    "graphql_address",
)


@dataclass(frozen=True)
class GatewaySettings(CommonSettings):
    gateway_port: int = 8000
    # Probes (/healthz, /readyz, /healthz/deps) and /metrics, for the kubelet and Prometheus
    # only: never on GATEWAY_PORT, which the Ingress publishes (gateway/admin.py).
    gateway_admin_port: int = 9100
    cookie_secure: bool = True
    graphql_max_depth: int = QueryLimits.max_depth
    # Hostile input (gateway/limits.py, gateway/query_limits.py). A request body over this is
    # refused with 413 before it is read whole.
    max_request_body_bytes: int = 1_048_576
    # The edge (gateway/edge.py): a request's headers must be complete this long after the
    # connection opened or the request's first byte, its body this long after its headers (408,
    # connection closed); an idle kept-alive connection is closed after HTTP_KEEPALIVE_SECONDS.
    # At most CONNECTIONS_PER_ADDRESS open connections per client address in each gateway
    # process (TRUSTED_PROXIES not counted; 0: no cap); one more is closed at once.
    http_header_timeout_seconds: float = 10.0
    http_body_timeout_seconds: float = 30.0
    http_keepalive_seconds: int = 5
    connections_per_address: int = 64
    # JSON bodies (REST /api/users/*, GraphQL bodies and variables): deepest nesting, longest
    # string (a GraphQL `query` text is bounded by the body size and GRAPHQL_MAX_TOKENS instead).
    json_max_depth: int = 32
    json_max_string_chars: int = 10_000
    # One GraphQL document: aliases, tokens, cost (the schema's @cost/@listSize with the
    # request's variables, gateway/document_cost.py) and the root fields of a mutation.
    graphql_max_aliases: int = QueryLimits.max_aliases
    graphql_max_tokens: int = QueryLimits.max_tokens
    graphql_max_cost: int = QueryLimits.max_cost
    graphql_max_mutations: int = QueryLimits.max_mutations
    # Schema introspection and the GraphiQL page on GET /graphql: on under `ticketing run` and in
    # the dev overlay, off in production (the prod overlay).
    graphql_introspection: bool = False
    graphql_ide: bool = False
    # The web app at / (gateway/web.py) and GraphiQL's page are files built by `make web` into
    # this directory; unset: web/dist of the source tree (the image sets it). WEB_APP=false
    # leaves / to nothing (GraphiQL, if on, still loads its assets from there).
    web_dist_dir: str | None = None
    web_app: bool = True
    # Persisted queries (docs/api.md PQ-1..4, gateway/persisted_queries.py): `apq` runs any
    # operation and keeps the texts clients register by hash in Redis (24 h after last use);
    # `allowlist` (the prod overlay) runs only registered operations: the web app's
    # (persisted-operations.json in WEB_DIST_DIR, written by `make web`) and those of the client
    # manifests in this directory (<client>/<app-version>.json; unset: persisted/clients of the
    # source tree, the image sets it). Both are read when the gateway starts.
    graphql_persisted_queries: str = "apq"
    persisted_clients_dir: str | None = None
    # Where the web app loads Stripe.js from, and the publishable key it gives it (/config.json);
    # `ticketing run` points both at localstripe's stand-in. No key: the app says card payments
    # are not set up instead of showing a card form that cannot work.
    stripe_js_url: str = "https://js.stripe.com/v3/"
    stripe_publishable_key: str | None = None
    # Seconds a gRPC call from the gateway may take before the client sees UNAVAILABLE.
    rpc_timeout_seconds: float = 10.0
    # createPayment waits for Stripe (STRIPE_TIMEOUT_SECONDS in payments, 20 by default): its
    # deadline must be longer, or a buyer sees UNAVAILABLE for a charge that went through.
    payment_rpc_timeout_seconds: float = 45.0
    # Verifies `Stripe-Signature` on POST /webhooks/stripe; unset: the route answers 503.
    stripe_webhook_secret: str | None = None
    stripe_webhook_secret_file: str | None = None
    # Ticket reads served from Redis (gateway/ticket_cache/); false: every read asks tickets.
    ticket_cache_enabled: bool = True
    # How long a cached ticket or page lives at most: the bound on staleness should an
    # invalidating event be lost. Events and the gateway's own writes invalidate long before.
    ticket_cache_ttl_seconds: float = 300.0
    # Longest a cache command may take (and the wait for a free connection); past it the read
    # goes to tickets and the cache is skipped for a second, so a Redis that is down or slow
    # costs a request at most this, not the RPC timeout.
    ticket_cache_timeout_seconds: float = 0.5
    # Behaviour events (gateway/behaviour/): ticket viewed, tickets browsed, order started,
    # accepted into a Redis stream during the request and relayed to RabbitMQ. Redis has this
    # long to accept one (then it is dropped, counted, and Redis is left alone for a second), so
    # recording never holds a request up for longer.
    behaviour_events_enabled: bool = True
    behaviour_events_timeout_seconds: float = 0.25
    # Worker processes serving the gateway's port; 0: one per CPU the process may use (the
    # cgroup's CPU quota, e.g. a pod's CPU limit, else the CPUs it may run on). Each one costs
    # its own memory (~90 MiB RSS after load), more than one a supervisor too (~40 MiB).
    # `ticketing run` runs one.
    gateway_workers: int = 0
    # Rate limits (gateway/rate_limits/), kept in Redis and so shared by every worker and
    # replica: at most LIMIT requests within any WINDOW_SECONDS; a LIMIT of 0 turns one off.
    # Sign-in attempts per client address, successful or not.
    signin_address_limit: int = 50
    signin_address_window_seconds: int = 300
    # Sign-ups per client address.
    signup_address_limit: int = 10
    signup_address_window_seconds: int = 3600
    # /graphql requests per signed-in user; signed out, per visitor (the anon_id cookie: one
    # brisk person is ~60 a minute) and per client address (a shared one: 20 such visitors).
    graphql_user_limit: int = 600
    graphql_user_window_seconds: int = 60
    graphql_visitor_limit: int = 120
    graphql_visitor_window_seconds: int = 60
    graphql_address_limit: int = 1200
    graphql_address_window_seconds: int = 60
    # Peers whose X-Forwarded-For is believed (addresses or CIDRs, comma-separated): the client
    # address is the rightmost one in it that is not one of them. Anyone else's is ignored.
    trusted_proxies: str = "127.0.0.1,::1"
    # Web origins (https://app.example.com, comma-separated) whose pages may call the gateway
    # with the user's cookie: CORS with credentials for them, and the GraphQL WebSocket's Origin
    # check (gateway/origins.py). The gateway's own origin needs no entry; none other by default.
    cors_allowed_origins: tuple[str, ...] = ()
    # Subscriptions (graphql-transport-ws on /graphql, gateway/subscriptions/). Operations one
    # connection may run at once.
    subscriptions_per_connection: int = 20
    # Open connections per signed-in user and per client address, counted in Redis over every
    # worker and replica (fail open, like the rate limits); 0: no limit.
    subscription_connections_per_user: int = 20
    subscription_connections_per_address: int = 200
    # A WebSocket ping every this many seconds; a client that has not answered one within as
    # long again is disconnected. Also what keeps proxies from closing an idle connection.
    subscription_ping_seconds: float = 20.0
    # How long a connection may wait before its `connection_init`.
    subscription_init_timeout_seconds: float = 10.0
    # Largest client message on a subscription WebSocket; over it the connection is closed with
    # 1009 (message too big). Apart from MAX_REQUEST_BODY_BYTES: a subscribe message is small.
    subscription_max_message_bytes: int = 65_536
    # A subscriber's token is checked (expiry, revocation) before every push, and at least this
    # often while nothing happens; it is ended at once when the token expires.
    subscription_token_recheck_seconds: float = 60.0

    def __post_init__(self) -> None:
        super().__post_init__()
        if not 0 < self.gateway_admin_port < 65536 or self.gateway_admin_port == self.gateway_port:
            raise ConfigError("GATEWAY_ADMIN_PORT must be a port other than GATEWAY_PORT")
        if self.graphql_max_depth < 2:
            raise ConfigError("GRAPHQL_MAX_DEPTH must be at least 2")
        for name in (
            "max_request_body_bytes",
            "json_max_string_chars",
            "graphql_max_aliases",
            "graphql_max_tokens",
            "graphql_max_cost",
            "graphql_max_mutations",
        ):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name.upper()} must be at least 1")
        # orjson stops at 1,024 levels whatever this says.
        if not 1 <= self.json_max_depth <= 1_000:
            raise ConfigError("JSON_MAX_DEPTH must be between 1 and 1000")
        if self.graphql_persisted_queries not in PERSISTED_QUERY_MODES:
            raise ConfigError(
                "GRAPHQL_PERSISTED_QUERIES must be one of "
                f"{', '.join(PERSISTED_QUERY_MODES)}, got {self.graphql_persisted_queries!r}"
            )
        if not self.stripe_js_url.startswith(("https://", "http://")):
            raise ConfigError(f"STRIPE_JS_URL must be an http(s) URL, got {self.stripe_js_url!r}")
        StripeSources.of(self.stripe_js_url)  # an origin the pages' CSP can name, or ConfigError
        if self.ticket_cache_ttl_seconds < 1:
            raise ConfigError("TICKET_CACHE_TTL_SECONDS must be at least 1")
        if self.ticket_cache_timeout_seconds <= 0:
            raise ConfigError("TICKET_CACHE_TIMEOUT_SECONDS must be positive")
        if self.behaviour_events_timeout_seconds <= 0:
            raise ConfigError("BEHAVIOUR_EVENTS_TIMEOUT_SECONDS must be positive")
        self._check_edge()
        if self.gateway_workers < 0:
            raise ConfigError("GATEWAY_WORKERS must be 0 (one per CPU) or more")
        for name in RATE_LIMITS:
            self._check_limit(name)
        self.trusted_proxy_networks()
        # Normalized once (lower case, no default port or trailing slash), as browsers send them.
        object.__setattr__(self, "cors_allowed_origins", parse_origins(self.cors_allowed_origins))
        self._check_subscriptions()

    def _check_edge(self) -> None:
        for name in ("http_header_timeout_seconds", "http_body_timeout_seconds"):
            if getattr(self, name) <= 0:
                raise ConfigError(f"{name.upper()} must be positive")
        if self.http_keepalive_seconds < 1:
            raise ConfigError("HTTP_KEEPALIVE_SECONDS must be at least 1")
        if self.connections_per_address < 0:
            raise ConfigError("CONNECTIONS_PER_ADDRESS must be 0 (no cap) or more")
        if self.subscription_max_message_bytes < 1024:
            raise ConfigError("SUBSCRIPTION_MAX_MESSAGE_BYTES must be at least 1024")

    def _check_subscriptions(self) -> None:
        if self.subscriptions_per_connection < 1:
            raise ConfigError("SUBSCRIPTIONS_PER_CONNECTION must be at least 1")
        for name in ("subscription_connections_per_user", "subscription_connections_per_address"):
            if getattr(self, name) < 0:
                raise ConfigError(f"{name.upper()} must be 0 (no limit) or more")
        for name in (
            "subscription_ping_seconds",
            "subscription_init_timeout_seconds",
            "subscription_token_recheck_seconds",
        ):
            if getattr(self, name) <= 0:
                raise ConfigError(f"{name.upper()} must be positive")

    def _check_limit(self, name: str) -> None:
        if getattr(self, f"{name}_limit") < 0:
            raise ConfigError(f"{name.upper()}_LIMIT must be 0 (off) or more")
        if getattr(self, f"{name}_window_seconds") < 1:
            raise ConfigError(f"{name.upper()}_WINDOW_SECONDS must be at least 1")

    def trusted_proxy_networks(self) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
        networks = []
        for part in self.trusted_proxies.split(","):
            if part.strip():
                try:
                    networks.append(ipaddress.ip_network(part.strip()))
                except ValueError:
                    raise ConfigError(
                        f"TRUSTED_PROXIES must be IP addresses or CIDRs, got {part.strip()!r}"
                    ) from None
        return networks

    def workers(self, cgroup_root: Path = CGROUP_ROOT) -> int:
        return self.gateway_workers or available_cpus(cgroup_root)

    def json_limits(self) -> JsonLimits:
        return JsonLimits(
            max_depth=self.json_max_depth, max_string_chars=self.json_max_string_chars
        )

    def query_limits(self) -> QueryLimits:
        return QueryLimits(
            max_depth=self.graphql_max_depth,
            max_aliases=self.graphql_max_aliases,
            max_tokens=self.graphql_max_tokens,
            max_cost=self.graphql_max_cost,
            max_mutations=self.graphql_max_mutations,
            introspection=self.graphql_introspection,
        )

    def web_dist(self) -> Path:
        if self.web_dist_dir:
            return Path(self.web_dist_dir)
        return Path(__file__).resolve().parent.parent / "web" / "dist"

    def persisted_clients(self) -> Path:
        if self.persisted_clients_dir:
            return Path(self.persisted_clients_dir)
        return Path(__file__).resolve().parent.parent / "persisted" / "clients"

    def web_runtime_config(self) -> dict[str, object]:
        """What the web app reads from /config.json: nothing secret (a publishable key is not)."""
        return {
            "stripe": {"jsUrl": self.stripe_js_url, "publishableKey": self.stripe_publishable_key}
        }

    def webhook_secret(self) -> str | None:
        secret = read_secret(
            self.stripe_webhook_secret, self.stripe_webhook_secret_file, "STRIPE_WEBHOOK_SECRET"
        )
        return secret.strip() if secret else None
