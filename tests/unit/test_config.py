from __future__ import annotations

from pathlib import Path

import pytest

from common.config import CommonSettings
from common.settings import ConfigError, Flag, IntList, Settings, mask_url

SERVICES = (
    "auth",
    "tickets",
    "orders",
    "payments",
    "expiration",
    "insights",
    "catalogue",
    "delivery",
)


class Sample(Settings):
    """Every kind of field the settings classes read."""

    name: str
    flag: Flag = False
    count: int = 1
    ratio: float = 0.5
    delays: IntList = (1, 2)
    label: str | None = None


# --- CommonSettings defaults --------------------------------------------------------------------


def test_defaults_from_an_empty_environment() -> None:
    settings = CommonSettings.from_env({})

    assert settings.namespace == settings.ticketing_namespace == "ticketing"
    assert settings.amqp_url.get_secret_value() == "amqp://guest:guest@127.0.0.1:5672/%2F"
    assert settings.redis_url.get_secret_value() == "redis://127.0.0.1:6379/0"
    assert settings.mongo_url is None
    assert settings.jwt_public_key is None and settings.jwt_public_key_file is None
    assert settings.log_level == "INFO"
    assert settings.bind_host == "0.0.0.0"
    assert settings.event_max_attempts == 5
    assert settings.event_retry_delays_ms == (200, 1000, 5000, 15000)
    assert settings.shutdown_grace_seconds == 10.0
    assert settings.event_retention_hours == 168.0
    assert settings.outbox_claim_seconds == 10.0
    assert [settings.port_of(s) for s in SERVICES] == [
        50051,
        50052,
        50053,
        50054,
        50055,
        50056,
        50057,
        50058,
    ]


def test_from_env_does_not_read_the_process_environment_when_given_a_mapping(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TICKETING_NAMESPACE", "from-process")
    monkeypatch.setenv("AUTH_PORT", "1")
    settings = CommonSettings.from_env({})
    assert settings.namespace == "ticketing"
    assert settings.auth_port == 50051


def test_from_env_reads_the_process_environment_by_default(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TICKETING_NAMESPACE", "from-process")
    assert CommonSettings.from_env().namespace == "from-process"


def test_values_from_the_environment() -> None:
    settings = CommonSettings.from_env(
        {
            "TICKETING_NAMESPACE": "ci-42",
            "MONGO_URL": "mongodb://db:27017",
            "AMQP_URL": "amqp://mq",
            "REDIS_URL": "redis://cache/1",
            "ORDERS_PORT": "6000",
            "EVENT_MAX_ATTEMPTS": "3",
            "SHUTDOWN_GRACE_SECONDS": "2.5",
            "UNRELATED": "ignored",
        }
    )
    assert settings.namespace == "ci-42"
    assert settings.require_mongo_url() == "mongodb://db:27017"
    assert settings.amqp_url.get_secret_value() == "amqp://mq"
    assert settings.redis_url.get_secret_value() == "redis://cache/1"
    assert settings.orders_port == 6000 and isinstance(settings.orders_port, int)
    assert settings.event_max_attempts == 3
    assert settings.shutdown_grace_seconds == 2.5


def test_overrides_win_over_the_environment() -> None:
    settings = CommonSettings.from_env({"AUTH_PORT": "1234"}, auth_port=4321, log_level="DEBUG")
    assert settings.auth_port == 4321
    assert settings.log_level == "DEBUG"


# --- conversions --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1", True),
        ("true", True),
        ("TRUE", True),
        (" yes ", True),
        ("on", True),
        ("0", False),
        ("false", False),
        ("No", False),
        ("off", False),
    ],
)
def test_bool_parsing(raw: str, expected: bool) -> None:
    assert Sample.from_env({"NAME": "x", "FLAG": raw}).flag is expected


@pytest.mark.parametrize("raw", ["", "maybe", "2", "y"])
def test_bad_bool_names_the_variable(raw: str) -> None:
    with pytest.raises(ConfigError, match="FLAG must be true or false"):
        Sample.from_env({"NAME": "x", "FLAG": raw})


def test_int_and_float_parsing() -> None:
    sample = Sample.from_env({"NAME": "x", "COUNT": "-7", "RATIO": "1e-3"})
    assert sample.count == -7 and type(sample.count) is int
    assert sample.ratio == 0.001 and type(sample.ratio) is float


@pytest.mark.parametrize(
    ("var", "raw"),
    [
        ("AUTH_PORT", "abc"),
        ("TICKETS_PORT", ""),
        ("PAYMENTS_PORT", "50054.5"),
        ("EVENT_MAX_ATTEMPTS", "five"),
        ("SHUTDOWN_GRACE_SECONDS", "soon"),
    ],
)
def test_bad_number_names_the_variable(var: str, raw: str) -> None:
    with pytest.raises(ConfigError) as caught:
        CommonSettings.from_env({var: raw})
    assert var in str(caught.value)
    assert "must be a number" in str(caught.value)
    assert repr(raw) in str(caught.value)


def test_config_error_is_a_value_error() -> None:
    assert issubclass(ConfigError, ValueError)


def test_tuple_parsing() -> None:
    assert Sample.from_env({"NAME": "x", "DELAYS": "5, 10,20,"}).delays == (5, 10, 20)


def test_event_retry_delays_from_the_environment() -> None:
    settings = CommonSettings.from_env({"EVENT_RETRY_DELAYS_MS": "100,200"})
    assert settings.event_retry_delays_ms == (100, 200)


def test_bad_tuple_names_the_variable() -> None:
    with pytest.raises(ConfigError, match="EVENT_RETRY_DELAYS_MS"):
        CommonSettings.from_env({"EVENT_RETRY_DELAYS_MS": "100,soon"})


def test_required_field_missing() -> None:
    with pytest.raises(ConfigError, match="NAME is required"):
        Sample.from_env({})


def test_optional_field_empty_or_unset_is_none() -> None:
    assert Sample.from_env({"NAME": "x"}).label is None
    assert Sample.from_env({"NAME": "x", "LABEL": ""}).label is None
    assert Sample.from_env({"NAME": "x", "LABEL": "set"}).label == "set"


def test_empty_mongo_url_is_unset() -> None:
    settings = CommonSettings.from_env({"MONGO_URL": ""})
    assert settings.mongo_url is None
    with pytest.raises(ConfigError, match="MONGO_URL is required"):
        settings.require_mongo_url()


# --- validation ---------------------------------------------------------------------------------


@pytest.mark.parametrize("namespace", ["", "has space", "dots.not.allowed", "a/b", "x:y", "ü?"])
def test_bad_namespace_is_rejected(namespace: str) -> None:
    with pytest.raises(ConfigError, match="TICKETING_NAMESPACE"):
        CommonSettings.from_env({"TICKETING_NAMESPACE": namespace})


@pytest.mark.parametrize("namespace", ["ticketing", "dev-1", "ci_run_42", "A"])
def test_good_namespace_is_accepted(namespace: str) -> None:
    assert CommonSettings.from_env({"TICKETING_NAMESPACE": namespace}).namespace == namespace


@pytest.mark.parametrize("attempts", ["0", "-1"])
def test_event_max_attempts_must_be_positive(attempts: str) -> None:
    with pytest.raises(ConfigError, match="EVENT_MAX_ATTEMPTS"):
        CommonSettings.from_env({"EVENT_MAX_ATTEMPTS": attempts})


def test_event_retry_delays_must_not_be_empty() -> None:
    with pytest.raises(ConfigError, match="EVENT_RETRY_DELAYS_MS"):
        CommonSettings.from_env({}, event_retry_delays_ms=())


def test_bus_settings_defaults() -> None:
    settings = CommonSettings.from_env({})
    assert settings.event_prefetch == 32
    assert settings.event_wait_budget_seconds == 600.0
    assert settings.amqp_heartbeat_seconds == 30


def test_bus_settings_from_the_environment() -> None:
    settings = CommonSettings.from_env(
        {
            "EVENT_PREFETCH": "8",
            "EVENT_WAIT_BUDGET_SECONDS": "1.5",
            "AMQP_HEARTBEAT_SECONDS": "2",
        }
    )
    assert settings.event_prefetch == 8
    assert settings.event_wait_budget_seconds == 1.5
    assert settings.amqp_heartbeat_seconds == 2


@pytest.mark.parametrize(
    ("var", "raw"),
    [
        ("EVENT_PREFETCH", "0"),
        ("EVENT_WAIT_BUDGET_SECONDS", "-1"),
        ("AMQP_HEARTBEAT_SECONDS", "0"),
        ("EVENT_PREFETCH", "many"),
    ],
)
def test_bad_bus_settings_name_the_variable(var: str, raw: str) -> None:
    with pytest.raises(ConfigError, match=var):
        CommonSettings.from_env({var: raw})


@pytest.mark.parametrize("var", ["EVENT_RETENTION_HOURS", "OUTBOX_CLAIM_SECONDS"])
@pytest.mark.parametrize("raw", ["0", "-1"])
def test_event_retention_and_outbox_claim_must_be_positive(var: str, raw: str) -> None:
    with pytest.raises(ConfigError, match=var):
        CommonSettings.from_env({var: raw})


# --- addresses ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("service", "port"), list(zip(SERVICES, range(50051, 50059), strict=True)))
def test_addr_of_defaults_to_loopback_and_the_port(service: str, port: int) -> None:
    assert CommonSettings.from_env({}).addr_of(service) == f"127.0.0.1:{port}"


def test_addr_of_follows_a_changed_port() -> None:
    settings = CommonSettings.from_env({"TICKETS_PORT": "7000"})
    assert settings.addr_of("tickets") == "127.0.0.1:7000"
    assert settings.port_of("tickets") == 7000


def test_addr_of_override() -> None:
    settings = CommonSettings.from_env(
        {"AUTH_ADDR": "auth.ticketing.svc:50051", "ORDERS_ADDR": "", "ORDERS_PORT": "6003"}
    )
    assert settings.addr_of("auth") == "auth.ticketing.svc:50051"
    assert settings.addr_of("orders") == "127.0.0.1:6003"  # empty means unset


def test_addr_of_an_unknown_service_fails() -> None:
    with pytest.raises(AttributeError):
        CommonSettings.from_env({}).addr_of("nope")


# --- the public key -----------------------------------------------------------------------------


def test_public_key_inline_with_escaped_newlines() -> None:
    settings = CommonSettings.from_env({"JWT_PUBLIC_KEY": "-----BEGIN-----\\nabc\\n-----END-----"})
    assert settings.public_keys() == "-----BEGIN-----\nabc\n-----END-----"


def test_public_key_from_a_file(tmp_path: Path) -> None:
    path = tmp_path / "jwt.pub"
    path.write_text("-----BEGIN PUBLIC KEY-----\nxyz\n")
    settings = CommonSettings.from_env({"JWT_PUBLIC_KEY_FILE": str(path)})
    assert settings.public_keys() == "-----BEGIN PUBLIC KEY-----\nxyz\n"


def test_inline_public_key_wins_over_the_file(tmp_path: Path) -> None:
    path = tmp_path / "jwt.pub"
    path.write_text("from file")
    env = {"JWT_PUBLIC_KEY": "inline", "JWT_PUBLIC_KEY_FILE": str(path)}
    assert CommonSettings.from_env(env).public_keys() == "inline"


def test_an_unreadable_file_is_refused_at_load_naming_the_variable(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"JWT_PUBLIC_KEY_FILE=.*missing cannot be read"):
        CommonSettings.from_env({"JWT_PUBLIC_KEY_FILE": str(tmp_path / "missing")})


def test_missing_public_key() -> None:
    with pytest.raises(ConfigError, match="JWT_PUBLIC_KEY or JWT_PUBLIC_KEY_FILE is required"):
        CommonSettings.from_env({}).public_keys()


@pytest.mark.parametrize("age", ["0", "-1"])
def test_grpc_max_connection_age_must_be_positive(age: str) -> None:
    with pytest.raises(ConfigError, match="GRPC_MAX_CONNECTION_AGE_SECONDS must be positive"):
        CommonSettings.from_env({"GRPC_MAX_CONNECTION_AGE_SECONDS": age})


# --- secrets and URLs ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("amqp://guest:guest@127.0.0.1:5672/%2F", "amqp://guest:**********@127.0.0.1:5672/%2F"),
        ("rediss://:pw@cache:6380/0", "rediss://:**********@cache:6380/0"),
        ("redis://cache:6379/0?password=pw&db=1", "redis://cache:6379/0?password=**********&db=1"),
        (
            "mongodb://u:p%40ss@h1:27017,h2:27017/?replicaSet=rs",
            "mongodb://u:**********@h1:27017,h2:27017/?replicaSet=rs",
        ),
        ("redis://127.0.0.1:6379/0", "redis://127.0.0.1:6379/0"),
        ("user:pw@host", "**********"),
    ],
)
def test_a_url_shows_everything_but_its_password(url: str, shown: str) -> None:
    assert mask_url(url) == shown


@pytest.mark.parametrize(
    ("var", "raw", "message"),
    [
        (
            "AMQP_URL",
            "http://u:pw@mq/",
            "AMQP_URL must be a URL starting amqp:// or amqps://, not http://",
        ),
        (
            "REDIS_URL",
            "cache:6379",
            "REDIS_URL must be a URL starting redis:// or rediss:// or unix://",
        ),
        (
            "MONGO_URL",
            "postgres://db/x",
            "MONGO_URL must be a URL starting mongodb:// or mongodb+srv://, not postgres://",
        ),
        ("SERVICE_PRIVATE_KEY", "not a key", "SERVICE_PRIVATE_KEY must be a PEM private key"),
    ],
)
def test_a_url_or_key_of_the_wrong_kind_is_refused_naming_the_variable(
    var: str, raw: str, message: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        CommonSettings.from_env({var: raw})
    assert str(caught.value).startswith(message)
    assert "pw" not in str(caught.value) and "not a key" not in str(caught.value)
