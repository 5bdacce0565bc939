"""Shared fixtures: real servers on free ports, a private namespace per test.

SecantusDB is started once per session on a free port (in-memory storage). RabbitMQ and Redis are
the machine's own (AMQP_URL / REDIS_URL, default loopback); each test gets its own
TICKETING_NAMESPACE, so exchanges, queues, Redis keys and databases never collide, and removes
what it created.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from common.jwt import generate_key_pair
from common.processes import GRPC_SERVICES
from common.service_identity import generate_keys, key_settings
from tests.support import servers
from tests.support.tracing import recorder

TESTS = Path(__file__).resolve().parent
# A test is marked by its folder under tests/, so `pytest -m <layer>` selects that folder; each
# marker is registered, with what it needs, in pyproject.toml. (tests/chaos holds `make chaos`, no
# tests: its short run, tests/e2e/test_chaos.py, is marked `chaos` as well as `e2e`.)
LAYERS = ("unit", "integration", "e2e", "browser", "chaos", "fuzz", "deploy")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        parts = item.path.relative_to(TESTS).parts if item.path.is_relative_to(TESTS) else ()
        if len(parts) > 1 and parts[0] in LAYERS:
            item.add_marker(parts[0])


@pytest.fixture(scope="session")
def amqp_url() -> str:
    url = os.environ.get("AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/%2F")
    servers.require_rabbitmq(url)
    return url


@pytest.fixture(scope="session")
def redis_url() -> str:
    url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
    servers.require_redis(url)
    return url


@pytest.fixture(scope="session")
def mongo_url() -> Iterator[str]:
    with servers.secantus() as url:
        yield url


@pytest.fixture(scope="session")
def jwt_keys() -> tuple[str, str]:
    return generate_key_pair()


@pytest.fixture(scope="session")
def service_keys(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A service key pair per process (and `cli`): common/service_identity.py's layout."""
    directory = tmp_path_factory.mktemp("service-keys")
    generate_keys(directory)
    return directory


@pytest.fixture(scope="session")
def ticket_keys(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A ticket-code key ring signing since 2020 (svc_delivery/adapters/signing_keys.py)."""
    from svc_delivery.adapters.signing_keys import generate

    directory = tmp_path_factory.mktemp("ticket-keys")
    generate(directory, datetime(2020, 1, 1, tzinfo=UTC))
    return directory


@pytest.fixture
def namespace(amqp_url: str, redis_url: str, mongo_url: str) -> Iterator[str]:
    ns = f"t{uuid.uuid4().hex[:12]}"
    yield ns
    servers.remove_namespace(ns, amqp_url, redis_url, mongo_url)


@pytest.fixture
def env(
    namespace: str,
    amqp_url: str,
    redis_url: str,
    mongo_url: str,
    jwt_keys,
    service_keys: Path,
    ticket_keys: Path,
) -> dict[str, str]:
    """Settings for processes of this test, as environment variables. The namespace's revocation
    cache in Redis is marked loaded, as auth marks it on start, so that services tested without
    auth accept tokens (a Redis of a test's own needs servers.mark_revocations_loaded, or auth)."""
    servers.mark_revocations_loaded(redis_url, namespace)
    private, public = jwt_keys
    return {
        "TICKETING_NAMESPACE": namespace,
        "MONGO_URL": mongo_url,
        "AMQP_URL": amqp_url,
        "REDIS_URL": redis_url,
        "JWT_PRIVATE_KEY": private,
        "JWT_PUBLIC_KEY": public,
        **key_settings(service_keys),
        "TICKET_KEYS_DIR": str(ticket_keys),
        "BIND_HOST": "127.0.0.1",
        "EVENT_MAX_ATTEMPTS": "3",
        "EVENT_RETRY_DELAYS_MS": ",".join(map(str, servers.TEST_RETRY_DELAYS_MS)),
        "LOG_LEVEL": "WARNING",
        # No metrics servers (their default ports would collide between tests); the tests that
        # scrape them give them free ports.
        **{f"{s.name.upper()}_METRICS_PORT": "0" for s in GRPC_SERVICES},
        **servers.RATE_LIMITS_OFF,
        # Payments reconciles its ledger with Stripe only when a test asks it to.
        "RECONCILIATION_INTERVAL_SECONDS": "0",
    }


@pytest.fixture(scope="session")
def stripe_api_base() -> Iterator[str]:
    with servers.stripe_standin() as url:
        yield url


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    """Every span finished during the test (sampled only while it runs)."""
    with recorder().recording() as exporter:
        yield exporter
