"""A seller sets up payouts from the web app: the sell form says listing works before it, the
Payouts page sends them to Stripe's onboarding (the stand-in's hosted page), they come back,
Stripe's account.updated webhook arrives (the stand-in delivers it, signed, to the stack's
gateway), and the page shows them payable."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.browser.conftest import DESKTOP
from tests.browser.market import ONBOARDING, Person, email


def test_a_seller_sets_up_payouts_and_is_shown_payable(people, stack, shots):
    seller = Person(people.new_page(DESKTOP), stack.base_url)
    page = seller.page
    seller.sign_up(email("seller"))

    # The sell form: listing works now, payouts wait for the set-up.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Sell").click()
    expect(seller.heading()).to_have_text("Sell a ticket")
    notice = page.get_by_test_id("payouts-notice")
    expect(notice).to_contain_text("You can list tickets now")
    expect(page.get_by_role("button", name="List the ticket")).to_be_enabled()
    shots(page, "sell-form-notice")

    notice.get_by_role("link", name="Set up payouts").click()
    expect(seller.heading()).to_have_text("Payouts")
    expect(page.get_by_text("You have not set up payouts yet.")).to_be_visible()
    shots(page, "not-onboarded")

    # To Stripe's onboarding, and back without finishing: what Stripe needs, in plain words.
    page.get_by_role("button", name="Set up payouts").click()
    page.wait_for_url(ONBOARDING)
    expect(page.get_by_role("button", name="Complete onboarding")).to_be_visible()
    page.go_back()
    expect(seller.heading()).to_have_text("Payouts")
    needs = page.get_by_role("list", name="What Stripe still needs")
    expect(needs).to_contain_text("A bank account to be paid into")
    expect(needs).to_contain_text("Your acceptance of Stripe's terms of service")
    expect(needs).not_to_contain_text("tos_acceptance")
    shots(page, "pending")

    # Again (a fresh link to the same account), and finished this time: back on the page,
    # Stripe's account.updated reaches the gateway and the page, asking again, shows the seller
    # payable.
    page.get_by_role("button", name="Continue setting up payouts").click()
    page.wait_for_url(ONBOARDING)
    page.get_by_role("button", name="Complete onboarding").click()
    page.wait_for_url(re.compile(r"/payouts\?onboarding=return$"))
    expect(seller.heading()).to_have_text("Payouts")
    expect(page.get_by_test_id("seller-account")).to_have_attribute(
        "data-status", "PAYABLE", timeout=30_000
    )
    expect(page.get_by_text("Payouts are set up.")).to_be_visible()
    shots(page, "payable")

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Sell").click()
    expect(page.get_by_role("button", name="List the ticket")).to_be_visible()
    expect(page.get_by_test_id("payouts-notice")).to_have_count(0)
