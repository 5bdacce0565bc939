"""Browsing and accounts in the web app: paging through the tickets for sale, signing in with
the keyboard alone, the API's refusals said in words next to what they are about, signing out,
and a page a person reaches by its address (the gateway answers client routes with the app)."""

from __future__ import annotations

import hashlib
import json
import uuid

import httpx
from playwright.sync_api import expect

from tests.browser.conftest import DESKTOP
from tests.browser.market import PASSWORD, Person, email
from tests.support.market import Api

PAGE_SIZE = 12  # web/src/app/pages/TicketsPage.tsx


def test_paging_through_the_tickets_for_sale(people, stack, shots):
    batch = uuid.uuid4().hex[:6]
    with httpx.Client(base_url=stack.base_url, timeout=20) as client:
        api = Api(client)
        seller = api.user()
        titles = [f"Batch {batch} no. {n:02d}" for n in range(PAGE_SIZE + 2)]
        for title in titles:  # listed oldest first: the list shows the newest first
            api.sell(seller, title=title, price="10")
    person = Person(people.new_page(DESKTOP), stack.base_url)
    sent = graphql_bodies(person)
    person.open("/tickets")  # v1 tickets, listed without an event (the home page is events')
    tickets = person.page.get_by_role("list", name="Tickets for sale").get_by_role("heading")
    expect(tickets).to_have_count(PAGE_SIZE)
    expect(tickets.first).to_have_text(titles[-1])
    shots(person.page, "first-page")
    person.page.get_by_role("button", name="Show more tickets").click()
    # The button is gone with the page it ended; the focus moves to the first ticket loaded.
    expect(person.page.get_by_role("link", name=titles[1])).to_be_focused()
    for title in titles[:2]:  # the two oldest of the batch were on no first page
        expect(person.page.get_by_role("link", name=title)).to_be_visible()
    expect(tickets.nth(PAGE_SIZE)).to_have_text(titles[1])
    shots(person.page, "second-page")

    # Sent as Automatic Persisted Queries (PQ-1): every request names its document by the
    # SHA-256 of its text; the text goes along only when the gateway did not know the hash yet,
    # and it is the text hashed. The second page's Tickets went by hash alone.
    pages = [body for body in sent if body.get("operationName") == "Tickets"]
    assert len(pages) >= 2, sent
    for body in sent:
        digest = body["extensions"]["persistedQuery"]["sha256Hash"]
        if "query" in body:
            assert hashlib.sha256(body["query"].encode()).hexdigest() == digest, body
    assert "query" not in pages[-1], pages[-1]
    assert pages[-1]["variables"]["after"] is not None


def graphql_bodies(person: Person) -> list[dict]:
    """The JSON bodies of the page's POSTs to /graphql, as they are sent."""
    bodies: list[dict] = []

    def record(request) -> None:
        if request.method == "POST" and request.url.endswith("/graphql"):
            bodies.append(json.loads(request.post_data or "{}"))

    person.page.on("request", record)
    return bodies


def test_signing_in_with_the_keyboard_and_the_apis_refusals_in_words(people, stack, shots):
    address = email("member")
    first = Person(people.new_page(), stack.base_url)
    first.sign_up(address)
    # The same email again: CONFLICT on the email, said next to it as a person understands it.
    again = Person(people.new_page(), stack.base_url)
    again.open("/signup")
    again.page.get_by_label("Email").fill(address)
    again.page.get_by_label("Password").fill(PASSWORD)
    again.page.get_by_role("button", name="Create account").click()
    field = again.page.get_by_label("Email")
    expect(field).to_have_attribute("aria-invalid", "true")
    expect(field).to_have_accessible_description(
        "There is already an account with this email. Sign in instead?"
    )
    # A wrong password: the INVALID_CREDENTIALS userError, about the pair, not one field.
    again.open("/signin")
    again.page.get_by_label("Email").fill(address)
    again.page.get_by_label("Password").fill("not-the-password")
    again.page.get_by_role("button", name="Sign in").click()
    expect(again.page.get_by_role("alert")).to_have_text("The email or the password is not right.")
    shots(again.page, "wrong-password")

    # Keyboard only: the page's heading has focus on arrival, Tab moves through the form.
    person = Person(people.new_page(), stack.base_url)
    person.open("/signin?next=%2Fsell")
    expect(person.heading()).to_be_focused()
    person.page.keyboard.press("Tab")
    expect(person.page.get_by_label("Email")).to_be_focused()
    person.page.keyboard.type(address)
    person.page.keyboard.press("Tab")
    expect(person.page.get_by_label("Password")).to_be_focused()
    person.page.keyboard.type(PASSWORD)
    person.page.keyboard.press("Enter")
    expect(person.page.get_by_test_id("signed-in-as")).to_have_text(address)
    expect(person.heading()).to_have_text("Sell a ticket")  # where ?next= said
    expect(person.heading()).to_be_focused()

    # A price the API would refuse is said next to the field, and nothing is sent.
    person.page.get_by_label("Title").fill("Row F")
    person.page.get_by_label("Price").fill("ten")
    person.page.get_by_role("button", name="List the ticket").click()
    price = person.page.get_by_label("Price")
    expect(price).to_have_attribute("aria-invalid", "true")
    expect(price).to_have_accessible_description("Enter a price as a number, like 20 or 19.99.")
    shots(person.page, "price-refused")

    person.page.get_by_role("button", name="Sign out").click()
    expect(person.page.get_by_role("link", name="Sign in")).to_be_visible()
    person.open("/orders")  # an address typed in: the gateway answers with the app
    expect(person.heading()).to_have_text("My orders")
    expect(person.page.get_by_role("main")).to_contain_text("Sign in to see your orders.")


def test_an_unknown_ticket_and_an_unknown_page(people, stack, shots):
    person = Person(people.new_page(), stack.base_url)
    person.open("/tickets/000000000000000000000000")
    expect(person.page.get_by_role("alert")).to_have_text(
        "We could not find that. It may have been removed, or the link is wrong."
    )
    person.open("/no/such/page")
    expect(person.heading()).to_have_text("Page not found")
    shots(person.page, "not-found")
