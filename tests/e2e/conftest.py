from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.support import servers
from tests.support.stack import RunningStack, start_stack


@pytest.fixture(scope="session")
def stack(tmp_path_factory, amqp_url, redis_url) -> Iterator[RunningStack]:
    """One `ticketing run` for the e2e session: embedded SecantusDB, every service, the gateway."""
    # The recommender retrains every 2 s, so tickets listed by a test are ranked soon after.
    running = start_stack(
        tmp_path_factory.mktemp("stack"), extra_env={"INSIGHTS_RETRAIN_SECONDS": "2"}
    )
    yield running
    running.stop()
    servers.remove_namespace(running.namespace, amqp_url, redis_url, "")


@pytest.fixture
def client(stack) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=stack.base_url, timeout=20) as c:
        yield c
