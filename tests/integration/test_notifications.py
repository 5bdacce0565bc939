"""The notifications service in-process with the machine's RabbitMQ and SecantusDB and a maildev
of the test's own: events published as their producers publish them become mail in maildev, once
each, with the right recipient, subject and amounts; a mail server down is waited out."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime

import pytest
from google.protobuf.message import Message
from prometheus_client import REGISTRY

from common import events
from common.bus import RabbitPublisher
from common.ports import free_port
from common.service import ServiceProcess
from common.service_identity import CLI
from svc_notifications.bootstrap import bootstrap
from svc_notifications.config import NotificationsSettings
from tests.support import service_tokens
from tests.support.bus_probe import eventually
from tests.support.maildev import Maildev
from ticketing.events.v1 import delivery_pb2, orders_pb2, payments_pb2, users_pb2
from ticketing.notifications.v1 import notifications_pb2 as pb
from ticketing.notifications.v1 import notifications_pb2_grpc
from ticketing.orders.v1 import orders_pb2 as orders_api

pytestmark = pytest.mark.integration

RECORDED = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


class Notifications:
    def __init__(self, env: dict[str, str], smtp_port: int) -> None:
        self.env = {
            **env,
            "SMTP_HOST": "127.0.0.1",
            "SMTP_PORT": str(smtp_port),
            "MAIL_FROM": "Tickets <tickets@ticketing.test>",
            "NOTIFICATIONS_POLL_SECONDS": "0.1",
            "NOTIFICATIONS_RETRY_FIRST_SECONDS": "0.2",
            "NOTIFICATIONS_RETRY_MAX_SECONDS": "0.5",
            "NOTIFICATIONS_MAX_ATTEMPTS": "1000",
        }
        self.process: ServiceProcess | None = None

    async def start(self) -> None:
        self.process = bootstrap(NotificationsSettings.from_env(self.env))
        await self.process.start("127.0.0.1", 0)
        await self.process.wait_consumers_ready()

    async def stop(self) -> None:
        if self.process is not None:
            await self.process.stop()
            self.process = None

    async def mails_of(self, user_id: str) -> list[pb.Notification]:
        assert self.process is not None
        target = f"127.0.0.1:{self.process.port}"
        async with service_tokens.channel(self.env, target, CLI) as channel:
            stub = notifications_pb2_grpc.NotificationsServiceStub(channel)
            reply = await stub.ListNotifications(
                pb.ListNotificationsRequest(user_id=user_id), timeout=5
            )
        return list(reply.notifications)


@pytest.fixture
def maildev() -> Iterator[Maildev]:
    server = Maildev().start()
    yield server
    server.stop()


@pytest.fixture
async def publisher(env) -> AsyncIterator[RabbitPublisher]:
    publisher = RabbitPublisher(env["AMQP_URL"], env["TICKETING_NAMESPACE"])
    yield publisher
    await publisher.close()


async def publish(publisher: RabbitPublisher, event: Message, event_id: str | None = None) -> None:
    """As the outbox relay publishes."""
    doc = events.message_doc(event, event_id or str(uuid.uuid4()), "test", RECORDED)
    await publisher.publish([doc])


async def a_paid_order(publisher: RabbitPublisher, buyer: str, order_id: str) -> None:
    await publish(publisher, users_pb2.UserCreated(id=buyer, email=f"{buyer}@example.test"))
    ticket = orders_pb2.OrderCreated.Ticket(
        id="t1", price="28.50", currency_code="EUR", quantity=2, seller_id="seller"
    )
    await publish(publisher, orders_pb2.OrderCreated(id=order_id, user_id=buyer, ticket=ticket))
    charges = payments_pb2.OrderCharges(quantity=2, subtotal=5700, buyer_fees=570, total=6270)
    await publish(
        publisher,
        payments_pb2.ChargeCreated(
            order_id=order_id, amount=6270, currency_code="EUR", charges=charges
        ),
    )


def completed(order_id: str, buyer: str) -> orders_pb2.OrderUpdated:
    return orders_pb2.OrderUpdated(
        id=order_id, version=2, status=orders_api.ORDER_STATUS_COMPLETE, user_id=buyer
    )


def to(mail: dict) -> str:
    return mail["to"][0]["address"]


def consumed(event_type: str) -> float:
    """Deliveries of `event_type` the notifications consumer handled and acked (this process)."""
    sample = REGISTRY.get_sample_value(
        "ticketing_events_consumed_total", {"service": "notifications", "type": event_type}
    )
    return sample or 0.0


async def test_a_paid_order_arrives_once_even_when_its_event_comes_twice(
    env, maildev, publisher
) -> None:
    service = Notifications(env, maildev.smtp_port)
    await service.start()
    try:
        await a_paid_order(publisher, "buyer1", "order-1")
        event_id = str(uuid.uuid4())
        await publish(publisher, completed("order-1", "buyer1"), event_id)

        async def confirmed() -> bool:
            return any("confirmed" in m["subject"] for m in await maildev.mails())

        await eventually(confirmed, timeout=60)
        [mail] = await maildev.mails()
        assert to(mail) == "buyer1@example.test"
        assert mail["subject"] == "Your order order-1 is confirmed: 62.70 EUR"
        assert "2 x 28.50 EUR: 57.00 EUR" in mail["text"]
        assert "Total charged: 62.70 EUR" in mail["text"]
        assert "5.70 EUR" in mail["html"]
        assert mail["headers"]["message-id"].endswith("@ticketing.test>")
        assert mail["from"][0]["address"] == "tickets@ticketing.test"

        # The same event delivered again, handled (acked) ...
        before = consumed("OrderUpdated")
        await publish(publisher, completed("order-1", "buyer1"), event_id)

        async def handled() -> bool:
            return consumed("OrderUpdated") > before

        await eventually(handled, timeout=60)
        # ... then a sentinel mail: the sender takes due mails oldest first, so a mail the
        # redelivery had queued would be in maildev by the time the sentinel is.
        await publish(
            publisher,
            payments_pb2.RefundIssued(
                order_id="order-1", buyer_id="buyer1", amount=1000, currency_code="EUR"
            ),
        )

        async def sentinel_arrived() -> bool:
            return any("refund" in m["subject"] for m in await maildev.mails())

        await eventually(sentinel_arrived, timeout=60)
        subjects = sorted(m["subject"] for m in await maildev.mails())
        assert subjects == [
            "A refund of 10.00 EUR for order order-1",
            "Your order order-1 is confirmed: 62.70 EUR",
        ]

        listed = await service.mails_of("buyer1")
        assert [n.kind for n in listed] == [
            pb.MAIL_KIND_REFUND_ISSUED,
            pb.MAIL_KIND_ORDER_CONFIRMED,
        ]
        assert all(n.status == pb.MAIL_STATUS_SENT and n.attempts == 1 for n in listed)
        assert all(n.order_id == "order-1" for n in listed)
    finally:
        await service.stop()


async def test_a_mail_server_down_is_waited_out_and_the_mail_sent_once(env, publisher) -> None:
    smtp_port = free_port()  # nothing listens there yet
    service = Notifications(env, smtp_port)
    await service.start()
    maildev = Maildev(smtp_port)
    try:
        await a_paid_order(publisher, "buyer2", "order-2")
        await publish(publisher, completed("order-2", "buyer2"))

        async def tried_and_failed() -> bool:
            listed = await service.mails_of("buyer2")
            return bool(listed) and listed[0].attempts >= 2

        await eventually(tried_and_failed, timeout=60)
        [pending] = await service.mails_of("buyer2")
        assert pending.status == pb.MAIL_STATUS_PENDING

        maildev.start()

        async def sent() -> bool:
            return (await service.mails_of("buyer2"))[0].status == pb.MAIL_STATUS_SENT

        await eventually(sent, timeout=60)
        # A sentinel after it: once it is in, nothing of the first is still on its way.
        await publish(
            publisher,
            payments_pb2.RefundIssued(
                order_id="order-2", buyer_id="buyer2", amount=100, currency_code="EUR"
            ),
        )

        async def sentinel_arrived() -> bool:
            return any("refund" in m["subject"] for m in await maildev.mails())

        await eventually(sentinel_arrived, timeout=60)
        subjects = [m["subject"] for m in await maildev.mails()]
        assert subjects.count("Your order order-2 is confirmed: 62.70 EUR") == 1, subjects
    finally:
        await service.stop()
        maildev.stop()


async def test_a_pass_offered_and_reissued_is_mailed_once_to_each_even_when_redelivered(
    env, maildev, publisher
) -> None:
    service = Notifications(env, maildev.smtp_port)
    await service.start()
    try:
        await publish(publisher, users_pb2.UserCreated(id="giver", email="giver@example.test"))
        # Offered to an address no account has (yet): mailed to the address itself.
        offer = delivery_pb2.PassTransferOffered(
            pass_id="p1", event_id="ev1", holder_id="giver", to_email="friend@example.test"
        )
        offer_id = str(uuid.uuid4())
        await publish(publisher, offer, offer_id)
        await publish(publisher, offer, offer_id)

        async def offered() -> bool:
            return any("offered" in m["subject"] for m in await maildev.mails())

        await eventually(offered, timeout=60)
        [offer_mail] = await maildev.mails()
        assert to(offer_mail) == "friend@example.test"
        assert offer_mail["subject"] == "A ticket was offered to you"
        assert "sign in with this address" in offer_mail["text"]

        # The friend signs up and accepts: the pass is re-issued to them, delivered twice.
        await publish(publisher, users_pb2.UserCreated(id="friend", email="friend@example.test"))
        reissue = delivery_pb2.PassReissued(
            pass_id="p1",
            event_id="ev1",
            previous_holder_id="giver",
            holder_id="friend",
            serial=2,
            revoked_serial=1,
            reason="TRANSFER",
        )
        reissue_id = str(uuid.uuid4())
        before = consumed("PassReissued")
        await publish(publisher, reissue, reissue_id)
        await publish(publisher, reissue, reissue_id)

        async def both_handled() -> bool:
            return consumed("PassReissued") >= before + 2

        await eventually(both_handled, timeout=60)
        # A sentinel after them: once it is in, nothing of theirs is still on its way.
        await publish(
            publisher,
            payments_pb2.RefundIssued(
                order_id="o-s", buyer_id="giver", amount=100, currency_code="EUR"
            ),
        )

        async def sentinel_arrived() -> bool:
            return any("refund" in m["subject"] for m in await maildev.mails())

        await eventually(sentinel_arrived, timeout=60)
        got = sorted((to(m), m["subject"]) for m in await maildev.mails())
        assert got == [
            ("friend@example.test", "A ticket was offered to you"),
            ("friend@example.test", "Your ticket is ready"),
            ("giver@example.test", "A refund of 1.00 EUR for order o-s"),
            ("giver@example.test", "Your ticket was transferred"),
        ]
        gone = next(m for m in await maildev.mails() if m["subject"].startswith("Your ticket was"))
        assert "old code no longer works" in gone["text"]
        kinds = [n.kind for n in await service.mails_of("friend")]
        assert kinds == [pb.MAIL_KIND_TICKET_READY]
    finally:
        await service.stop()


async def test_listing_a_users_mails_is_for_operators_only(env, maildev) -> None:
    service = Notifications(env, maildev.smtp_port)
    await service.start()
    try:
        assert service.process is not None
        target = f"127.0.0.1:{service.process.port}"
        async with service_tokens.channel(env, target) as channel:  # as the gateway
            stub = notifications_pb2_grpc.NotificationsServiceStub(channel)
            with pytest.raises(Exception) as refused:
                await stub.ListNotifications(pb.ListNotificationsRequest(user_id="u"), timeout=5)
        assert refused.value.code().name == "PERMISSION_DENIED"  # type: ignore[attr-defined]
    finally:
        await service.stop()
