"""The notifications service without servers: events become mails in the outbox once, the sender
sends each once and retries temporary failures, and the templates escape what events carry."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from google.protobuf.timestamp_pb2 import Timestamp

from common.clock import FrozenClock
from common.delivery import Delivery
from common.errors import InvalidInput, NotYet
from common.settings import ConfigError
from svc_notifications.adapters.templates import JinjaTemplates
from svc_notifications.config import NotificationsSettings
from svc_notifications.domain.mails import Mail, MailKind, MailStatus, RetryPolicy, mail_id
from svc_notifications.domain.receipts import format_minor
from svc_notifications.service_layer.event_handlers import NotificationHandlers
from svc_notifications.service_layer.reads import notifications_of
from svc_notifications.service_layer.sender import MailSender
from tests.unit.fakes_notifications import FakeMailServer, FakeQueue, FakeUnitOfWork, Store
from ticketing.events.v1 import delivery_pb2, orders_pb2, payments_pb2, users_pb2
from ticketing.orders.v1 import orders_pb2 as orders_api

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def delivery(event, event_id: str | None = None) -> Delivery:
    return Delivery(event_id or str(uuid.uuid4()), event.DESCRIPTOR.full_name, "", 1, "test")


class World:
    def __init__(self) -> None:
        self.store = Store()
        self.clock = FrozenClock(NOW)
        self.handlers = NotificationHandlers(lambda: FakeUnitOfWork(self.store), self.clock)
        self.server = FakeMailServer()
        self.sender = MailSender(
            FakeQueue(self.store),
            self.server,
            JinjaTemplates(),
            RetryPolicy(3, timedelta(seconds=10), timedelta(seconds=60)),
            message_id=lambda i: f"<{i}@ticketing.test>",
            lease=timedelta(seconds=60),
            batch=10,
            clock=self.clock,
        )

    async def on(self, event, event_id: str | None = None) -> None:
        await self.handlers.event_handlers[type(event)](event, delivery(event, event_id))

    async def paid_order(self, buyer: str = "u-buyer") -> None:
        await self.on(users_pb2.UserCreated(id=buyer, email="buyer@example.test"))
        await self.on(
            orders_pb2.OrderCreated(
                id="o1",
                user_id=buyer,
                ticket=orders_pb2.OrderCreated.Ticket(
                    id="t1", price="28.50", currency_code="USD", quantity=2, seller_id="u-seller"
                ),
            )
        )
        await self.on(
            payments_pb2.ChargeCreated(
                order_id="o1",
                amount=6270,
                currency_code="USD",
                charges=payments_pb2.OrderCharges(
                    quantity=2, subtotal=5700, buyer_fees=570, total=6270
                ),
            )
        )


def completed(order_id: str = "o1") -> orders_pb2.OrderUpdated:
    return orders_pb2.OrderUpdated(
        id=order_id, version=2, status=orders_api.ORDER_STATUS_COMPLETE, user_id="u-buyer"
    )


async def test_a_paid_order_is_mailed_once_with_its_all_in_receipt() -> None:
    world = World()
    await world.paid_order()
    await world.on(completed(), event_id="ev-complete")

    assert await world.sender.send_due() == 1
    [mail] = world.server.received
    assert mail.to == "buyer@example.test"
    assert mail.content.subject == "Your order o1 is confirmed: 62.70 USD"
    for line in ("2 x 28.50 USD: 57.00 USD", "Fees: 5.70 USD", "Total charged: 62.70 USD"):
        assert line in mail.content.text
    assert (
        mail.message_id
        == f"<{mail_id('ev-complete', MailKind.ORDER_CONFIRMED, 'u-buyer')}@ticketing.test>"
    )
    assert world.store.mails[mail.mail_id].status is MailStatus.SENT


async def test_a_redelivered_event_makes_no_second_mail() -> None:
    world = World()
    await world.paid_order()
    await world.on(completed(), event_id="ev-complete")
    await world.sender.send_due()
    # The sentinel: a mail of another event, queued after the redelivery, is sent: the sender
    # ran, and only the redelivery made nothing.
    await world.on(completed(), event_id="ev-complete")
    await world.on(
        payments_pb2.RefundIssued(
            order_id="o1", buyer_id="u-buyer", amount=1000, currency_code="USD"
        )
    )
    await world.sender.send_due()
    assert [m.content.subject for m in world.server.received] == [
        "Your order o1 is confirmed: 62.70 USD",
        "A refund of 10.00 USD for order o1",
    ]


async def test_the_outbox_keeps_one_mail_per_event_kind_and_recipient_even_past_the_inbox() -> None:
    store = Store()
    mail = Mail.for_event("ev1", MailKind.PAYOUT_PAID, "u1", {"amount": "1.00 USD"}, NOW)
    async with FakeUnitOfWork(store) as uow:
        assert await uow.mails.add(mail)
        assert not await uow.mails.add(Mail.for_event("ev1", MailKind.PAYOUT_PAID, "u1", {}, NOW))
        assert await uow.mails.add(Mail.for_event("ev1", MailKind.PAYOUT_PAID, "u2", {}, NOW))
        await uow.commit()
    assert len(store.mails) == 2
    assert store.mails[mail.id].facts == {"amount": "1.00 USD"}


async def test_a_completed_order_waits_for_its_charge() -> None:
    world = World()
    await world.on(users_pb2.UserCreated(id="u-buyer", email="buyer@example.test"))
    await world.on(
        orders_pb2.OrderCreated(
            id="o1",
            user_id="u-buyer",
            ticket=orders_pb2.OrderCreated.Ticket(price="10.00", currency_code="USD", quantity=1),
        )
    )
    with pytest.raises(NotYet):
        await world.on(completed(), event_id="ev-complete")
    assert world.store.mails == {}


async def test_the_sender_retries_a_server_down_and_then_sends_once() -> None:
    world = World()
    await world.paid_order()
    await world.on(completed())
    world.server.down_with = 421
    await world.sender.send_due()
    [mail] = world.store.mails.values()
    assert (mail.status, mail.attempts, mail.last_error_code) == (MailStatus.PENDING, 1, 421)
    assert await world.sender.send_due() == 0  # not due before its delay
    world.server.down_with = None
    world.clock.advance(10)
    await world.sender.send_due()
    world.clock.advance(3600)
    await world.sender.send_due()
    assert len(world.server.received) == 1
    assert world.store.mails[mail.id].status is MailStatus.SENT


async def test_a_mail_is_given_up_after_its_attempts() -> None:
    world = World()
    await world.paid_order()
    await world.on(completed())
    world.server.down_with = 451
    for _ in range(5):
        await world.sender.send_due()
        world.clock.advance(3600)
    [mail] = world.store.mails.values()
    assert (mail.status, mail.attempts) == (MailStatus.FAILED, 3)
    assert world.server.received == []


async def test_a_mail_to_a_user_without_an_address_waits_then_is_given_up() -> None:
    world = World()
    await world.on(
        payments_pb2.PayoutPaid(
            order_id="o1", seller_id="u-nobody", amount=990, currency_code="EUR"
        )
    )
    for _ in range(4):
        await world.sender.send_due()
        world.clock.advance(3600)
    [mail] = world.store.mails.values()
    assert mail.status is MailStatus.NO_ADDRESS


async def test_only_an_expired_placed_order_is_told() -> None:
    world = World()
    await world.paid_order()
    await world.on(orders_pb2.OrderCancelled(id="o1", reason="CANCELLED_BY_USER"))
    await world.on(orders_pb2.OrderCancelled(id="o2", reason="EXPIRED", never_placed=True))
    await world.on(orders_pb2.OrderCancelled(id="o1", reason="EXPIRED"))
    await world.sender.send_due()
    assert [m.content.subject for m in world.server.received] == ["Your order o1 expired"]


async def test_a_missed_delivery_tells_buyer_and_seller_and_a_near_deadline_the_seller() -> None:
    world = World()
    await world.on(users_pb2.UserCreated(id="u-buyer", email="buyer@example.test"))
    await world.on(users_pb2.UserCreated(id="u-seller", email="seller@example.test"))
    deadline = Timestamp(seconds=1772366400)  # 2026-03-01 12:00 UTC
    await world.on(
        delivery_pb2.DeliveryDeadlineApproaching(
            order_id="o1", seller_id="u-seller", deliver_by=deadline
        )
    )
    await world.on(
        delivery_pb2.DeliveryMissed(
            order_id="o1", seller_id="u-seller", buyer_id="u-buyer", deliver_by=deadline
        )
    )
    await world.on(delivery_pb2.DeliveryCompleted(order_id="o2", buyer_id="u-buyer", quantity=3))
    await world.sender.send_due()
    got = sorted((m.to, m.content.subject) for m in world.server.received)
    assert got == [
        ("buyer@example.test", "Order o1: the tickets were not delivered in time"),
        ("buyer@example.test", "Your tickets for order o2 are here"),
        ("seller@example.test", "Deliver order o1 by 2026-03-01 12:00 UTC"),
        ("seller@example.test", "Order o1: the tickets were not delivered in time"),
    ]
    missed = {
        m.to: m.content.text for m in world.server.received if "not delivered" in m.content.subject
    }
    assert "you will not be paid" in missed["seller@example.test"]
    assert "refunding you in full" in missed["buyer@example.test"]


async def test_a_changed_address_is_the_one_mailed_and_an_older_change_is_ignored() -> None:
    world = World()
    await world.on(users_pb2.UserCreated(id="u1", email="old@example.test"))
    await world.on(users_pb2.UserUpdated(id="u1", email="new@example.test", version=3))
    await world.on(users_pb2.UserUpdated(id="u1", email="older@example.test", version=2))
    await world.on(
        payments_pb2.RefundIssued(order_id="o1", buyer_id="u1", amount=5, currency_code="JPY")
    )
    await world.sender.send_due()
    [mail] = world.server.received
    assert mail.to == "new@example.test"
    assert "5 JPY" in mail.content.subject


def test_templates_escape_what_an_event_carries_in_html_only() -> None:
    hostile = "<script>alert(1)</script>"
    mail = Mail.for_event(
        "e1", MailKind.REFUND_ISSUED, "u1", {"order_id": hostile, "amount": "1.00 USD"}, NOW
    )
    rendered = JinjaTemplates().render(mail)
    assert hostile not in rendered.html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in rendered.html
    assert hostile in rendered.text


def test_a_subject_is_one_line_whatever_a_value_holds() -> None:
    mail = Mail.for_event(
        "e1", MailKind.PAYOUT_PAID, "u1", {"order_id": "o1\r\nBcc: x@evil.test", "amount": "1"}, NOW
    )
    assert "\n" not in JinjaTemplates().render(mail).subject


def test_every_kind_has_its_templates() -> None:
    facts = {
        "order_id": "o1", "quantity": "1", "unit_price": "1.00 USD", "subtotal": "1.00 USD",
        "buyer_fees": "0.00 USD", "total": "1.00 USD", "amount": "1.00 USD",
        "deliver_by": "2026-03-01 12:00 UTC", "role": "buyer", "reason": "transfer",
    }  # fmt: skip
    # A pass's mails are about no order (tests/unit/test_notifications_passes.py).
    of_a_pass = {MailKind.TRANSFER_RECEIVED, MailKind.TICKET_READY, MailKind.TICKET_HANDED_OVER}
    for kind in MailKind:
        rendered = JinjaTemplates().render(Mail.for_event("e1", kind, "u1", facts, NOW))
        assert rendered.subject and rendered.text.strip() and "</html>" in rendered.html
        if kind not in of_a_pass:
            assert "o1" in rendered.html and "o1" in rendered.text


@pytest.mark.parametrize(
    ("amount", "currency", "shown"),
    [(6270, "USD", "62.70 USD"), (1500, "JPY", "1,500 JPY"), (1250, "KWD", "1.250 KWD"),
     (123456789, "EUR", "1,234,567.89 EUR")],
)  # fmt: skip
def test_money_is_shown_with_the_currencys_own_decimals(amount, currency, shown) -> None:
    assert format_minor(amount, currency) == shown


async def test_listing_a_users_mails_needs_a_user() -> None:
    world = World()
    with pytest.raises(InvalidInput):
        await notifications_of(FakeQueue(world.store), " ", 10)


class GatedServer(FakeMailServer):
    """Takes a mail only when the test opens the gate."""

    def __init__(self) -> None:
        super().__init__()
        self.holding = asyncio.Event()
        self.gate = asyncio.Event()

    async def send(self, mail) -> None:
        self.holding.set()
        await self.gate.wait()
        await super().send(mail)


async def test_stopping_the_sender_mid_send_still_marks_the_mail_it_handed_over() -> None:
    world = World()
    server = GatedServer()
    world.sender.transport = server
    await world.paid_order()
    await world.on(completed())
    round_ = asyncio.ensure_future(world.sender.send_due())
    await server.holding.wait()
    round_.cancel()  # the process stops while the server is taking the mail
    await asyncio.sleep(0)
    assert not round_.done()
    server.gate.set()
    with pytest.raises(asyncio.CancelledError):
        await round_
    [mail] = world.store.mails.values()
    assert mail.status is MailStatus.SENT
    assert len(server.received) == 1


def test_the_settings_defaults_and_refusals() -> None:
    settings = NotificationsSettings.from_env({})
    assert settings.port_of("notifications") == 50059
    assert settings.addr_of("notifications") == "127.0.0.1:50059"
    assert (settings.smtp_port, settings.smtp_starttls, settings.smtp_password) == (25, False, None)
    assert settings.notifications_max_attempts == 8
    assert NotificationsSettings.from_env({"MAIL_FROM": "T <t@shop.test>"}).mail_domain() == (
        "shop.test"
    )
    with pytest.raises(ConfigError, match="MAIL_FROM"):
        NotificationsSettings.from_env({"MAIL_FROM": "nobody"})
    with pytest.raises(ConfigError, match="SMTP_PORT"):
        NotificationsSettings.from_env({"SMTP_PORT": "70000"})
    with pytest.raises(ConfigError, match="NOTIFICATIONS_MAX_ATTEMPTS"):
        NotificationsSettings.from_env({"NOTIFICATIONS_MAX_ATTEMPTS": "0"})
