from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, SecretStr, field_validator, model_validator

from common.config import CommonSettings
from common.settings import POSITIVE, ConfigError, Flag, StrList, at_least, between, rule
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

AtLeastOne = Annotated[int, at_least(1)]
Limit = Annotated[int, at_least(0, "must be 0 (off) or more")]
Window = Annotated[int, at_least(1)]
NoLimit = Annotated[int, at_least(0, "must be 0 (no limit) or more")]
Seconds = Annotated[float, POSITIVE]


def _limit(default: int, what: str) -> Any:
    return Field(
        default,
        description=f"{what}; at most this many within any window (the matching "
        "_WINDOW_SECONDS), counted in Redis over every worker and replica. 0 turns it off.",
    )


def _window(default: int, limit: str) -> Any:
    return Field(default, description=f"The window of {limit}, in seconds.")


class GatewaySettings(CommonSettings):
    """What the gateway reads."""

    gateway_port: int = Field(
        8000, description="The gateway's public port: the API, the web app (the Ingress's)."
    )
    gateway_admin_port: int = Field(
        9100,
        description="Probes (/healthz, /readyz, /healthz/deps) and /metrics, for the kubelet and "
        "Prometheus only: never on GATEWAY_PORT, which the Ingress publishes (gateway/admin.py).",
    )
    cookie_secure: Flag = Field(
        True,
        description="Session cookies carry `Secure` (sent over HTTPS only); off only for plain "
        "HTTP on a developer's machine.",
    )
    graphql_max_depth: Annotated[int, at_least(2)] = Field(
        QueryLimits.max_depth, description="The deepest a GraphQL document may nest."
    )
    max_request_body_bytes: AtLeastOne = Field(
        1_048_576,
        description="Hostile input (gateway/limits.py, gateway/query_limits.py): a request body "
        "over this is refused with 413 before it is read whole.",
    )
    delivery_upload_max_bytes: AtLeastOne = Field(
        12_582_912,
        description="A seller's upload of e-ticket files (POST /api/deliveries/files, "
        "gateway/delivery_files.py), every file together: refused with 413 as soon as the body "
        "read passes it. Each file's own limit is the delivery service's "
        "(DELIVERY_MAX_FILE_BYTES); gRPC messages to and from it may be up to this plus 1 MiB.",
    )
    http_header_timeout_seconds: Seconds = Field(
        10.0,
        description="The edge (gateway/edge.py): a request's headers must be complete this long "
        "after the connection opened or the request's first byte (408, connection closed).",
    )
    http_body_timeout_seconds: Seconds = Field(
        30.0,
        description="A request's body must be complete this long after its headers (408, "
        "connection closed).",
    )
    http_keepalive_seconds: Annotated[int, at_least(1)] = Field(
        5, description="An idle kept-alive connection is closed after this long."
    )
    connections_per_address: Annotated[int, at_least(0, "must be 0 (no cap) or more")] = Field(
        64,
        description="At most this many open connections per client address in each gateway "
        "process (TRUSTED_PROXIES not counted; 0: no cap); one more is closed at once.",
    )
    json_max_depth: Annotated[int, between(1, 1_000)] = Field(
        32,
        description="JSON bodies (REST /api/users/*, GraphQL bodies and variables): deepest "
        "nesting (orjson stops at 1,024 levels whatever this says).",
    )
    json_max_string_chars: AtLeastOne = Field(
        10_000,
        description="JSON bodies: longest string (a GraphQL `query` text is bounded by the body "
        "size and GRAPHQL_MAX_TOKENS instead).",
    )
    graphql_max_aliases: AtLeastOne = Field(
        QueryLimits.max_aliases, description="Aliases one GraphQL document may use."
    )
    graphql_max_tokens: AtLeastOne = Field(
        QueryLimits.max_tokens, description="Tokens one GraphQL document may have."
    )
    graphql_max_cost: AtLeastOne = Field(
        QueryLimits.max_cost,
        description="The cost one GraphQL document may have: the schema's @cost/@listSize with "
        "the request's variables (gateway/document_cost.py).",
    )
    graphql_max_mutations: AtLeastOne = Field(
        QueryLimits.max_mutations, description="Root fields one GraphQL mutation may have."
    )
    graphql_introspection: Flag = Field(
        False,
        description="Schema introspection: on under `ticketing run` and in the dev overlay, off "
        "in production (the prod overlay).",
    )
    graphql_ide: Flag = Field(
        False,
        description="The GraphiQL page on GET /graphql: on under `ticketing run` and in the dev "
        "overlay, off in production.",
    )
    web_dist_dir: str | None = Field(
        None,
        description="The web app at / (gateway/web.py) and GraphiQL's page are files built by "
        "`make web` into this directory; unset: web/dist of the source tree (the image sets it).",
    )
    web_app: Flag = Field(
        True,
        description="Serve the web app at /; false leaves / to nothing (GraphiQL, if on, still "
        "loads its assets from WEB_DIST_DIR).",
    )
    graphql_persisted_queries: str = Field(
        "apq",
        description="Persisted queries (docs/api.md PQ-1..4, gateway/persisted_queries.py): "
        "`apq` runs any operation and keeps the texts clients register by hash in Redis (24 h "
        "after last use); `allowlist` (the prod overlay) runs only registered operations: the "
        "web app's (persisted-operations.json in WEB_DIST_DIR, written by `make web`) and those "
        "of the client manifests in PERSISTED_CLIENTS_DIR. Both are read when the gateway starts.",
    )
    persisted_clients_dir: str | None = Field(
        None,
        description="The registered clients' persisted-query manifests "
        "(<client>/<app-version>.json); unset: persisted/clients of the source tree (the image "
        "sets it).",
    )
    stripe_js_url: str = Field(
        "https://js.stripe.com/v3/",
        description="Where the web app loads Stripe.js from; `ticketing run` points it at "
        "the Stripe stand-in's. Its origin goes into the pages' Content-Security-Policy.",
    )
    stripe_publishable_key: str | None = Field(
        None,
        description="The publishable key the web app gives Stripe.js (/config.json; not a "
        "secret). No key: the app says card payments are not set up instead of showing a card "
        "form that cannot work.",
    )
    rpc_timeout_seconds: float = Field(
        10.0,
        description="Seconds a gRPC call from the gateway may take before the client sees "
        "UNAVAILABLE.",
    )
    payment_rpc_timeout_seconds: float = Field(
        45.0,
        description="createPayment's deadline: it waits for Stripe (STRIPE_TIMEOUT_SECONDS in "
        "payments, 20 by default), so it must be longer, or a buyer sees UNAVAILABLE for a "
        "charge that went through.",
    )
    stripe_webhook_secret: (
        Annotated[
            SecretStr,
            rule(
                lambda s: all(
                    part.strip().startswith("whsec_")
                    for part in s.get_secret_value().strip().split(",")
                ),
                "must be Stripe webhook signing secrets (whsec_...), separated by commas",
            ),
        ]
        | None
    ) = Field(
        None,
        description="Verifies `Stripe-Signature` on POST /webhooks/stripe; unset: the route "
        "answers 503. Several, separated by commas, when several Stripe endpoints deliver "
        "there: the platform's (payment_intent.*) and the Connect endpoint's (account.updated "
        "of sellers' accounts), each with its own secret; or an old and a new one while "
        "rolling a secret.",
    )
    stripe_webhook_secret_file: str | None = Field(
        None, description="STRIPE_WEBHOOK_SECRET from this file (a mounted Secret)."
    )
    ticket_cache_enabled: Flag = Field(
        True,
        description="Ticket reads served from Redis (gateway/ticket_cache/); false: every read "
        "asks tickets.",
    )
    ticket_cache_ttl_seconds: Annotated[float, at_least(1)] = Field(
        300.0,
        description="How long a cached ticket or page lives at most: the bound on staleness "
        "should an invalidating event be lost. Events and the gateway's own writes invalidate "
        "long before.",
    )
    ticket_cache_timeout_seconds: Seconds = Field(
        0.5,
        description="Longest a cache command may take (and the wait for a free connection); "
        "past it the read goes to tickets and the cache is skipped for a second, so a Redis that "
        "is down or slow costs a request at most this, not the RPC timeout.",
    )
    behaviour_events_enabled: Flag = Field(
        True,
        description="Behaviour events (gateway/behaviour/): ticket viewed, event viewed, tickets "
        "browsed, order started, accepted into a Redis stream during the request and relayed to "
        "RabbitMQ.",
    )
    behaviour_events_timeout_seconds: Seconds = Field(
        0.25,
        description="How long Redis has to accept a behaviour event (then it is dropped, "
        "counted, and Redis is left alone for a second), so recording never holds a request up "
        "for longer.",
    )
    gateway_workers: Annotated[int, at_least(0, "must be 0 (one per CPU) or more")] = Field(
        0,
        description="Worker processes serving the gateway's port; 0: one per CPU the process may "
        "use (the cgroup's CPU quota, e.g. a pod's CPU limit, else the CPUs it may run on). Each "
        "one costs its own memory (~90 MiB RSS after load), more than one a supervisor too (~40 "
        "MiB). `ticketing run` runs one.",
    )
    signin_address_limit: Limit = _limit(
        50, "Sign-in attempts per client address, successful or not (gateway/rate_limits/)"
    )
    signin_address_window_seconds: Window = _window(300, "SIGNIN_ADDRESS_LIMIT")
    signup_address_limit: Limit = _limit(10, "Sign-ups per client address")
    signup_address_window_seconds: Window = _window(3600, "SIGNUP_ADDRESS_LIMIT")
    graphql_user_limit: Limit = _limit(600, "/graphql requests per signed-in user")
    graphql_user_window_seconds: Window = _window(60, "GRAPHQL_USER_LIMIT")
    graphql_visitor_limit: Limit = _limit(
        120,
        "/graphql requests per signed-out visitor (the anon_id cookie: one brisk person is ~60 "
        "a minute)",
    )
    graphql_visitor_window_seconds: Window = _window(60, "GRAPHQL_VISITOR_LIMIT")
    graphql_address_limit: Limit = _limit(
        1200,
        "/graphql requests signed out per client address (a shared one: 20 brisk visitors)",
    )
    graphql_address_window_seconds: Window = _window(60, "GRAPHQL_ADDRESS_LIMIT")
    trusted_proxies: str = Field(
        "127.0.0.1,::1",
        description="Peers whose X-Forwarded-For is believed (addresses or CIDRs, "
        "comma-separated): the client address is the rightmost one in it that is not one of "
        "them. Anyone else's is ignored.",
    )
    cors_allowed_origins: StrList = Field(
        (),
        description="Web origins (https://app.example.com, comma-separated) whose pages may call "
        "the gateway with the user's cookie: CORS with credentials for them, and the GraphQL "
        "WebSocket's Origin check (gateway/origins.py). The gateway's own origin needs no entry; "
        "none other by default.",
    )
    subscriptions_per_connection: AtLeastOne = Field(
        20,
        description="Subscriptions (graphql-transport-ws on /graphql, gateway/subscriptions/): "
        "operations one connection may run at once.",
    )
    subscription_connections_per_user: NoLimit = Field(
        20,
        description="Open subscription connections per signed-in user, counted in Redis over "
        "every worker and replica (fail open, like the rate limits); 0: no limit.",
    )
    subscription_connections_per_address: NoLimit = Field(
        200,
        description="Open subscription connections per client address, counted like "
        "SUBSCRIPTION_CONNECTIONS_PER_USER; 0: no limit.",
    )
    subscription_ping_seconds: Seconds = Field(
        20.0,
        description="A WebSocket ping every this many seconds; a client that has not answered "
        "one within as long again is disconnected. Also what keeps proxies from closing an idle "
        "connection.",
    )
    subscription_init_timeout_seconds: Seconds = Field(
        10.0, description="How long a connection may wait before its `connection_init`."
    )
    subscription_max_message_bytes: Annotated[int, at_least(1024)] = Field(
        65_536,
        description="Largest client message on a subscription WebSocket; over it the connection "
        "is closed with 1009 (message too big). Apart from MAX_REQUEST_BODY_BYTES: a subscribe "
        "message is small.",
    )
    subscription_token_recheck_seconds: Seconds = Field(
        60.0,
        description="A subscriber's token is checked (expiry, revocation) before every push, "
        "and at least this often while nothing happens; it is ended at once when the token "
        "expires.",
    )

    @field_validator("graphql_persisted_queries")
    @classmethod
    def _persisted_queries(cls, mode: str) -> str:
        if mode not in PERSISTED_QUERY_MODES:
            raise ValueError(f"must be one of {', '.join(PERSISTED_QUERY_MODES)}")
        return mode

    @field_validator("stripe_js_url")
    @classmethod
    def _stripe_js_url(cls, url: str) -> str:
        if not url.startswith(("https://", "http://")):
            raise ValueError("must be an http(s) URL")
        StripeSources.of(url)  # an origin the pages' CSP can name, or ConfigError
        return url

    @field_validator("trusted_proxies")
    @classmethod
    def _trusted_proxies(cls, proxies: str) -> str:
        _networks(proxies)
        return proxies

    @field_validator("cors_allowed_origins")
    @classmethod
    def _origins(cls, origins: tuple[str, ...]) -> tuple[str, ...]:
        # Normalized once (lower case, no default port or trailing slash), as browsers send them.
        return parse_origins(origins)

    @model_validator(mode="after")
    def _admin_port(self) -> GatewaySettings:
        admin = self.gateway_admin_port
        if not 0 < admin < 65536 or admin == self.gateway_port:
            raise ConfigError("GATEWAY_ADMIN_PORT must be a port other than GATEWAY_PORT")
        return self

    def trusted_proxy_networks(self) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
        return _networks(self.trusted_proxies)

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
        if self.stripe_webhook_secret is None:
            return None
        return self.stripe_webhook_secret.get_secret_value().strip() or None


def _networks(proxies: str) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    networks = []
    for part in proxies.split(","):
        if part.strip():
            try:
                networks.append(ipaddress.ip_network(part.strip()))
            except ValueError:
                raise ConfigError(
                    f"TRUSTED_PROXIES must be IP addresses or CIDRs, got {part.strip()!r}"
                ) from None
    return networks
