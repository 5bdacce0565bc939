"""Mail as a buyer gets it: a purchase through the public API, and the order's confirmation with
its all-in receipt arrives in the development mail server `ticketing run` started, once."""

from __future__ import annotations

import httpx
import pytest

from tests.support.ids import raw_id
from tests.support.market import Api


@pytest.fixture
def api(client) -> Api:
    return Api(client)


def test_a_paid_order_mails_its_buyer_the_receipt_once(api, stack) -> None:
    mailbox = f"http://127.0.0.1:{stack.ports['MAIL_WEB_PORT']}/email"
    seller, buyer = api.sign_up(), api.sign_up()
    ticket = api.sell(seller["token"], "Arctic Monkeys, row G", "20")
    order = api.order(buyer["token"], ticket["id"])
    payment = api.pay(buyer["token"], order["id"])
    order_raw = raw_id(order["id"], "Order")
    subject = f"Your order {order_raw} is confirmed"

    def to_buyer() -> list[dict]:
        mails = httpx.get(mailbox, timeout=10).json()
        return [m for m in mails if m["to"][0]["address"] == buyer["user"]["email"]]

    [mail] = api.until(to_buyer, lambda mails: any(subject in m["subject"] for m in mails), 60)
    charged = f"{payment['amount']['amount']} {payment['amount']['currencyCode']}"
    assert mail["subject"] == f"{subject}: {charged}"
    assert f"Total charged: {charged}" in mail["text"]
    assert charged in mail["html"]
    # The seller was mailed nothing about it (a payout comes after the event).
    mails = httpx.get(mailbox, timeout=10).json()
    assert not [m for m in mails if m["to"][0]["address"] == seller["user"]["email"]]
