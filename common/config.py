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

import os
import types
import typing
from collections.abc import Callable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Self
from urllib.parse import parse_qsl, urlencode

from pydantic import (
    AfterValidator,
    BeforeValidator,
    Field,
    Secret,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, EnvSettingsSource, NoDecode, SettingsConfigDict
from pydantic_settings import PydanticBaseSettingsSource as Source

DEFAULT_NAMESPACE = "ticketing"
DEFAULT_AMQP_URL = "amqp://guest:guest@127.0.0.1:5672/%2F"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
MASK = "**********"


class ConfigError(ValueError):
    """A setting is missing or malformed; the message names the variable."""


# ---------------------------------------------------------------- secrets


def mask_url(url: str) -> str:
    """`url` with its password (in the userinfo, or a `password=` query parameter) replaced by
    MASK: amqp://guest:**********@mq:5672/%2F."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        return MASK if url else url  # not a URL: nothing of it can be told harmless
    end = min((i for i in (rest.find("/"), rest.find("?")) if i >= 0), default=len(rest))
    authority, tail = rest[:end], rest[end:]
    userinfo, at, hosts = authority.rpartition("@")
    if at and ":" in userinfo:
        authority = f"{userinfo.split(':', 1)[0]}:{MASK}@{hosts}"
    path, question, query = tail.partition("?")
    if question and "password=" in query.lower():
        pairs = [
            (k, MASK if k.lower() == "password" else v)
            for k, v in parse_qsl(query, keep_blank_values=True)
        ]
        tail = f"{path}?{urlencode(pairs, safe='*')}"
    return f"{scheme}://{authority}{tail}"


class SecretUrl(Secret[str]):
    """A URL that can carry a password (AMQP_URL, REDIS_URL, MONGO_URL): it prints with the
    password masked, `get_secret_value()` is the URL to connect with."""

    def _display(self) -> str:
        return mask_url(self.get_secret_value())


def kinds_of(annotation: Any) -> list[Any]:
    """The types an annotation admits, through Annotated[...] and unions."""
    if typing.get_origin(annotation) is Annotated:
        return kinds_of(typing.get_args(annotation)[0])
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        return [k for arg in typing.get_args(annotation) for k in kinds_of(arg)]
    return [annotation]


def is_secret(field: FieldInfo) -> bool:
    """Whether a field holds a secret (SecretStr, SecretUrl), optional or not."""
    kinds = kinds_of(field.annotation)
    return any(isinstance(k, type) and issubclass(k, (SecretStr, Secret)) for k in kinds)


def admits_none(field: FieldInfo) -> bool:
    return type(None) in kinds_of(field.annotation)


# ---------------------------------------------------------------- value types and rules


@dataclass(frozen=True)
class Rule:
    """A check on a parsed value, with the reason a bad one is refused ("must be positive");
    the error names the variable (`VAR must be positive`)."""

    test: Callable[[Any], bool]
    reason: str

    def __call__(self, value: Any) -> Any:
        if value is not None and not self.test(value):
            raise ValueError(self.reason)
        return value


def rule(test: Callable[[Any], bool], reason: str) -> AfterValidator:
    return AfterValidator(Rule(test, reason))


def at_least(low: float, reason: str | None = None) -> AfterValidator:
    return rule(lambda v: v >= low, reason or f"must be at least {low}")


def between(low: float, high: float) -> AfterValidator:
    return rule(lambda v: low <= v <= high, f"must be between {low} and {high}")


POSITIVE = rule(lambda v: v > 0, "must be positive")
NOT_NEGATIVE = rule(lambda v: v >= 0, "must not be negative")


def rules_of(field: FieldInfo) -> list[str]:
    """The reasons of a field's rules, for the reference page."""
    return [m.func.reason for m in field.metadata if isinstance(getattr(m, "func", None), Rule)]


def _flag(raw: Any) -> Any:
    if not isinstance(raw, str):
        return raw
    lowered = raw.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise ValueError("must be true or false")


def _comma_separated(raw: Any) -> Any:
    if isinstance(raw, str):
        return tuple(part.strip() for part in raw.split(",") if part.strip())
    return raw


def _newlines(raw: Any) -> Any:
    """A PEM given inline in one line, its newlines written as `\\n`."""
    return raw.replace("\\n", "\n") if isinstance(raw, str) else raw


def _pem_private_key(key: SecretStr) -> SecretStr:
    text = key.get_secret_value()
    if "-----BEGIN" not in text or "PRIVATE KEY-----" not in text:
        raise ValueError("must be a PEM private key (-----BEGIN PRIVATE KEY-----...)")
    return key


def url_of(*schemes: str) -> AfterValidator:
    def check(url: SecretUrl) -> SecretUrl:
        if url.get_secret_value().partition("://")[0].lower() not in schemes:
            starts = " or ".join(f"{s}://" for s in schemes)
            scheme, sep, _ = url.get_secret_value().partition("://")
            got = f", not {scheme}://" if sep and scheme.isalnum() else ""
            raise ValueError(f"must be a URL starting {starts}{got}")
        return url

    return AfterValidator(check)


# A boolean: 1/true/yes/on or 0/false/no/off, in any case.
Flag = Annotated[bool, BeforeValidator(_flag)]
# Comma-separated: EVENT_RETRY_DELAYS_MS=200,1000 (not JSON, pydantic-settings' default).
IntList = Annotated[tuple[int, ...], NoDecode, BeforeValidator(_comma_separated)]
StrList = Annotated[tuple[str, ...], NoDecode, BeforeValidator(_comma_separated)]
Pem = Annotated[str, BeforeValidator(_newlines)]
PrivateKeyPem = Annotated[SecretStr, BeforeValidator(_newlines), AfterValidator(_pem_private_key)]
MetricsPort = Annotated[
    int, rule(lambda v: 0 <= v < 65536, "must be a port (0: no metrics server)")
]


# ---------------------------------------------------------------- reading and errors

_REASONS = {
    "int_parsing": "must be a number",
    "int_from_float": "must be a number",
    "int_type": "must be a number",
    "float_parsing": "must be a number",
    "float_type": "must be a number",
    "bool_parsing": "must be true or false",
    "bool_type": "must be true or false",
}


def explain(cls: type[BaseSettings], exc: ValidationError) -> str:
    """The errors of `exc` as the variables they are about; a secret's value is never shown."""
    messages = []
    for error in exc.errors(include_url=False):
        cause = (error.get("ctx") or {}).get("error")
        loc = error["loc"]
        if isinstance(cause, ConfigError) or not loc:
            messages.append(str(cause) if cause is not None else error["msg"])
            continue
        name = str(loc[0])
        var = name.upper()
        if error["type"] == "missing":
            messages.append(f"{var} is required")
            continue
        reason = _REASONS.get(error["type"]) or (str(cause) if cause else error["msg"])
        if len(loc) > 1 and reason == "must be a number":
            reason = "must be comma-separated integers"
        field = cls.model_fields.get(name)
        shown = field is not None and not is_secret(field) and "input" in error
        messages.append(f"{var} {reason}" + (f", got {error['input']!r}" if shown else ""))
    return "; ".join(dict.fromkeys(messages))


# The mapping `from_env` reads instead of os.environ, for the duration of one call.
_ENVIRONMENT: ContextVar[Mapping[str, str] | None] = ContextVar("environment", default=None)


class Environment(EnvSettingsSource):
    """pydantic-settings' environment source over a given mapping (os.environ when None); an
    empty value of a setting that may be unset (`str | None`) leaves it unset."""

    def __init__(self, settings_cls: type[BaseSettings], env: Mapping[str, str] | None) -> None:
        self._given = env
        super().__init__(settings_cls)

    def _load_env_vars(self) -> Mapping[str, str | None]:
        env = os.environ if self._given is None else self._given
        return {name.lower(): value for name, value in env.items()}

    def prepare_field_value(
        self, field_name: str, field: FieldInfo, value: Any, value_is_complex: bool
    ) -> Any:
        if value == "" and admits_none(field):
            return None
        return super().prepare_field_value(field_name, field, value, value_is_complex)


class Settings(BaseSettings):
    """A frozen settings class read from the environment: `Cls.from_env(env=None, **overrides)`.

    A field without a default is required; `X | None` fields are None when unset or empty."""

    model_config = SettingsConfigDict(
        frozen=True, extra="forbid", hide_input_in_errors=True, validate_default=True
    )

    def __init__(self, **values: Any) -> None:
        try:
            super().__init__(**values)
        except ValidationError as exc:
            raise ConfigError(explain(type(self), exc)) from None

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: Source,
        env_settings: Source,
        dotenv_settings: Source,
        file_secret_settings: Source,
    ) -> tuple[Source, ...]:
        return init_settings, Environment(settings_cls, _ENVIRONMENT.get())

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: Any) -> Self:
        """The settings from `env` (the process environment when None), `overrides` winning."""
        token = _ENVIRONMENT.set(env)
        try:
            return cls(**overrides)
        finally:
            _ENVIRONMENT.reset(token)

    @model_validator(mode="before")
    @classmethod
    def _read_secret_files(cls, data: Any) -> Any:
        """`NAME_FILE` gives `NAME` from a file when `NAME` itself is unset; a path with
        `{service}` in it is each process's own (read by `service_private_key_of`)."""
        if not isinstance(data, dict):
            return data
        for name in cls.model_fields:
            path = data.get(f"{name}_file")
            if f"{name}_file" not in cls.model_fields or not path or data.get(name):
                continue
            if "{service}" in str(path):
                continue
            data = {**data, name: read_file(f"{name.upper()}_FILE", str(path))}
        return data


def read_file(var: str, path: str) -> str:
    try:
        return Path(path).read_text()
    except OSError as exc:
        raise ConfigError(f"{var}={path} cannot be read: {exc.strerror or exc}") from None


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
    auth_addr: str | None = _addr("auth")
    tickets_addr: str | None = _addr("tickets")
    orders_addr: str | None = _addr("orders")
    payments_addr: str | None = _addr("payments")
    expiration_addr: str | None = _addr("expiration")
    insights_addr: str | None = _addr("insights")
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
    shutdown_grace_seconds: float = Field(
        10.0, description="Seconds a server lets in-flight calls finish after SIGTERM."
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
                return _pem_private_key(SecretStr(key)).get_secret_value()
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
