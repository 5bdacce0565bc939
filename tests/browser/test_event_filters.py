"""The events home's filters (issue 20): a price range, a date range and "only events with
tickets for sale" narrow a search's results, stay in the address, and are cleared in one press.
The events are made by an operator and listed by sellers through the API."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

from playwright.sync_api import expect

from tests.browser.conftest import DESKTOP
from tests.browser.events_api import list_seats, new_event
from tests.browser.market import Person

SEARCH = "query($q: String!) { events(query: $q, first: 10) { nodes { id ticketCount } } }"


def test_price_dates_and_tickets_for_sale_narrow_the_events(people, stack, shots, api):
    token = uuid.uuid4().hex[:6]
    soon = new_event(api, stack, f"Fontaines {token} soon", days=30)
    later = new_event(api, stack, f"Fontaines {token} later", days=60)
    unsold = new_event(api, stack, f"Fontaines {token} unsold", days=31)
    list_seats(api, soon, quantity=2, price={"amount": "30", "currencyCode": "USD"})
    list_seats(api, later, quantity=2, price={"amount": "120", "currencyCode": "USD"})
    # All three found by the word, with their seats counted (the catalogue's summary, soon after).
    api.until(
        lambda: api.data(SEARCH, q=token)["events"]["nodes"],
        lambda nodes: {n["id"]: n["ticketCount"] for n in nodes} == {soon: 2, later: 2, unsold: 0},
    )

    person = Person(people.new_page(DESKTOP), stack.base_url)
    person.open(f"/?q={token}")
    results = person.page.get_by_role("list", name="Events").get_by_role("listitem")
    found = person.page.get_by_test_id("events-found")
    expect(results).to_have_count(3)
    expect(found).to_have_text("3 events")

    filters = person.page.get_by_role("group", name="Filters")
    filters.get_by_label("Only events with tickets for sale").check()
    person.page.get_by_role("button", name="Search").click()
    expect(results).to_have_count(2)
    expect(found).to_have_text("2 events")
    expect(results.filter(has_text="unsold")).to_have_count(0)
    assert "tickets=1" in person.page.url

    filters.get_by_label("Price to").fill("50")
    person.page.get_by_role("button", name="Search").click()
    expect(results).to_have_count(1)
    expect(results.first).to_contain_text(f"Fontaines {token} soon")
    expect(results.first).to_contain_text("From $33.50")
    shots(person.page, "filtered-by-price")

    # The filters come back with the address (a reload keeps them), and go in one press.
    person.page.reload()
    expect(filters.get_by_label("Price to")).to_have_value("50")
    expect(results).to_have_count(1)
    person.page.get_by_role("button", name="Clear filters").click()
    expect(results).to_have_count(3)
    expect(filters.get_by_label("Price to")).to_have_value("")

    # Starting between 50 and 70 days from now: only the later one (60 days).
    today = date.today()
    filters.get_by_label("Starting from").fill((today + timedelta(days=50)).isoformat())
    filters.get_by_label("Starting until").fill((today + timedelta(days=70)).isoformat())
    person.page.get_by_role("button", name="Search").click()
    expect(results).to_have_count(1)
    expect(results.first).to_contain_text(f"Fontaines {token} later")
    expect(found).to_have_text("1 event")
    shots(person.page, "filtered-by-dates")
