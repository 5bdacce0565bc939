"""A person's moves in the web app, in its own words: labels, roles and the texts people read."""

from __future__ import annotations

import re
import uuid
from pathlib import Path

from playwright.sync_api import Page, expect

# The order hold of the browser tests' stack (ORDER_EXPIRATION_SECONDS): long enough to pay in
# the purchase tests, short enough to watch an order expire.
HOLD_SECONDS = 25
PASSWORD = "correct-horse-battery"
# Card numbers of Stripe's test cards, as Stripe and the project's stand-in answer them.
CARD_OK = "4242424242424242"
CARD_3DS = "4000002760003184"  # the bank asks the buyer to confirm (3-D Secure)
CARD_DECLINED = "4000000000000341"  # declined when charged
CARD_DISPUTED = "4000000000000259"  # succeeds, then the cardholder's bank disputes it
# The Stripe stand-in's hosted onboarding page (an account link's url).
ONBOARDING = re.compile(r"/_standin/onboarding/[\w-]+$")


class Screenshots:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.count = 0

    def __call__(self, page: Page, step: str) -> Path:
        self.folder.mkdir(parents=True, exist_ok=True)
        self.count += 1
        path = self.folder / f"{self.count:02d}-{step}.png"
        page.screenshot(path=path, full_page=True)
        return path


def email(role: str) -> str:
    return f"{role}-{uuid.uuid4().hex[:8]}@example.com"


class Person:
    """One browser context: one person with their own session cookie."""

    def __init__(self, page: Page, base_url: str) -> None:
        self.page = page
        self.base_url = base_url

    def open(self, path: str) -> None:
        self.page.goto(self.base_url + path)

    def heading(self):
        return self.page.get_by_role("heading", level=1)

    def sign_up(self, address: str) -> None:
        self.open("/")
        self.page.get_by_role("link", name="Sign up").click()
        expect(self.heading()).to_have_text("Create an account")
        self.page.get_by_label("Email").fill(address)
        self.page.get_by_label("Password").fill(PASSWORD)
        self.page.get_by_role("button", name="Create account").click()
        expect(self.page.get_by_test_id("signed-in-as")).to_have_text(address)

    def sell(self, title: str, price: str, currency: str | None = None) -> str:
        """Lists a ticket (in US dollars, preselected, unless `currency` names another:
        "Euros (EUR)"); returns the path of its page."""
        self.page.get_by_role("navigation", name="Main").get_by_role("link", name="Sell").click()
        expect(self.heading()).to_have_text("Sell a ticket")
        expect(self.page.get_by_label("Currency")).to_have_value("USD")  # in view, not hidden
        self.page.get_by_label("Title").fill(title)
        if currency:
            self.page.get_by_label("Currency").select_option(label=currency)
        self.page.get_by_label("Price").fill(price)
        self.page.get_by_role("button", name="List the ticket").click()
        expect(self.heading()).to_have_text(title)
        expect(self.page.get_by_role("status")).to_contain_text("Your ticket is listed for sale")
        return self.page.url.removeprefix(self.base_url).split("?")[0]

    def set_up_payouts(self) -> None:
        """Payouts page → Stripe's onboarding (the stand-in's hosted page) → "Complete
        onboarding" → back; payable once Stripe's account.updated webhook has arrived."""
        self.open("/payouts")
        expect(self.heading()).to_have_text("Payouts")
        self.page.get_by_role("button", name="Set up payouts").click()
        self.page.wait_for_url(ONBOARDING)
        self.page.get_by_role("button", name="Complete onboarding").click()
        self.page.wait_for_url(re.compile(r"/payouts\?onboarding=return$"))
        expect(self.page.get_by_test_id("seller-account")).to_have_attribute(
            "data-status", "PAYABLE", timeout=30_000
        )
        expect(self.page.get_by_text("Payouts are set up.")).to_be_visible()

    def buy(self, ticket_path: str, price: str) -> str:
        """Orders the ticket; returns the order page's path."""
        self.open(ticket_path)
        self.page.get_by_role("button", name=f"Buy for {price}").click()
        expect(self.status()).to_have_text("Reserved")
        return self.page.url.removeprefix(self.base_url)

    def status(self):
        return self.page.get_by_test_id("order-status")

    def fill_card(self, number: str) -> None:
        """The card form as the Stripe stand-in's Stripe.js draws it (labelled inputs; no postal
        code: the app asks for none)."""
        group = self.page.get_by_role("group", name="Card details")
        group.get_by_label("Card number").fill(number)
        group.get_by_label("Expiry month (MM)").fill("12")
        group.get_by_label("Expiry year (YY)").fill("34")
        group.get_by_label("Security code (CVC)").fill("123")

    def mark_page(self) -> None:
        """A sentinel on the window: still there later means the page was never reloaded."""
        self.page.evaluate("window.__sameDocument = true")

    def same_page(self) -> bool:
        return self.page.evaluate("window.__sameDocument === true")
