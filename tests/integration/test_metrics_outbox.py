"""The outbox's backlog as Prometheus scrapes it (read from SecantusDB at scrape time, on the
service's loop, from the metrics server's thread), and the events the relay publishes counted
once the broker confirmed them."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from common.bus import RabbitPublisher
from common.clock import FrozenClock
from common.metrics import exposition
from common.metrics.outbox import OUTBOX_BACKLOG
from common.mongo import OUTBOX, UnitOfWork, database_name, ensure_outbox_indexes, mongo_client
from common.outbox import OutboxRelay
from ticketing.events.v1 import users_pb2

pytestmark = pytest.mark.integration


async def scraped(name: str, **labels: str) -> float | None:
    """A sample of a scrape, made from another thread as the metrics server makes it."""
    text = (await asyncio.to_thread(exposition)).decode()
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()):
                return s.value
    return None


@pytest.fixture
async def outbox(mongo_url, namespace):
    client = mongo_client(mongo_url)
    db = client[database_name(namespace, "probe")]
    await ensure_outbox_indexes(db)
    yield client, db
    await client.close()


async def test_the_backlog_and_its_age_are_read_at_scrape_time(outbox, amqp_url, namespace):
    client, db = outbox
    clock = FrozenClock()
    service = f"probe{uuid.uuid4().hex[:6]}"
    async with UnitOfWork(client, db, service, clock) as uow:
        for i in range(3):
            uow.record(users_pb2.UserCreated(id=f"u{i}", email=f"u{i}@example.com"))
        await uow.commit()
    clock.advance(30)
    token = OUTBOX_BACKLOG.watch(service, db[OUTBOX], asyncio.get_running_loop(), clock)
    published = REGISTRY.get_sample_value(
        "ticketing_events_published_total", {"service": service, "type": "UserCreated"}
    )
    assert published is None  # nothing out yet
    publisher = RabbitPublisher(amqp_url, namespace)
    try:
        assert await scraped("ticketing_outbox_unsent_events", service=service) == 3
        assert await scraped("ticketing_outbox_oldest_unsent_age_seconds", service=service) == 30

        assert await OutboxRelay(db[OUTBOX], publisher.publish, clock=clock).publish_pending() == 3
        assert await scraped("ticketing_outbox_unsent_events", service=service) == 0
        assert await scraped("ticketing_outbox_oldest_unsent_age_seconds", service=service) == 0
        assert (
            REGISTRY.get_sample_value(
                "ticketing_events_published_total", {"service": service, "type": "UserCreated"}
            )
            == 3
        )
    finally:
        OUTBOX_BACKLOG.forget(token)
        await publisher.close()
    assert await scraped("ticketing_outbox_unsent_events", service=service) is None


async def test_a_scrape_from_the_loop_itself_leaves_the_backlog_out_instead_of_blocking(outbox):
    _, db = outbox
    service = f"probe{uuid.uuid4().hex[:6]}"
    token = OUTBOX_BACKLOG.watch(service, db[OUTBOX], asyncio.get_running_loop(), FrozenClock())
    try:
        text = exposition().decode()  # on the loop's own thread: it cannot wait for the loop
    finally:
        OUTBOX_BACKLOG.forget(token)
    assert f'service="{service}"' not in text
    assert "# TYPE ticketing_outbox_unsent_events gauge" in text
