"""The mails of passes changing hands (delivery's pass.transfer_offered and pass.reissued): an
offer is mailed to the address itself, a re-issue to the new holder and to the previous one,
each once per event, with no code and no address anywhere but the recipients' copy."""

from __future__ import annotations

import logging

import pytest

from svc_notifications.domain.mails import MailKind, MailStatus
from svc_notifications.domain.recipients import ADDRESS_PREFIX, Recipient
from tests.unit.test_notifications import World
from ticketing.events.v1 import delivery_pb2, payments_pb2, users_pb2


def offered(to_email: str = "Friend@Example.test") -> delivery_pb2.PassTransferOffered:
    return delivery_pb2.PassTransferOffered(
        pass_id="p1", event_id="ev-concert", holder_id="u-giver", to_email=to_email
    )


def reissued(reason: str = "TRANSFER") -> delivery_pb2.PassReissued:
    return delivery_pb2.PassReissued(
        pass_id="p1",
        event_id="ev-concert",
        previous_holder_id="u-giver",
        holder_id="u-taker",
        serial=2,
        revoked_serial=1,
        reason=reason,
    )


async def test_an_offer_is_mailed_to_the_address_itself_with_what_to_do() -> None:
    world = World()  # no user has that address: it is mailed all the same
    await world.on(offered(), event_id="ev-offer")

    assert await world.sender.send_due() == 1
    [mail] = world.server.received
    assert mail.to == "Friend@Example.test"
    assert mail.content.subject == "A ticket was offered to you"
    for part in (mail.content.text, mail.content.html):
        assert "sign in with this address" in part and "sign up with it" in part
        assert "accept the transfer" in part
        assert "activity on your account" not in part  # the address may have no account
    [queued] = world.store.mails.values()
    assert queued.recipient_id.startswith(ADDRESS_PREFIX)
    assert "Friend@Example.test".lower() not in repr(queued).lower()  # the mail holds no address
    assert queued.status is MailStatus.SENT


async def test_an_offer_redelivered_or_made_again_to_the_same_address_mails_per_event() -> None:
    world = World()
    await world.on(offered(), event_id="ev-offer")
    await world.on(offered(), event_id="ev-offer")  # redelivered: nothing new
    await world.sender.send_due()
    await world.on(offered(" friend@example.TEST "), event_id="ev-offer-2")  # a new offer
    await world.sender.send_due()
    assert [m.to for m in world.server.received] == ["Friend@Example.test", "friend@example.TEST"]
    assert len({m.recipient_id for m in world.store.mails.values()}) == 1  # one address


async def test_an_offer_without_an_address_mails_nobody_and_logs_no_address(caplog) -> None:
    world = World()
    with caplog.at_level(logging.INFO, logger="svc_notifications"):
        await world.on(offered("not-an-address"), event_id="ev-bad")
        await world.on(offered(), event_id="ev-good")  # the sentinel: the good one is queued
        await world.sender.send_due()
    assert [m.to for m in world.server.received] == ["Friend@Example.test"]
    assert "ev-bad" in world.store.inbox  # handled, not retried
    logged = " ".join(f"{r.getMessage()} {r.__dict__}" for r in caplog.records)
    assert "not-an-address" not in logged and "friend@example.test" not in logged.lower()
    assert "a transfer offer names no address" in logged


@pytest.mark.parametrize(
    ("reason", "handed_over", "ready_line"),
    [
        ("TRANSFER", "Your ticket was transferred", "ticket transferred to you"),
        ("RESALE", "Your ticket was resold", "ticket you bought on resale"),
    ],
)
async def test_a_reissue_tells_the_new_holder_and_the_previous_one(
    reason, handed_over, ready_line
) -> None:
    world = World()
    await world.on(users_pb2.UserCreated(id="u-giver", email="giver@example.test"))
    await world.on(users_pb2.UserCreated(id="u-taker", email="taker@example.test"))
    await world.on(reissued(reason), event_id="ev-reissue")

    assert await world.sender.send_due() == 2
    mails = {m.to: m.content for m in world.server.received}
    ready, gone = mails["taker@example.test"], mails["giver@example.test"]
    assert ready.subject == "Your ticket is ready"
    assert ready_line in " ".join(ready.text.split())
    assert "Open your tickets in the app" in ready.text
    assert gone.subject == handed_over
    for part in (gone.text, gone.html):
        assert "old code no longer works" in part
    kinds = {m.recipient_id: m.kind for m in world.store.mails.values()}
    assert kinds == {"u-taker": MailKind.TICKET_READY, "u-giver": MailKind.TICKET_HANDED_OVER}


async def test_a_redelivered_reissue_makes_no_second_mails() -> None:
    world = World()
    await world.on(users_pb2.UserCreated(id="u-giver", email="giver@example.test"))
    await world.on(users_pb2.UserCreated(id="u-taker", email="taker@example.test"))
    await world.on(reissued(), event_id="ev-reissue")
    await world.sender.send_due()
    await world.on(reissued(), event_id="ev-reissue")
    # The sentinel: a mail of another event, queued after the redelivery, is sent.
    await world.on(
        payments_pb2.RefundIssued(order_id="o1", buyer_id="u-taker", amount=1, currency_code="USD")
    )
    await world.sender.send_due()
    assert [m.content.subject for m in world.server.received] == [
        "Your ticket is ready",
        "Your ticket was transferred",
        "A refund of 0.01 USD for order o1",
    ]


async def test_a_reissue_of_an_unknown_reason_gets_neutral_words() -> None:
    world = World()
    await world.on(users_pb2.UserCreated(id="u-giver", email="giver@example.test"))
    await world.on(users_pb2.UserCreated(id="u-taker", email="taker@example.test"))
    await world.on(reissued("GIFT"))
    await world.sender.send_due()
    mails = {m.to: m.content for m in world.server.received}
    assert "A ticket is now yours" in mails["taker@example.test"].text
    assert "Your ticket changed hands" in mails["giver@example.test"].text


def test_an_address_recipient_is_one_per_address_and_never_a_user_id() -> None:
    one = Recipient.for_address(" Friend@Example.test ")
    assert one.id == Recipient.for_address("friend@example.test").id
    assert one.email == "Friend@Example.test"
    assert one.id.startswith(ADDRESS_PREFIX) and "friend" not in one.id
    assert one.id != Recipient.for_address("other@example.test").id
