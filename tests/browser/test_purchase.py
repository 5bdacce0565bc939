"""A purchase in the web app, as people do it: a seller lists a ticket and changes its price,
a buyer finds it, orders it, sees the hold count down, pays by card through Stripe.js
(the Stripe stand-in's) and watches the order turn COMPLETE, or declined, or 3-D Secure
confirmed, or EXPIRED, without reloading the page: the orderUpdated subscription brings it.
What v1 makes visible: the ticket's state from orders (the buyer who paid sees it Sold), the
seller's withdrawal, a currency chosen when listing, and an edit from a stale tab refused."""

from __future__ import annotations

import json
import re
import uuid

from playwright.sync_api import expect

from tests.browser.conftest import DESKTOP
from tests.browser.market import (
    CARD_3DS,
    CARD_DECLINED,
    CARD_OK,
    HOLD_SECONDS,
    Person,
    email,
)


def listed_ticket(people, stack, shots, price: str = "20") -> tuple[Person, str, str]:
    """A seller (desktop) lists a ticket; returns them, the ticket's path and title."""
    seller = Person(people.new_page(DESKTOP), stack.base_url)
    seller.sign_up(email("seller"))
    title = f"Arctic Monkeys, row F {uuid.uuid4().hex[:6]}"
    path = seller.sell(title, price)
    shots(seller.page, "seller-listed")
    return seller, path, title


def buyer(people, stack) -> Person:
    person = Person(people.new_page(), stack.base_url)  # a phone-sized screen
    person.sign_up(email("buyer"))
    person.open("/tickets")  # v1 tickets, listed without an event (the home page is events')
    return person


def order_updates(person: Person) -> list[str]:
    """The orderUpdated messages this page receives over its WebSocket, as they come."""
    frames: list[str] = []
    person.page.on(
        "websocket",
        lambda socket: socket.on(
            "framereceived",
            lambda frame: frames.append(frame) if "orderUpdated" in str(frame) else None,
        ),
    )
    return frames


def test_a_whole_purchase_seen_live(people, stack, shots):
    seller, ticket, title = listed_ticket(people, stack, shots)
    # The seller changes the price before anyone orders.
    seller.page.get_by_label("Price").fill("25.50")
    seller.page.get_by_role("button", name="Save changes").click()
    expect(seller.page.get_by_role("status").filter(has_text="Saved")).to_be_visible()
    expect(seller.page.get_by_test_id("ticket-price")).to_have_text("$25.50")
    shots(seller.page, "seller-changed-the-price")

    person = buyer(people, stack)
    updates = order_updates(person)
    # The buyer finds it among the tickets for sale (newest first) and opens it.
    expect(person.heading()).to_have_text("Tickets for sale")
    person.page.get_by_role("link", name=title).click()
    expect(person.heading()).to_have_text(title)
    expect(person.page.get_by_test_id("ticket-price")).to_have_text("$25.50")
    expect(person.page.get_by_test_id("ticket-all-in")).to_have_text("$28.55 incl. fees")
    shots(person.page, "buyer-found-the-ticket")
    person.page.get_by_role("button", name="Buy for $28.55").click()
    expect(person.status()).to_have_text("Reserved")
    # The order's breakdown before paying: the price, 10 % + $0.50 of fees, the total.
    expect(person.page.get_by_test_id("order-subtotal")).to_have_text("$25.50")
    expect(person.page.get_by_test_id("order-fees")).to_have_text("$3.05")
    expect(person.page.get_by_test_id("order-total")).to_have_text("$28.55")
    countdown = person.page.get_by_role("timer")
    expect(countdown).to_have_text(re.compile(r"^0:[0-2]\d$"))  # the hold, in m:ss
    expect(countdown).to_have_attribute("aria-label", re.compile(r"seconds? left to pay$"))
    person.fill_card(CARD_OK)
    shots(person.page, "buyer-card-typed")
    person.mark_page()
    person.page.get_by_role("button", name="Pay $28.55").click()

    expect(person.status()).to_have_text("Complete")
    expect(person.page.get_by_text("Paid. The ticket is yours.", exact=True)).to_be_visible()
    # ...and a screen reader hears the change (a polite live region).
    expect(person.page.get_by_role("status").filter(has_text="Order complete.")).to_have_count(1)
    assert person.same_page(), "the page was reloaded"
    assert any('"COMPLETE"' in str(frame) for frame in updates), "not pushed by orderUpdated"
    shots(person.page, "buyer-order-complete")

    person.page.get_by_role("link", name="My orders").click()
    expect(person.heading()).to_have_text("My orders")
    row = person.page.get_by_role("listitem").filter(has_text=title)
    expect(row).to_contain_text("Complete")
    expect(row).to_contain_text("$28.55")
    shots(person.page, "buyer-orders")

    # The buyer who paid sees the ticket sold (its state, read from orders), not "someone is
    # buying this ticket", and no way to buy it again.
    person.open(ticket)
    expect(person.page.get_by_test_id("ticket-status")).to_have_text("Sold")
    expect(person.page.get_by_text("This ticket is sold.", exact=True)).to_be_visible()
    expect(person.page.get_by_role("button", name=re.compile("^Buy"))).to_have_count(0)
    expect(person.page.get_by_text("Someone is buying this ticket")).to_have_count(0)
    shots(person.page, "buyer-sees-sold")

    seller.open(ticket)
    expect(seller.page.get_by_test_id("ticket-status")).to_have_text("Sold")
    expect(seller.page.get_by_text("You sold this ticket.", exact=True)).to_be_visible()
    expect(seller.page.get_by_role("button", name="Save changes")).to_have_count(0)


def test_a_declined_card_is_said_and_the_ticket_is_for_sale_again(people, stack, shots):
    _, ticket, _ = listed_ticket(people, stack, shots, price="30")
    person = buyer(people, stack)
    person.buy(ticket, "$33.50")
    person.fill_card(CARD_DECLINED)
    person.mark_page()
    person.page.get_by_role("button", name="Pay $33.50").click()

    alert = person.page.get_by_role("alert")
    expect(alert).to_contain_text("Your card was declined, so nothing was charged.")
    expect(alert).to_contain_text("the ticket is back on sale")
    expect(person.status()).to_have_text("Payment failed")  # CANCELLED, reason PAYMENT_FAILED
    expect(person.page.get_by_role("button", name=re.compile("^Pay"))).to_have_count(0)
    assert person.same_page()
    shots(person.page, "declined")

    # The ticket is for sale again: the same buyer may order it again (with another card).
    person.page.get_by_role("link", name="Order this ticket again").click()
    expect(person.page.get_by_test_id("ticket-status")).to_have_text("For sale")
    person.page.get_by_role("button", name="Buy for $33.50").click()
    expect(person.status()).to_have_text("Reserved")
    shots(person.page, "ordered-again")


def test_3d_secure_is_confirmed_in_the_page(people, stack, shots):
    _, ticket, _ = listed_ticket(people, stack, shots, price="40")
    person = buyer(people, stack)
    person.buy(ticket, "$44.50")
    person.fill_card(CARD_3DS)
    person.mark_page()
    person.page.get_by_role("button", name="Pay $44.50").click()
    # The stand-in's Stripe.js asks as a bank would (Stripe.js shows the bank's page).
    confirm = person.page.get_by_role("button", name="Complete authentication")
    expect(confirm).to_be_visible()
    expect(person.page.get_by_role("status").filter(has_text="Your bank asks")).to_be_visible()
    shots(person.page, "bank-asks")
    confirm.click()
    expect(person.status()).to_have_text("Complete")
    assert person.same_page()
    shots(person.page, "confirmed-and-complete")


def test_3d_secure_asked_again_after_a_reload(people, stack, shots):
    _, ticket, _ = listed_ticket(people, stack, shots, price="45")
    person = buyer(people, stack)
    order = person.buy(ticket, "$50.00")
    person.fill_card(CARD_3DS)
    person.page.get_by_role("button", name="Pay $50.00").click()
    expect(person.page.get_by_role("button", name="Complete authentication")).to_be_visible()
    # The buyer leaves before answering their bank, and comes back to the order.
    person.open(order)
    expect(person.status()).to_have_text("Awaiting payment")
    expect(person.page.get_by_role("button", name=re.compile("^Pay"))).to_have_count(0)
    person.page.get_by_role("button", name="Confirm the payment with your bank").click()
    shots(person.page, "bank-asks-again")
    person.page.get_by_role("button", name="Complete authentication").click()
    expect(person.status()).to_have_text("Complete")
    shots(person.page, "complete")


def test_an_unpaid_order_is_seen_to_expire(people, stack, shots):
    seller, ticket, _ = listed_ticket(people, stack, shots, price="15")
    person = buyer(people, stack)
    updates = order_updates(person)
    person.buy(ticket, "$17.00")
    expect(person.page.get_by_role("timer")).to_be_visible()
    shots(person.page, "reserved")
    person.mark_page()

    expect(person.status()).to_have_text("Expired", timeout=(HOLD_SECONDS + 20) * 1000)
    detail = "The time to pay ran out, so the ticket went back on sale. Nothing was charged."
    expect(person.page.get_by_text(detail, exact=True)).to_be_visible()
    expect(person.page.get_by_role("status").filter(has_text="Order expired.")).to_have_count(1)
    expect(person.page.get_by_role("timer")).to_have_count(0)
    assert person.same_page(), "the page was reloaded"
    assert any('"EXPIRED"' in str(frame) for frame in updates), "not pushed by orderUpdated"
    shots(person.page, "expired")

    seller.open(ticket)
    expect(seller.page.get_by_test_id("ticket-status")).to_have_text("For sale")


def test_a_ticket_in_euros_withdrawn_by_its_seller_leaves_the_list(people, stack, shots):
    seller = Person(people.new_page(DESKTOP), stack.base_url)
    seller.sign_up(email("seller"))
    title = f"Wet Leg, balcony {uuid.uuid4().hex[:6]}"
    ticket = seller.sell(title, "35", currency="Euros (EUR)")
    expect(seller.page.get_by_test_id("ticket-price")).to_have_text("€35.00")
    expect(seller.page.get_by_test_id("ticket-status")).to_have_text("For sale")

    # A buyer sees it for sale, in euros, on the list and on its page.
    person = buyer(people, stack)
    listed = person.page.get_by_role("list", name="Tickets for sale").get_by_role("listitem")
    expect(listed.filter(has_text=title)).to_contain_text("€39.00 incl. fees")
    person.open(ticket)
    expect(person.page.get_by_role("button", name="Buy for €39.00")).to_be_visible()
    shots(person.page, "buyer-sees-it-in-euros")

    seller.page.get_by_role("button", name="Withdraw this ticket").click()
    expect(seller.page.get_by_test_id("ticket-status")).to_have_text("Taken off sale")
    expect(seller.page.get_by_text("You took this ticket off sale.")).to_be_visible()
    expect(seller.page.get_by_role("button", name="Save changes")).to_have_count(0)
    shots(seller.page, "seller-withdrew")

    # Gone from the list of tickets for sale; its page says why, and offers nothing to buy.
    person.open("/tickets")
    expect(person.heading()).to_have_text("Tickets for sale")
    expect(person.page.get_by_role("list", name="Tickets for sale")).to_be_visible()
    expect(person.page.get_by_role("link", name=title)).to_have_count(0)
    person.open(ticket)
    expect(person.page.get_by_test_id("ticket-status")).to_have_text("Taken off sale")
    expect(person.page.get_by_text("The seller has taken this ticket off sale.")).to_be_visible()
    expect(person.page.get_by_role("button", name=re.compile("^Buy"))).to_have_count(0)
    shots(person.page, "gone-for-the-buyer")


def test_an_edit_from_a_stale_tab_is_refused_and_the_current_version_shown(people, stack, shots):
    seller, ticket, title = listed_ticket(people, stack, shots, price="50")
    # The same seller in a second tab (same cookies): it changes the price first.
    other_tab = Person(seller.page.context.new_page(), stack.base_url)
    other_tab.open(ticket)
    other_tab.page.get_by_label("Price").fill("55")
    other_tab.page.get_by_role("button", name="Save changes").click()
    expect(other_tab.page.get_by_test_id("ticket-price")).to_have_text("$55.00")

    # The first tab still shows version 0 ($50.00) and saves its own change over it: refused.
    expect(seller.page.get_by_test_id("ticket-price")).to_have_text("$50.00")
    seller.page.get_by_label("Title").fill(f"{title} (aisle)")
    seller.page.get_by_role("button", name="Save changes").click()
    expect(seller.page.get_by_role("alert")).to_contain_text(
        "This ticket was changed somewhere else"
    )
    # ...and it now shows the current version, the other tab's price, its own title not saved.
    expect(seller.page.get_by_test_id("ticket-price")).to_have_text("$55.00")
    expect(seller.heading()).to_have_text(title)
    expect(seller.page.get_by_label("Price")).to_have_value("55.00")
    shots(seller.page, "stale-tab-refused")


def test_a_lost_answer_to_buy_is_sent_again_with_its_key_and_orders_once(people, stack, shots):
    _, ticket, title = listed_ticket(people, stack, shots, price="18")
    person = buyer(people, stack)
    sent_keys: list[str] = []
    placed: list[str] = []

    def lose_the_first_answer(route) -> None:
        body = json.loads(route.request.post_data or "{}")
        if body.get("operationName") != "CreateOrder":
            route.fallback()  # to the context's guard (127.0.0.1 only)
            return
        sent_keys.append(body["variables"]["input"]["idempotencyKey"])
        answer = route.fetch()
        payload = (answer.json().get("data") or {}).get("createOrder")
        if payload and payload["order"] and not placed:
            placed.append(payload["order"]["id"])
            route.abort("connectionreset")  # the order was placed; the buyer never hears of it
        else:
            route.fulfill(response=answer)

    person.page.route("**/graphql", lose_the_first_answer)
    person.open(ticket)
    person.page.get_by_role("button", name="Buy for $20.30").click()
    # The app sent the identical request again (same key) and got the first order back, not a
    # CONFLICT with its own hold (IDEM-4, IDEM-6).
    expect(person.status()).to_have_text("Reserved")
    assert placed, "no order was placed"
    assert person.page.url.endswith(f"/orders/{placed[0]}")
    assert len(sent_keys) >= 2 and len(set(sent_keys)) == 1, sent_keys
    expect(person.page.get_by_role("alert")).to_have_count(0)
    shots(person.page, "ordered-once")

    person.page.get_by_role("link", name="My orders").click()
    expect(person.heading()).to_have_text("My orders")
    rows = person.page.get_by_role("list", name="Your orders").get_by_role("listitem")
    expect(rows.filter(has_text=title)).to_have_count(1)
    expect(rows).to_have_count(1)
