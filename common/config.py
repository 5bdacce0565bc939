"""Settings, read from the environment once at start (pydantic-settings). Nothing here connects to
anything.

A process's settings class is the one place that lists what it reads: one field per environment
variable (the field's name in capitals), typed, with its default and its `description`, which is
its documentation (docs/reference/settings.md is generated from the classes: `make reference`).
A bad value is a `ConfigError` naming the variable. Secrets are `SecretStr`, URLs that can carry a
password `SecretUrl`: neither prints its secret (repr, str, model_dump, logs, error messages);
the code that needs one calls `get_secret_value()`. A setting `NAME` with a `NAME_FILE` twin may
be given as a file (a mounted Secret), read when the settings are loaded.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field, SecretStr, field_validator

from common.settings import (
    NOT_NEGATIVE,
    POSITIVE,
    ConfigError,
    IntList,
    MetricsPort,
    Pem,
    PrivateKeyPem,
    SecretUrl,
    Settings,
    at_least,
    pem_private_key,
    read_file,
    rule,
    url_of,
)

DEFAULT_NAMESPACE = "ticketing"
DEFAULT_AMQP_URL = "amqp://guest:guest@127.0.0.1:5672/%2F"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"


def _port(service: str, default: int) -> Any:
    return Field(
        default,
        description=f"Where the {service} service's gRPC server listens, and where its clients "
        f"reach it on 127.0.0.1 unless {service.upper()}_ADDR is set.",
    )


def _addr(service: str) -> Any:
    return Field(
        None,
        description=f"Where the {service} service's clients reach it (host:port, or a gRPC "
        f"target such as dns:///{service}:<port>); unset: 127.0.0.1:{service.upper()}_PORT.",
    )


def _metrics_port(service: str, default: int) -> Any:
    return Field(
        default,
        description=f"Where the {service} service serves its Prometheus metrics (GET /metrics), "
        "a port of its own beside its gRPC one; 0: no metrics server.",
    )


class CommonSettings(Settings):
    """What every process of the system reads."""

    ticketing_namespace: str = Field(
        DEFAULT_NAMESPACE,
        description="Prefix of every database, queue, exchange and Redis key of one deployment "
        "(letters, digits, - or _): stacks with different namespaces share servers without "
        "meeting.",
    )
    mongo_url: Annotated[SecretUrl, url_of("mongodb", "mongodb+srv")] | None = Field(
        None,
        description="The MongoDB to keep documents in (a replica set: transactions). Required by "
        "the services that store documents; `ticketing run` starts an embedded server and sets "
        "it.",
    )
    amqp_url: Annotated[SecretUrl, url_of("amqp", "amqps")] = Field(
        SecretUrl(DEFAULT_AMQP_URL),
        description="The RabbitMQ every event goes through (amqp://, amqps:// for TLS); unset: "
        "one on this machine (127.0.0.1:5672, user guest).",
    )
    redis_url: Annotated[SecretUrl, url_of("redis", "rediss", "unix")] = Field(
        SecretUrl(DEFAULT_REDIS_URL),
        description="The Redis of token revocations, rate limits, the ticket cache and the "
        "expiration schedule (redis://, rediss:// for TLS, or unix://); unset: one on this "
        "machine (127.0.0.1:6379, database 0).",
    )
    redis_max_connections: Annotated[int, at_least(1)] = Field(
        100,
        description="Connections each process keeps to Redis at most; a command beyond them "
        "waits up to REDIS_POOL_TIMEOUT_SECONDS for a free one (then UNAVAILABLE) instead of "
        "failing at once. Under a burst the wait is the CPU's queue, not Redis's: 1,000 "
        "concurrent requests on a busy 2-core machine all got through with 100 and 10 s (the "
        "gateway's RPC deadline), 418 were turned away with 50 and 5 s.",
    )
    redis_pool_timeout_seconds: float = Field(
        10.0, description="How long a Redis command waits for a free connection of the pool."
    )
    redis_socket_timeout_seconds: float = Field(
        2.0,
        description="Connecting to Redis, and waiting for one reply: every command of this "
        "system is a quick one.",
    )
    jwt_public_key: Pem | None = Field(
        None,
        description="The public keys that verify session tokens: one PEM block, or several "
        'during a key rollover (docs/security.md, "Tokens bound to their deployment"); inline '
        "newlines may be written as `\\n`. Required by every process that verifies tokens.",
    )
    jwt_public_key_file: str | None = Field(
        None, description="JWT_PUBLIC_KEY from this file (a mounted Secret)."
    )
    jwt_issuer: str | None = Field(
        None,
        description="A session token's `iss` (what issued it), signed in by auth and required by "
        "every verifier; unset: urn:ticketing:<namespace> (common.jwt.TokenBinding), so "
        "deployments in different namespaces refuse each other's tokens.",
    )
    jwt_audience: str | None = Field(
        None,
        description="A session token's `aud` (what accepts it), signed in by auth and required "
        "by every verifier; unset: urn:ticketing:<namespace>:api.",
    )
    service_private_key: PrivateKeyPem | None = Field(
        None,
        description="This process's own Ed25519 private key (PEM), which signs the service "
        "tokens of its calls to other services (common/service_identity.py, docs/security.md). "
        "`ticketing service-keys DIR` makes a set; `ticketing run` generates one in "
        ".run/service-keys.",
    )
    service_private_key_file: str | None = Field(
        None,
        description="SERVICE_PRIVATE_KEY from this file. `{service}` in the path is replaced by "
        "the process's name (gateway, tickets...), so one environment serves a whole stack: "
        ".run/service-keys/private/{service}.pem.",
    )
    service_public_keys_dir: str | None = Field(
        None,
        description="The directory of the public keys (`<name>.pem`) of the callers this "
        "process's gRPC server admits.",
    )
    log_level: str = Field(
        "INFO", description="The least severe level logged (DEBUG, INFO, WARNING, ERROR)."
    )
    otel_exporter_otlp_endpoint: str | None = Field(
        None,
        description="The OTLP/gRPC collector traces (common/tracing.py) go to, e.g. "
        "http://otel-collector:4317; unset: trace ids are made (logs carry them) but no span is "
        "recorded or exported.",
    )
    otel_service_name: str | None = Field(
        None,
        description="The service name traces are reported under; unset: the process's "
        "(gateway, orders...).",
    )
    bind_host: str = Field(
        "0.0.0.0",
        description="Interface the servers listen on; `ticketing run` keeps everything on "
        "loopback.",
    )
    auth_port: int = _port("auth", 50051)
    tickets_port: int = _port("tickets", 50052)
    orders_port: int = _port("orders", 50053)
    payments_port: int = _port("payments", 50054)
    expiration_port: int = _port("expiration", 50055)
    insights_port: int = _port("insights", 50056)
    catalogue_port: int = _port("catalogue", 50057)
    notifications_port: int = _port("notifications", 50059)
    delivery_port: int = _port("delivery", 50058)
    auth_addr: str | None = _addr("auth")
    tickets_addr: str | None = _addr("tickets")
    orders_addr: str | None = _addr("orders")
    payments_addr: str | None = _addr("payments")
    expiration_addr: str | None = _addr("expiration")
    insights_addr: str | None = _addr("insights")
    catalogue_addr: str | None = _addr("catalogue")
    notifications_addr: str | None = _addr("notifications")
    delivery_addr: str | None = _addr("delivery")
    grpc_max_connection_age_seconds: Annotated[float, POSITIVE] = Field(
        30.0,
        description="A gRPC server closes each client connection after this long (with a grace "
        "for the calls on it): the client resolves the service's name again and balances over "
        "the replicas there are now, so replicas an autoscaler adds get their share within this "
        "time.",
    )
    auth_metrics_port: MetricsPort = _metrics_port("auth", 9101)
    tickets_metrics_port: MetricsPort = _metrics_port("tickets", 9102)
    orders_metrics_port: MetricsPort = _metrics_port("orders", 9103)
    payments_metrics_port: MetricsPort = _metrics_port("payments", 9104)
    expiration_metrics_port: MetricsPort = _metrics_port("expiration", 9105)
    insights_metrics_port: MetricsPort = _metrics_port("insights", 9106)
    catalogue_metrics_port: MetricsPort = _metrics_port("catalogue", 9107)
    notifications_metrics_port: MetricsPort = _metrics_port("notifications", 9109)
    delivery_metrics_port: MetricsPort = _metrics_port("delivery", 9108)
    event_max_attempts: Annotated[int, at_least(1)] = Field(
        5,
        description="How often an event consumer tries a failing message before it is "
        "dead-lettered.",
    )
    event_retry_delays_ms: Annotated[
        IntList, rule(bool, "needs at least one delay (comma-separated milliseconds)")
    ] = Field(
        (200, 1000, 5000, 15000),
        description="The waits between an event consumer's tries (ms, comma-separated), the last "
        "one repeating.",
    )
    event_prefetch: Annotated[int, at_least(1)] = Field(
        32, description="How many messages a consumer handles at once (the channel's prefetch)."
    )
    event_wait_budget_seconds: Annotated[float, NOT_NEGATIVE] = Field(
        600.0,
        description="How long an event that arrived ahead of its predecessor (the handler said "
        "NotYet) keeps waiting in the retry queues before it is dead-lettered: a broker outage "
        "or a service restart upstream must fit in it.",
    )
    amqp_heartbeat_seconds: Annotated[int, at_least(1)] = Field(
        30,
        description="AMQP heartbeat: a connection that misses two is closed (by the broker or "
        "by us).",
    )
    shutdown_grace_seconds: Annotated[float, NOT_NEGATIVE] = Field(
        10.0,
        description="Seconds a server lets in-flight calls finish after SIGTERM. What still runs "
        "then is cut off: a service's caller gets UNAVAILABLE, the gateway's client a 503 "
        "UNAVAILABLE with Retry-After, both retried with the same idempotency key.",
    )
    event_retention_hours: Annotated[float, POSITIVE] = Field(
        168.0,
        description="How long sent outbox documents and processed-event ids are kept. An id "
        "forgotten, the same event arriving again would be applied again: keep it longer than "
        "any redelivery can take, dead letters replayed by an operator included.",
    )
    outbox_claim_seconds: Annotated[float, POSITIVE] = Field(
        10.0,
        description="Seconds another replica's relay waits before publishing events a relay "
        "claimed and did not mark sent (it died or stalled mid-batch); longer than one batch "
        "takes to publish.",
    )

    @field_validator("ticketing_namespace")
    @classmethod
    def _namespace(cls, ns: str) -> str:
        if not ns or not all(c.isalnum() or c in "-_" for c in ns):
            raise ValueError("must be letters, digits, - or _")
        return ns

    @property
    def namespace(self) -> str:
        return self.ticketing_namespace

    def require_mongo_url(self) -> str:
        if not self.mongo_url:
            raise ConfigError(
                "MONGO_URL is required (`ticketing run` starts an embedded server and sets it)"
            )
        return self.mongo_url.get_secret_value()

    def public_keys(self) -> str:
        """The PEM text of JWT_PUBLIC_KEY(_FILE): one public key or several."""
        if not self.jwt_public_key:
            raise ConfigError("JWT_PUBLIC_KEY or JWT_PUBLIC_KEY_FILE is required")
        return self.jwt_public_key

    def service_private_key_of(self, name: str) -> str:
        """The PEM of process `name`'s own service key."""
        if self.service_private_key is not None:
            return self.service_private_key.get_secret_value()
        if self.service_private_key_file:
            path = self.service_private_key_file.replace("{service}", name)
            key = read_file("SERVICE_PRIVATE_KEY_FILE", path)
            try:
                return pem_private_key(SecretStr(key)).get_secret_value()
            except ValueError as exc:
                raise ConfigError(f"SERVICE_PRIVATE_KEY_FILE={path} {exc}") from None
        raise ConfigError(
            f"SERVICE_PRIVATE_KEY or SERVICE_PRIVATE_KEY_FILE is required ({name} calls "
            "other services with a service token; `ticketing service-keys DIR` makes a set)"
        )

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
