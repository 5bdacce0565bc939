"""`ticketing events dead|replay <service>` against the real RabbitMQ, in a namespace of the
test's own: an unknown service is refused, nothing dead says so, and looking creates nothing."""

from __future__ import annotations

import json

import pika
import pika.exceptions
import pytest

from common import bus
from common.cli import main
from common.processes import EVENT_CONSUMERS

pytestmark = pytest.mark.integration


@pytest.fixture
def cli(monkeypatch, amqp_url, namespace, capsys):
    monkeypatch.setenv("AMQP_URL", amqp_url)
    monkeypatch.setenv("TICKETING_NAMESPACE", namespace)

    def run(*args: str) -> tuple[int, str, str]:
        with pytest.raises(SystemExit) as exited:
            main(["events", *args])
        out, err = capsys.readouterr()
        return exited.value.code, out, err

    return run


def exists(amqp_url: str, *, queue: str | None = None, exchange: str | None = None) -> bool:
    """Asked passively: the question creates nothing."""
    connection = bus.connect(amqp_url)
    try:
        channel = connection.channel()
        if queue is not None:
            channel.queue_declare(queue, passive=True)
        if exchange is not None:
            channel.exchange_declare(exchange, passive=True)
        return True
    except pika.exceptions.ChannelClosedByBroker as exc:
        assert exc.reply_code == 404
        return False
    finally:
        connection.close()


def names_of(namespace: str, service: str) -> list[str]:
    return [bus.queue_name(namespace, service), bus.dead_queue_name(namespace, service)]


def test_an_unknown_service_is_refused_with_the_known_ones(cli):
    code, out, err = cli("dead", "paymnets")
    assert code == 2 and out == ""
    assert "invalid choice: 'paymnets'" in err
    assert all(name in err for name in EVENT_CONSUMERS)
    assert cli("replay", "auth")[0] == 2  # auth consumes no events: it has no queue


@pytest.mark.parametrize("service", EVENT_CONSUMERS)
def test_nothing_dead_is_said_and_looking_creates_nothing(cli, amqp_url, namespace, service):
    code, out, err = cli("dead", service)
    assert (code, out, err) == (0, "", f"no dead-lettered events for {service}\n")
    code, out, _ = cli("replay", service)
    assert (code, out) == (0, f"no dead-lettered events for {service}\n")
    for queue in names_of(namespace, service):
        assert not exists(amqp_url, queue=queue), f"{queue} was created"
    assert not exists(amqp_url, exchange=bus.exchange_name(namespace))


def _dead_letter(amqp_url: str, namespace: str, service: str, *, with_queue: bool) -> None:
    connection = bus.connect(amqp_url)
    try:
        channel = connection.channel()
        channel.queue_declare(bus.dead_queue_name(namespace, service), durable=True)
        if with_queue:
            channel.queue_declare(bus.queue_name(namespace, service), durable=True)
        channel.basic_publish(
            "",
            bus.dead_queue_name(namespace, service),
            b"{}",
            pika.BasicProperties(
                message_id="e-1", type="OrderCreated", headers={bus.ATTEMPTS_HEADER: 5}
            ),
        )
    finally:
        connection.close()


def test_a_dead_event_is_shown_then_replayed(cli, amqp_url, namespace):
    _dead_letter(amqp_url, namespace, "payments", with_queue=True)
    code, out, err = cli("dead", "payments")
    assert code == 0 and err == ""
    [letter] = [json.loads(line) for line in out.splitlines()]
    assert (letter["event_id"], letter["type"], letter["attempts"]) == ("e-1", "OrderCreated", 5)
    code, out, _ = cli("replay", "payments")
    assert (code, out) == (0, f"replayed 1 event(s) to {bus.queue_name(namespace, 'payments')}\n")
    assert cli("dead", "payments")[2] == "no dead-lettered events for payments\n"


def test_replaying_into_a_queue_that_does_not_exist_is_refused_and_keeps_the_events(
    cli, amqp_url, namespace
):
    _dead_letter(amqp_url, namespace, "orders", with_queue=False)
    code, out, err = cli("replay", "orders")
    assert code == 1 and out == ""
    assert err == (
        f"error: queue {bus.queue_name(namespace, 'orders')} does not exist: start orders"
        " (it declares its queues), then replay\n"
    )
    assert not exists(amqp_url, queue=bus.queue_name(namespace, "orders"))
    assert json.loads(cli("dead", "orders")[1])["event_id"] == "e-1"
