"""A secret setting never prints: not in repr, str, JSON, a log line or an error message; the code
still reads it where it needs it (issue 19, item 3)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from common.logging import JsonFormatter
from common.settings import ConfigError, Settings, is_secret
from gateway.config import GatewaySettings
from svc_auth.config import AuthSettings
from svc_payments.config import PaymentsSettings
from tools.reference.settings import readers

SENTINEL = "Sentinel7f3a9c"
# Values carrying the sentinel where a secret would be: each secret setting accepts some of them
# and refuses the others (a wrong scheme, a key that is not one).
CANDIDATES = (
    f"amqps://ticketing:{SENTINEL}@mq.example.net:5671/ticketing",
    f"rediss://:{SENTINEL}@cache.example.net:6380/0",
    f"mongodb+srv://ticketing:{SENTINEL}@cluster.example.net/?retryWrites=true",
    f"-----BEGIN PRIVATE KEY-----\n{SENTINEL}\n-----END PRIVATE KEY-----\n",
    f"sk_live_{SENTINEL}",
    f"whsec_{SENTINEL}",
    f"http://user:{SENTINEL}@example.net/",
    SENTINEL,
)
# What must be found among them, whatever else a class adds.
KNOWN = {
    (AuthSettings, "JWT_PRIVATE_KEY"),
    (AuthSettings, "SERVICE_PRIVATE_KEY"),
    (AuthSettings, "AMQP_URL"),
    (AuthSettings, "REDIS_URL"),
    (AuthSettings, "MONGO_URL"),
    (PaymentsSettings, "STRIPE_SECRET_KEY"),
    (GatewaySettings, "STRIPE_WEBHOOK_SECRET"),
}


def secret_settings() -> Iterator[tuple[type[Settings], str]]:
    for cls in dict.fromkeys(readers().values()):
        for name, field in cls.model_fields.items():
            if is_secret(field):
                yield cls, name.upper()


def accepts(cls: type[Settings], var: str, value: str) -> bool:
    try:
        cls.from_env({var: value})
    except ConfigError:
        return False
    return True


def printed(settings: Settings) -> dict[str, str]:
    record = logging.LogRecord("test", logging.INFO, __file__, 1, "loaded %s", (settings,), None)
    return {
        "repr": repr(settings),
        "str": str(settings),
        "model_dump_json": settings.model_dump_json(),
        "model_dump": str(settings.model_dump()),
        "log line": JsonFormatter("test").format(record),
    }


def assert_hidden(settings: Settings) -> None:
    for where, text in printed(settings).items():
        assert SENTINEL not in text, f"the secret shows in {where}: {text}"


def test_every_known_secret_is_a_secret_setting() -> None:
    assert set(secret_settings()) >= KNOWN


@pytest.mark.parametrize(("cls", "var"), sorted(KNOWN, key=lambda p: (p[0].__name__, p[1])))
def test_a_known_secret_never_prints(cls: type[Settings], var: str) -> None:
    value = next(v for v in CANDIDATES if accepts(cls, var, v))
    assert_hidden(cls.from_env({var: value}))


@pytest.mark.parametrize(
    ("cls", "var"), sorted(secret_settings(), key=lambda p: (p[0].__name__, p[1]))
)
def test_every_secret_setting_never_prints_and_is_still_read(
    cls: type[Settings], var: str, tmp_path: Path
) -> None:
    accepted = [v for v in CANDIDATES if accepts(cls, var, v)]
    assert accepted, f"{var} refuses every candidate: add one it accepts"
    value = accepted[0]
    settings = cls.from_env({var: value})
    assert_hidden(settings)
    secret = getattr(settings, var.lower())
    assert secret.get_secret_value() == value.replace("\\n", "\n")
    if f"{var.lower()}_file" in cls.model_fields:  # the same from a file
        path = tmp_path / "secret"
        path.write_text(value)
        from_file = cls.from_env({f"{var}_FILE": str(path)})
        assert_hidden(from_file)
        assert getattr(from_file, var.lower()).get_secret_value() == value


@pytest.mark.parametrize(
    ("cls", "var"), sorted(secret_settings(), key=lambda p: (p[0].__name__, p[1]))
)
def test_a_refused_secret_is_not_echoed_in_the_error(cls: type[Settings], var: str) -> None:
    refused = [v for v in CANDIDATES if not accepts(cls, var, v)]
    for value in refused:
        with pytest.raises(ConfigError) as caught:
            cls.from_env({var: value})
        assert var in str(caught.value)
        assert SENTINEL not in str(caught.value), str(caught.value)
        assert SENTINEL not in str(caught.value.__context__ or "")


def test_a_url_prints_with_its_password_masked_and_connects_with_it() -> None:
    url = f"amqp://ticketing:{SENTINEL}@mq:5672/%2F"
    settings = AuthSettings.from_env({"AMQP_URL": url, "REDIS_URL": f"redis://:{SENTINEL}@r/0"})
    assert "amqp://ticketing:**********@mq:5672/%2F" in repr(settings)
    assert "redis://:**********@r/0" in repr(settings)
    assert settings.amqp_url.get_secret_value() == url


def test_the_secret_a_process_needs_is_what_was_given(tmp_path: Path) -> None:
    pem = f"-----BEGIN PRIVATE KEY-----\\n{SENTINEL}\\n-----END PRIVATE KEY-----"
    auth = AuthSettings.from_env({"JWT_PRIVATE_KEY": pem})
    assert auth.private_key() == pem.replace("\\n", "\n")
    key = tmp_path / "stripe"
    key.write_text(f"sk_test_{SENTINEL}\n")
    assert PaymentsSettings.from_env({"STRIPE_SECRET_KEY_FILE": str(key)}).secret_key() == (
        f"sk_test_{SENTINEL}"
    )
    webhook = GatewaySettings.from_env({"STRIPE_WEBHOOK_SECRET": f"whsec_{SENTINEL}"})
    assert webhook.webhook_secret() == f"whsec_{SENTINEL}"
