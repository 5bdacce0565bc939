"""A seller sees what a sale pays them on My listings: once a buyer has paid for their seats, the
payout is listed with its amount (the price less the commission), its event and, the seller
having no Stripe account yet, "Waiting for you to set up payouts"."""

from __future__ import annotations

import uuid

from playwright.sync_api import expect

from tests.browser.conftest import DESKTOP
from tests.browser.events_api import ORDER, list_seats, new_event
from tests.browser.market import PASSWORD, Person, email
from tests.support.market import new_key


def test_a_seller_sees_a_paid_sales_payout_waiting_for_them_to_set_up_payouts(
    people, stack, shots, api
):
    name = f"Wet Leg {uuid.uuid4().hex[:6]}"
    event_id = new_event(api, stack, name)
    seller = Person(people.new_page(DESKTOP), stack.base_url)
    address = email("seller")
    seller.sign_up(address)
    listing = list_seats(
        api,
        event_id,
        api.sign_in(address, PASSWORD),
        quantity=2,
        section="Stalls",
        price={"amount": "30", "currencyCode": "USD"},
    )

    seller.open("/listings")
    payouts = seller.page.get_by_role("list", name="Your payouts")
    expect(payouts).to_contain_text("No payouts yet")

    buyer = api.user()
    order = api.data(
        ORDER, buyer, input={"listingId": listing["id"], "quantity": 2, "idempotencyKey": new_key()}
    )["createOrder"]
    assert order["userErrors"] == [], order
    api.pay(buyer, order["order"]["id"])

    seller.page.reload()
    payout = payouts.get_by_test_id("payout")
    expect(payout).to_have_count(1)
    # The seller's proceeds: 2 tickets at 30.00 less the stack's 5 % commission (BROWSER_FEES).
    expect(payout).to_contain_text("$57.00")
    expect(payout).to_contain_text(name)
    expect(payout.get_by_test_id("payout-status")).to_have_text("Waiting for you to set up payouts")
    shots(seller.page, "payout-waiting")
