"""Settings, read from the environment once at start. Nothing here connects to anything."""

from __future__ import annotations

import dataclasses
import os
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Self

DEFAULT_NAMESPACE = "ticketing"


class ConfigError(ValueError):
    """A setting is missing or malformed; the message names the variable."""


def _convert(name: str, raw: str, kind: Any) -> Any:
    if kind is bool:
        lowered = raw.strip().lower()
        if lowered in ("1", "true", "yes", "on"):
            return True
        if lowered in ("0", "false", "no", "off"):
            return False
        raise ConfigError(f"{name} must be true or false, got {raw!r}")
    if kind in (int, float):
        try:
            return kind(raw)
        except ValueError:
            raise ConfigError(f"{name} must be a number, got {raw!r}") from None
    if typing.get_origin(kind) is tuple and typing.get_args(kind)[0] is str:
        return tuple(part.strip() for part in raw.split(",") if part.strip())
    if typing.get_origin(kind) is tuple:
        try:
            return tuple(int(part) for part in raw.split(",") if part.strip())
        except ValueError:
            raise ConfigError(f"{name} must be comma-separated integers, got {raw!r}") from None
    return raw


class FromEnv:
    """Mixin for frozen dataclasses: each field is read from the upper-cased variable of its name.

    A field without a default is required; `str | None` fields are None when unset or empty.
    """

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: Any) -> Self:
        env = os.environ if env is None else env
        hints = typing.get_type_hints(cls)
        values: dict[str, Any] = {}
        for field in dataclasses.fields(cls):  # type: ignore[arg-type]
            if field.name in overrides:
                values[field.name] = overrides[field.name]
                continue
            var = field.name.upper()
            raw = env.get(var)
            kind = hints[field.name]
            optional = isinstance(kind, types.UnionType) and type(None) in typing.get_args(kind)
            if optional:
                kind = next(a for a in typing.get_args(kind) if a is not type(None))
            if raw is None or (optional and raw == ""):
                if field.default is dataclasses.MISSING and not optional:
                    raise ConfigError(f"{var} is required")
                continue
            values[field.name] = _convert(var, raw, kind)
        return cls(**values)


def read_secret(value: str | None, path: str | None, name: str) -> str | None:
    """A secret given inline (`NAME`) or as a file (`NAME_FILE`, e.g. a mounted Secret)."""
    if value:
        return value.replace("\\n", "\n")
    if path:
        try:
            return Path(path).read_text()
        except OSError as exc:
            raise ConfigError(f"{name}_FILE={path} cannot be read: {exc}") from None
    return None


@dataclass(frozen=True)
class CommonSettings(FromEnv):
    """What every process of the system reads."""

    ticketing_namespace: str = DEFAULT_NAMESPACE
    mongo_url: str | None = None
    amqp_url: str = "amqp://guest:guest@127.0.0.1:5672/%2F"
    redis_url: str = "redis://127.0.0.1:6379/0"
    # Connections each process keeps to Redis at most; a command beyond them waits up to
    # REDIS_POOL_TIMEOUT_SECONDS for a free one (then UNAVAILABLE) instead of failing at once.
    # Under a burst the wait is the CPU's queue, not Redis's: 1,000 concurrent requests on a
    # busy 2-core machine all got through with 100 and 10 s (the gateway's RPC deadline), 418
    # were turned away with 50 and 5 s.
    redis_max_connections: int = 100
    redis_pool_timeout_seconds: float = 10.0
    # Connecting, and waiting for one reply: every command of this system is a quick one.
    redis_socket_timeout_seconds: float = 2.0
    # The public keys that verify session tokens: one PEM block, or several during a key rollover
    # (docs/security.md, "Tokens bound to their deployment").
    jwt_public_key: str | None = None
    jwt_public_key_file: str | None = None
    # A session token's `iss` (what issued it) and `aud` (what accepts it), signed in by auth and
    # required by every verifier; unset: urn:ticketing:<namespace> and urn:ticketing:<namespace>:api
    # (common.jwt.TokenBinding), so deployments in different namespaces refuse each other's tokens.
    jwt_issuer: str | None = None
    jwt_audience: str | None = None
    # Which process is calling (common/service_identity.py, docs/security.md): this process's
    # own Ed25519 private key (`{service}` in the path is its name: gateway, tickets...), which
    # signs the service tokens of its calls, and the directory of the public keys (`<name>.pem`)
    # of the callers its gRPC server admits. `ticketing run` generates a set in .run/service-keys.
    service_private_key: str | None = None
    service_private_key_file: str | None = None
    service_public_keys_dir: str | None = None
    log_level: str = "INFO"
    # Traces (common/tracing.py) go to this OTLP/gRPC collector, e.g. http://otel-collector:4317;
    # unset: trace ids are made (logs carry them) but no span is recorded or exported.
    otel_exporter_otlp_endpoint: str | None = None
    # The service name traces are reported under; unset: the process's (gateway, orders...).
    otel_service_name: str | None = None
    # Interface the servers listen on; `ticketing run` keeps everything on loopback.
    bind_host: str = "0.0.0.0"
    # Where the services listen (servers) and where to reach them (clients).
    auth_port: int = 50051
    tickets_port: int = 50052
    orders_port: int = 50053
    payments_port: int = 50054
    expiration_port: int = 50055
    insights_port: int = 50056
    auth_addr: str | None = None
    tickets_addr: str | None = None
    orders_addr: str | None = None
    payments_addr: str | None = None
    expiration_addr: str | None = None
    insights_addr: str | None = None
    # A gRPC server closes each client connection after this long (with a grace for the calls on
    # it): the client resolves the service's name again and balances over the replicas there
    # are now, so replicas an autoscaler adds get their share within this time.
    grpc_max_connection_age_seconds: float = 30.0
    # Where each gRPC service serves its Prometheus metrics (GET /metrics): a port of its own
    # beside its gRPC one; 0: no metrics server. The gateway serves /metrics on GATEWAY_ADMIN_PORT.
    auth_metrics_port: int = 9101
    tickets_metrics_port: int = 9102
    orders_metrics_port: int = 9103
    payments_metrics_port: int = 9104
    expiration_metrics_port: int = 9105
    insights_metrics_port: int = 9106
    # Event consumers: how often a failing message is tried before it is dead-lettered, and the
    # waits between tries (ms), the last one repeating.
    event_max_attempts: int = 5
    event_retry_delays_ms: tuple[int, ...] = (200, 1000, 5000, 15000)
    # How many messages a consumer handles at once (the channel's prefetch).
    event_prefetch: int = 32
    # How long an event that arrived ahead of its predecessor (the handler said NotYet) keeps
    # waiting in the retry queues before it is dead-lettered: a broker outage or a service
    # restart upstream must fit in it.
    event_wait_budget_seconds: float = 600.0
    # AMQP heartbeat: a connection that misses two is closed (by the broker or by us).
    amqp_heartbeat_seconds: int = 30
    # Seconds a server lets in-flight calls finish after SIGTERM.
    shutdown_grace_seconds: float = 10.0
    # How long sent outbox documents and processed-event ids are kept. An id forgotten, the same
    # event arriving again would be applied again: keep it longer than any redelivery can take,
    # dead letters replayed by an operator included.
    event_retention_hours: float = 168.0
    # Seconds another replica's relay waits before publishing events a relay claimed and did not
    # mark sent (it died or stalled mid-batch); longer than one batch takes to publish.
    outbox_claim_seconds: float = 10.0

    def __post_init__(self) -> None:
        ns = self.ticketing_namespace
        if not ns or not all(c.isalnum() or c in "-_" for c in ns):
            raise ConfigError(f"TICKETING_NAMESPACE must be letters, digits, - or _, got {ns!r}")
        if self.event_max_attempts < 1:
            raise ConfigError("EVENT_MAX_ATTEMPTS must be at least 1")
        if not self.event_retry_delays_ms:
            raise ConfigError("EVENT_RETRY_DELAYS_MS needs at least one delay")
        if self.redis_max_connections < 1:
            raise ConfigError("REDIS_MAX_CONNECTIONS must be at least 1")
        if self.event_prefetch < 1:
            raise ConfigError("EVENT_PREFETCH must be at least 1")
        if self.event_wait_budget_seconds < 0:
            raise ConfigError("EVENT_WAIT_BUDGET_SECONDS must not be negative")
        if self.amqp_heartbeat_seconds < 1:
            raise ConfigError("AMQP_HEARTBEAT_SECONDS must be at least 1")
        if self.event_retention_hours <= 0:
            raise ConfigError("EVENT_RETENTION_HOURS must be positive")
        if self.grpc_max_connection_age_seconds <= 0:
            raise ConfigError("GRPC_MAX_CONNECTION_AGE_SECONDS must be positive")
        if self.outbox_claim_seconds <= 0:
            raise ConfigError("OUTBOX_CLAIM_SECONDS must be positive")
        for field in dataclasses.fields(self):
            if field.name.endswith("_metrics_port") and not 0 <= getattr(self, field.name) < 65536:
                raise ConfigError(f"{field.name.upper()} must be a port (0: no metrics server)")

    @property
    def namespace(self) -> str:
        return self.ticketing_namespace

    def require_mongo_url(self) -> str:
        if not self.mongo_url:
            raise ConfigError(
                "MONGO_URL is required (`ticketing run` starts an embedded server and sets it)"
            )
        return self.mongo_url

    def public_keys(self) -> str:
        """The PEM text of JWT_PUBLIC_KEY(_FILE): one public key or several."""
        key = read_secret(self.jwt_public_key, self.jwt_public_key_file, "JWT_PUBLIC_KEY")
        if not key:
            raise ConfigError("JWT_PUBLIC_KEY or JWT_PUBLIC_KEY_FILE is required")
        return key

    def service_private_key_of(self, name: str) -> str:
        """The PEM of process `name`'s own service key."""
        path = (self.service_private_key_file or "").replace("{service}", name) or None
        key = read_secret(self.service_private_key, path, "SERVICE_PRIVATE_KEY")
        if not key:
            raise ConfigError(
                f"SERVICE_PRIVATE_KEY or SERVICE_PRIVATE_KEY_FILE is required ({name} calls "
                "other services with a service token; `ticketing service-keys DIR` makes a set)"
            )
        return key

    def require_service_public_keys_dir(self) -> str:
        if not self.service_public_keys_dir:
            raise ConfigError(
                "SERVICE_PUBLIC_KEYS_DIR is required (the callers' public keys, <name>.pem; "
                "`ticketing service-keys DIR` makes a set)"
            )
        return self.service_public_keys_dir

    def port_of(self, service: str) -> int:
        return int(getattr(self, f"{service}_port"))

    def metrics_port_of(self, service: str) -> int:
        """The port `service` serves its metrics on (0: none)."""
        return int(getattr(self, f"{service}_metrics_port"))

    def addr_of(self, service: str) -> str:
        return getattr(self, f"{service}_addr") or f"127.0.0.1:{self.port_of(service)}"
