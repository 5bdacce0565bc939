"""A seller sets up payouts from the web app: the sell form says listing works before it, the
Payouts page sends them to Stripe's onboarding (the stand-in's page), they come back, Stripe's
account.updated webhook arrives, and the page shows them payable."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import time
import uuid

import httpx
from playwright.sync_api import expect

from tests.browser.conftest import DESKTOP
from tests.browser.market import Person, email
from tests.browser.payouts.conftest import WEBHOOK_SECRET

ONBOARDING = re.compile(r"/_standin/onboarding/(acct_\w+)$")


def deliver_account_updated(base_url: str, account_id: str) -> None:
    """Stripe's account.updated, signed as Stripe signs it (until the stand-in delivers its own
    webhooks); its body says nothing the service believes: payments reads the account."""
    body = json.dumps(
        {
            "id": f"evt_{uuid.uuid4().hex[:14]}",
            "object": "event",
            "type": "account.updated",
            "data": {"object": {"id": account_id, "object": "account"}},
        }
    )
    at = int(time.time())
    digest = hmac.new(WEBHOOK_SECRET.encode(), f"{at}.{body}".encode(), hashlib.sha256)
    reply = httpx.post(
        f"{base_url}/webhooks/stripe",
        content=body,
        headers={
            "stripe-signature": f"t={at},v1={digest.hexdigest()}",
            "content-type": "application/json",
        },
        timeout=20,
    )
    assert (reply.status_code, reply.json()) == (200, {"received": True})


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
    account_id = ONBOARDING.search(page.url).group(1)  # type: ignore[union-attr]
    expect(page.get_by_role("button", name="Complete onboarding")).to_be_visible()
    page.go_back()
    expect(seller.heading()).to_have_text("Payouts")
    needs = page.get_by_role("list", name="What Stripe still needs")
    expect(needs).to_contain_text("A bank account to be paid into")
    expect(needs).to_contain_text("Your acceptance of Stripe's terms of service")
    expect(needs).not_to_contain_text("tos_acceptance")
    shots(page, "pending")

    # Again, to the same account, and finished this time.
    page.get_by_role("button", name="Continue setting up payouts").click()
    page.wait_for_url(ONBOARDING)
    assert ONBOARDING.search(page.url).group(1) == account_id  # type: ignore[union-attr]
    page.get_by_role("button", name="Complete onboarding").click()
    page.wait_for_url(re.compile(r"/payouts\?onboarding=return$"))
    expect(seller.heading()).to_have_text("Payouts")
    expect(page.get_by_test_id("seller-account")).to_have_attribute("data-status", "PENDING")
    expect(page.get_by_role("status")).to_contain_text("Stripe is checking what you gave")
    shots(page, "back-from-stripe")

    # Stripe tells us the account changed; the page, asking again, shows the seller payable.
    deliver_account_updated(stack.base_url, account_id)
    expect(page.get_by_test_id("seller-account")).to_have_attribute("data-status", "PAYABLE")
    expect(page.get_by_text("Payouts are set up.")).to_be_visible()
    shots(page, "payable")

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Sell").click()
    expect(page.get_by_role("button", name="List the ticket")).to_be_visible()
    expect(page.get_by_test_id("payouts-notice")).to_have_count(0)
