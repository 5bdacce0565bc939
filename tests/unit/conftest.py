"""The unit layer runs with no server at all: no Redis, RabbitMQ or MongoDB (issue 19). A unit
test that asks for one of their fixtures fails at once, saying where such a test belongs."""

from __future__ import annotations

import pytest

NO_SERVER = "unit tests use no server ({}); a test that needs one belongs in tests/integration"


@pytest.fixture
def redis_url() -> str:
    pytest.fail(NO_SERVER.format("Redis"))


@pytest.fixture
def amqp_url() -> str:
    pytest.fail(NO_SERVER.format("RabbitMQ"))


@pytest.fixture
def mongo_url() -> str:
    pytest.fail(NO_SERVER.format("MongoDB"))
