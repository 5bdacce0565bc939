"""Publishing: a connection that outlives idleness, batches confirmed whole, nacks raised."""

from __future__ import annotations

import asyncio
import json
import logging

import pytest

from common import bus
from common.bus import RabbitPublisher
from tests.support import servers
from tests.support.bus_probe import doc, user_created
from tests.support.tap import EventTap

pytestmark = pytest.mark.integration


async def test_publishing_after_idling_past_the_heartbeat_uses_the_same_connection(
    namespace, amqp_url, caplog
):
    tap = EventTap(amqp_url, namespace)
    publisher = RabbitPublisher(amqp_url, namespace, heartbeat_seconds=2)
    try:
        with caplog.at_level(logging.WARNING):
            await publisher.publish([doc(user_created("warm"))])
            await asyncio.sleep(6)  # three heartbeats: a silent client would have been dropped
            await publisher.publish([doc(user_created("after-idle"))])
        seen = await asyncio.to_thread(tap.wait_for, 2)
    finally:
        await publisher.close()
        tap.close()
    assert [json.loads(s.body)["id"] for s in seen] == ["warm", "after-idle"]
    assert publisher.connections_opened == 1
    assert [r for r in caplog.records if r.levelno >= logging.WARNING] == []


async def test_a_batch_is_published_whole_and_confirmed(namespace, amqp_url):
    tap = EventTap(amqp_url, namespace)
    publisher = RabbitPublisher(amqp_url, namespace)
    ids = [f"u{i}" for i in range(500)]
    try:
        await publisher.publish([doc(user_created(i)) for i in ids])
        seen = await asyncio.to_thread(tap.wait_for, len(ids))
    finally:
        await publisher.close()
        tap.close()
    assert [json.loads(s.body)["id"] for s in seen] == ids


async def test_publish_raises_when_the_broker_refuses_part_of_a_batch(namespace, amqp_url):
    """A full queue that rejects publishes makes the broker nack: the relay must keep those."""
    publisher = RabbitPublisher(amqp_url, namespace)
    connection = bus.connect(amqp_url)
    channel = connection.channel()
    full = f"{namespace}.full"
    try:
        exchange = bus.declare_exchange(channel, namespace)
        channel.queue_declare(
            full, arguments={"x-max-length": 1, "x-overflow": "reject-publish"}, auto_delete=True
        )
        channel.queue_bind(full, exchange, routing_key="user.created")
        with pytest.raises(bus.Nacked):
            await publisher.publish([doc(user_created(f"u{i}")) for i in range(3)])
        # The channel is still good for the next batch.
        channel.queue_purge(full)
        await publisher.publish([doc(user_created("next"))])
        assert publisher.connections_opened == 1
    finally:
        await publisher.close()
        channel.queue_delete(full)
        connection.close()


async def test_publish_raises_when_the_connection_drops_before_every_confirm_came(
    namespace, amqp_url
):
    proxy = servers.TcpProxy(target_port=5672)
    proxy.start()
    publisher = RabbitPublisher(servers.amqp_url_via(proxy.port), namespace)
    try:
        await publisher.publish([doc(user_created("warm"))])
        batch = asyncio.create_task(
            publisher.publish([doc(user_created(f"u{i}")) for i in range(5000)])
        )
        await asyncio.sleep(0)  # the batch is written; its confirms are yet to come
        proxy.stop()
        with pytest.raises(bus.LinkClosed):
            await asyncio.wait_for(batch, 10)
    finally:
        await publisher.close()
        proxy.stop()
