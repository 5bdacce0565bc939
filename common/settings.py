"""The machinery of settings (pydantic-settings), shared by every process's settings class.

`Settings` is the base class: fields read from the environment (the field's name in capitals),
frozen, a bad value a `ConfigError` naming the variable and never echoing a secret; a `NAME_FILE`
twin read at load. Beside it the value types (`Flag`, `IntList`, `SecretUrl`, `PrivateKeyPem`...)
and the rules a field's type carries (`at_least`, `between`, `POSITIVE`, `rule(...)`), which the
settings reference (tools/reference/settings.py) prints. The settings themselves live with their
process: `common/config.py` (what every process reads), `svc_*/config.py`, `gateway/config.py`.
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
    Secret,
    SecretStr,
    ValidationError,
    model_validator,
)
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, EnvSettingsSource, NoDecode, SettingsConfigDict
from pydantic_settings import PydanticBaseSettingsSource as Source

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


def pem_private_key(key: SecretStr) -> SecretStr:
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
PrivateKeyPem = Annotated[SecretStr, BeforeValidator(_newlines), AfterValidator(pem_private_key)]
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
