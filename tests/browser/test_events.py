"""The marketplace of events in the web app (issue 20): a buyer finds an event by a prefix search
on the home page, opens it, picks two seats of a listing that never leaves a single one (the
picker offers exactly what the split rule allows), pays by card and sees the order paid with its
seats and total; a seller lists seats from an event's page and withdraws them from My listings.
The event is made by an operator through GraphQL (an admin by `ticketing users grant-admin`)."""

from __future__ import annotations

import re
import uuid

from playwright.sync_api import expect

from tests.browser.conftest import DESKTOP
from tests.browser.events_api import ORDER, list_seats, new_event
from tests.browser.market import CARD_OK, Person, email
from tests.browser.market import PASSWORD as UI_PASSWORD
from tests.support.market import new_key

MY_LISTINGS = "{ myListings(first: 10) { nodes { id state } } }"
SEARCH = "query($q: String!) { events(query: $q, first: 5) { nodes { id ticketCount } } }"


def test_search_an_event_buy_two_seats_and_pay(people, stack, shots, api):
    token = uuid.uuid4().hex[:6]
    name = f"Arctic Monkeys {token}"
    event_id = new_event(api, stack, name)
    listing = list_seats(
        api,
        event_id,
        quantity=4,
        price={"amount": "80", "currencyCode": "USD"},
        faceValue={"amount": "65", "currencyCode": "USD"},
        section="A2",
        row="7",
        seats=["11", "12", "13", "14"],
        splitRule="NO_SINGLE",
        deliveryMethod="MOBILE_TRANSFER",
    )
    assert listing["allowedQuantities"] == [1, 2, 4]
    # Found by the search with its seats counted (the catalogue's summary, a moment after).
    api.until(
        lambda: api.data(SEARCH, q=f"arct mon {token}")["events"]["nodes"],
        lambda nodes: [(n["id"], n["ticketCount"]) for n in nodes] == [(event_id, 4)],
    )

    person = Person(people.new_page(DESKTOP), stack.base_url)
    person.sign_up(email("buyer"))
    person.open("/")
    expect(person.heading()).to_have_text("Upcoming events")
    person.page.get_by_role("searchbox", name="Search events").fill(f"arct mon {token}")
    person.page.get_by_role("button", name="Search").click()
    expect(person.heading()).to_have_text(f"Events for “arct mon {token}”")
    results = person.page.get_by_role("list", name="Events").get_by_role("listitem")
    expect(results).to_have_count(1)
    found = results.first
    expect(found).to_contain_text("The O2, London")
    expect(found).to_contain_text("7:30 PM GMT")  # the venue's time, in its time zone
    expect(found).to_contain_text("From $88.50 incl. fees · 4 tickets")
    # The facet chips count the matches: one concert, in London.
    expect(person.page.get_by_role("list", name="Categories")).to_contain_text("Concert (1)")
    expect(person.page.get_by_role("list", name="Cities")).to_contain_text("London (1)")
    shots(person.page, "home-search")

    found.get_by_role("link", name=name).click()
    expect(person.heading()).to_have_text(name)
    expect(person.page.get_by_test_id("event-venue")).to_have_text("The O2, London")
    expect(person.page.get_by_test_id("event-time")).to_contain_text("7:30 PM GMT")
    offer = person.page.get_by_test_id("listing")
    expect(offer).to_have_count(1)
    expect(offer).to_contain_text("Section A2 · Row 7 · Seats 11, 12, 13, 14")
    expect(offer).to_contain_text("$88.50 per ticket incl. fees ($80.00 + fees) · 4 available")
    picker = offer.get_by_label("Quantity")
    # Exactly what the split rule allows: never 3 (it would leave a single seat).
    expect(picker.locator("option")).to_have_text(["1", "2", "4"])
    picker.select_option("2")
    shots(person.page, "event")
    offer.get_by_role("button", name="Buy 2 for $177.00").click()

    expect(person.status()).to_have_text("Reserved")
    expect(person.heading()).to_have_text(f"Order for {name}")
    expect(person.page.get_by_test_id("order-quantity")).to_have_text("2 tickets")
    expect(person.page.get_by_test_id("order-seats")).to_have_text(
        "Section A2 · Row 7 · Seats 11, 12"
    )
    # Before paying, the breakdown: 2 x $80.00, 2 x ($8.00 + $0.50) of fees, and the total.
    expect(person.page.get_by_test_id("order-subtotal")).to_have_text("$160.00")
    expect(person.page.get_by_test_id("order-fees")).to_have_text("$17.00")
    expect(person.page.get_by_test_id("order-total")).to_have_text("$177.00")
    person.fill_card(CARD_OK)
    person.page.get_by_role("button", name="Pay $177.00").click()
    expect(person.status()).to_have_text("Complete")
    expect(person.page.get_by_text("Total paid", exact=True)).to_be_visible()
    expect(person.page.get_by_test_id("order-total")).to_have_text("$177.00")
    shots(person.page, "order-paid")

    # Two seats are left: the event page offers 1 or 2 of them (never leaving one is 2 or none).
    person.page.get_by_role("link", name=name).click()
    offer = person.page.get_by_test_id("listing")
    expect(offer).to_contain_text("2 available")
    expect(offer.get_by_label("Quantity").locator("option")).to_have_text(["2"])


def test_a_seller_lists_seats_from_the_event_and_withdraws_them(people, stack, shots, api):
    name = f"Wet Leg {uuid.uuid4().hex[:6]}"
    event_id = new_event(api, stack, name)
    # Another seller's pair: the event is known to tickets once it is listed.
    list_seats(api, event_id, quantity=2, price={"amount": "50", "currencyCode": "USD"})

    seller = Person(people.new_page(DESKTOP), stack.base_url)
    address = email("seller")
    seller.sign_up(address)
    # The same seller's pair in the stalls, listed through the API and bought and paid by a buyer.
    own = api.sign_in(address, UI_PASSWORD)
    stalls = list_seats(
        api,
        event_id,
        own,
        quantity=2,
        section="Stalls",
        price={"amount": "60", "currencyCode": "USD"},
    )
    buyer = api.user()
    order = api.data(
        ORDER, buyer, input={"listingId": stalls["id"], "quantity": 2, "idempotencyKey": new_key()}
    )["createOrder"]
    assert order["userErrors"] == [], order
    api.pay(buyer, order["order"]["id"])
    api.until(
        lambda: api.data(MY_LISTINGS, own)["myListings"]["nodes"],
        lambda nodes: {"id": stalls["id"], "state": "SOLD"} in nodes,
    )

    seller.open(f"/events/{event_id}")
    expect(seller.heading()).to_have_text(name)
    seller.page.get_by_role("link", name="Sell tickets").click()
    expect(seller.heading()).to_have_text(f"Sell tickets for {name}")
    seller.page.get_by_label("Quantity").fill("3")
    seller.page.get_by_label("Price per ticket").fill("42.50")
    # What the seller receives (42.50 less 5 %, 2.125 rounded half up) and buyers pay.
    expect(seller.page.get_by_test_id("seller-proceeds")).to_have_text(
        "You receive $40.37 per ticket (after our $2.13 fee); buyers pay $47.25 with their fees."
    )
    seller.page.get_by_label("Face value (optional)").fill("40")
    seller.page.get_by_label("Section (optional)").fill("Balcony")
    seller.page.get_by_label("Row (optional)").fill("C")
    seller.page.get_by_label("Split rule").select_option(label="Never leave a single seat")
    seller.page.get_by_label("Delivery method").select_option(label="Barcodes")
    seller.page.get_by_label("Notes (optional)").fill("Aisle seats")
    seller.page.get_by_role("button", name="List the tickets").click()

    expect(seller.heading()).to_have_text(name)
    expect(seller.page.get_by_role("status")).to_contain_text("Your tickets are listed for sale")
    mine = seller.page.get_by_test_id("listing").filter(has_text="Section Balcony · Row C")
    expect(mine).to_contain_text(
        "$47.25 per ticket incl. fees ($42.50 + fees) · 3 available · face value $40.00"
    )
    expect(mine).to_contain_text("Your listing")
    expect(mine.get_by_role("button", name=re.compile("^Buy"))).to_have_count(0)

    seller.page.get_by_role("navigation", name="Main").get_by_role(
        "link", name="My listings"
    ).click()
    expect(seller.heading()).to_have_text("My listings")
    row = seller.page.get_by_test_id("my-listing").filter(has_text=name)
    expect(row).to_have_count(2)
    row = row.filter(has_text="Section Balcony")
    expect(row.get_by_test_id("listing-quantity")).to_have_text("3 listed")
    expect(row.get_by_test_id("listing-available")).to_have_text("3 available")
    expect(row.get_by_test_id("listing-state")).to_have_text("For sale")
    sold = seller.page.get_by_test_id("my-listing").filter(has_text="Section Stalls")
    expect(sold.get_by_test_id("listing-state")).to_have_text("Sold")
    expect(sold.get_by_test_id("listing-available")).to_have_text("0 available")
    expect(sold.get_by_role("button", name="Withdraw")).to_have_count(0)
    shots(seller.page, "my-listings")
    row.get_by_role("button", name="Withdraw").click()
    expect(row.get_by_test_id("listing-state")).to_have_text("Withdrawn")
    expect(row.get_by_test_id("listing-available")).to_have_text("0 available")
    expect(row.get_by_role("button", name="Withdraw")).to_have_count(0)
    shots(seller.page, "my-listings-withdrawn")

    # Gone from the event's page for buyers; the other seller's pair stays.
    seller.open(f"/events/{event_id}")
    expect(seller.page.get_by_test_id("listing")).to_have_count(1)
    expect(seller.page.get_by_test_id("listing")).to_contain_text(
        "$55.50 per ticket incl. fees ($50.00 + fees)"
    )
