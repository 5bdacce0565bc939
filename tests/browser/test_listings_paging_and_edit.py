"""An event's listings past the first page of 20 ("Show more tickets"), and a seller editing a
listing's price and quantity from My listings: a quantity below the seats already held is
refused beside the field (the API's typed userError), a new price is what buyers see on the
event's page."""

from __future__ import annotations

import uuid

from playwright.sync_api import expect

from tests.browser.conftest import DESKTOP
from tests.browser.events_api import ORDER, list_seats, new_event
from tests.browser.market import PASSWORD, Person, email
from tests.support.market import new_key

LISTINGS = "query($id: ID!) { event(id: $id) { listings(first: 100) { nodes { id } } } }"


def test_an_events_listings_past_the_first_twenty(people, stack, shots, api):
    name = f"Idles {uuid.uuid4().hex[:6]}"
    event_id = new_event(api, stack, name)
    seller = api.user()
    # 22 pairs, $10 to $31: the page shows the cheapest 20 first.
    for dollars in range(10, 32):
        list_seats(
            api, event_id, seller, quantity=2, price={"amount": str(dollars), "currencyCode": "USD"}
        )
    api.until(
        lambda: api.data(LISTINGS, id=event_id)["event"]["listings"]["nodes"],
        lambda nodes: len(nodes) == 22,
    )

    person = Person(people.new_page(DESKTOP), stack.base_url)
    person.open(f"/events/{event_id}")
    expect(person.heading()).to_have_text(name)
    listings = person.page.get_by_test_id("listing")
    expect(listings).to_have_count(20)
    expect(listings.last).to_contain_text("$32.40 per ticket incl. fees ($29.00 + fees)")
    more = person.page.get_by_role("button", name="Show more tickets")
    more.click()
    expect(listings).to_have_count(22)
    expect(listings.nth(20)).to_contain_text("$33.50 per ticket incl. fees ($30.00 + fees)")
    expect(listings.last).to_contain_text("$34.60 per ticket incl. fees ($31.00 + fees)")
    expect(more).to_have_count(0)  # nothing further
    shots(person.page, "listings-page-two")


def test_a_seller_edits_a_listings_price_and_quantity(people, stack, shots, api):
    name = f"Sorry {uuid.uuid4().hex[:6]}"
    event_id = new_event(api, stack, name)
    seller = Person(people.new_page(DESKTOP), stack.base_url)
    address = email("seller")
    seller.sign_up(address)
    own = api.sign_in(address, PASSWORD)
    listing = list_seats(
        api,
        event_id,
        own,
        quantity=4,
        section="Circle",
        price={"amount": "60", "currencyCode": "USD"},
    )
    # A buyer holds two of the four: the quantity cannot go below 2.
    order = api.data(
        ORDER,
        api.user(),
        input={"listingId": listing["id"], "quantity": 2, "idempotencyKey": new_key()},
    )["createOrder"]
    assert order["userErrors"] == [], order

    seller.open("/listings")
    expect(seller.heading()).to_have_text("My listings")
    row = seller.page.get_by_test_id("my-listing").filter(has_text=name)
    expect(row.get_by_test_id("listing-available")).to_have_text("2 available")
    row.get_by_role("button", name="Edit").click()
    form = row.get_by_role("form", name="Edit the listing")
    price = form.get_by_label("Price per ticket (USD)")
    quantity = form.get_by_label("Quantity")
    expect(price).to_have_value("60.00")
    expect(quantity).to_have_value("4")

    quantity.fill("1")
    form.get_by_role("button", name="Save").click()
    # The API's refusal (CONFLICT about input.quantity), beside the field it is about.
    expect(quantity).to_have_attribute("aria-invalid", "true")
    expect(quantity).to_have_accessible_description(
        "Seats listed in all, those held or sold included "
        "2 of these tickets are held or sold: the quantity cannot go below 2"
    )
    expect(price).not_to_have_attribute("aria-invalid", "true")
    shots(seller.page, "edit-refused")

    price.fill("55")
    quantity.fill("5")
    form.get_by_role("button", name="Save").click()
    expect(form).to_have_count(0)
    expect(row).to_contain_text("$55.00 per ticket")
    expect(row.get_by_test_id("listing-quantity")).to_have_text("5 listed")
    expect(row.get_by_test_id("listing-available")).to_have_text("3 available")
    shots(seller.page, "edited")

    # Buyers see the new price on the event's page.
    buyer = Person(people.new_page(DESKTOP), stack.base_url)
    buyer.open(f"/events/{event_id}")
    offer = buyer.page.get_by_test_id("listing").filter(has_text="Section Circle")
    expect(offer).to_contain_text("$61.00 per ticket incl. fees ($55.00 + fees) · 3 available")
