"""Issue 21's money, as people see it in the web app, on a stack of this module's own whose
payouts fall due PAYOUT_DELAY seconds after payment (a v1 ticket has no event) and whose sweep
looks every second, one test per story:
- a seller sets up payouts, lists a ticket, a buyer pays its all-in price by card, and the
  seller's payout is seen scheduled, then paid; at Stripe (the stand-in) the transfer went to the
  seller's connected account, for the price less the 5 % commission;
- only an admin has the Money link to /admin/money in the main navigation;
- an admin refunds another paid order in full on /admin/money, told it went back to the
  buyer's card; its buyer's order page says so;
- an event with paid orders is cancelled; its refund run pays each buyer back, fees included;
- a payment by a card its bank then disputes: the seller's payout is held (still, past its due
  time: no transfer), the buyer's order page says so, the admin sees the dispute."""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import Locator, expect

from tests.browser.conftest import DESKTOP, browser_stack
from tests.browser.events_api import ORDER, list_seats, new_event, operator
from tests.browser.market import CARD_DISPUTED, CARD_OK, PASSWORD, Person, email
from tests.support.ids import raw_id
from tests.support.market import PASSWORD as API_PASSWORD
from tests.support.market import Api, new_key
from tests.support.stack import RunningStack

EVENT_VERSION = "query($id: ID!) { event(id: $id) { version } }"
CANCEL = """
mutation($input: ChangeEventStatusInput!) {
  changeEventStatus(input: $input) { event { status } userErrors { code field message } }
}"""

# Long enough for the seller to see the payout scheduled first; short enough to watch it paid.
PAYOUT_DELAY = 20


@pytest.fixture(scope="module")
def stack(tmp_path_factory, amqp_url, redis_url) -> Iterator[RunningStack]:
    yield from browser_stack(
        tmp_path_factory,
        amqp_url,
        redis_url,
        {"PAYOUT_DELAY_AFTER_EVENT_SECONDS": str(PAYOUT_DELAY), "PAYOUT_SWEEP_SECONDS": "1"},
    )


@pytest.fixture
def stripe(stack) -> Iterator[httpx.Client]:
    """Stripe's API as the stack's payments service sees it (the stand-in), with a secret key."""
    with httpx.Client(
        base_url=stack.setting("STRIPE_API_BASE"),
        headers={"authorization": "Bearer sk_test_standin"},
        timeout=10,
    ) as client:
        yield client


def reload_until(person: Person, locator: Locator, text: re.Pattern[str], timeout: float) -> None:
    """What a person does waiting for a page that does not update itself: reload it now and
    then until `locator` reads `text`."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            expect(locator).to_have_text(text, timeout=2_000)
            return
        except AssertionError:
            if time.monotonic() > deadline:
                raise
        person.page.reload()


def transfers_of(stripe: httpx.Client, order_id: str) -> list[dict]:
    """The transfers Stripe made for an order (its transfer group), from its transfer.created
    events (the stand-in, like Stripe, lists events; it does not list transfers)."""
    answer = stripe.get("/v1/events", params={"type": "transfer.created", "limit": 100})
    answer.raise_for_status()
    made = [event["data"]["object"] for event in answer.json()["data"]]
    return [t for t in made if t.get("transfer_group") == f"order_{order_id}"]


def test_a_seller_set_up_for_payouts_is_paid_the_price_less_commission(
    people, stack, shots, api, stripe
):
    seller = Person(people.new_page(DESKTOP), stack.base_url)
    address = email("seller")
    seller.sign_up(address)
    seller.set_up_payouts()
    shots(seller.page, "seller-payable")

    # The seller lists a ticket, told what they will receive and what buyers pay.
    title = f"Fontaines D.C., row C {uuid.uuid4().hex[:6]}"
    page = seller.page
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Sell").click()
    expect(seller.heading()).to_have_text("Sell a ticket")
    page.get_by_label("Title").fill(title)
    page.get_by_label("Price").fill("40")
    expect(page.get_by_test_id("seller-proceeds")).to_have_text(
        "You receive $38.00 per ticket (after our $2.00 fee); buyers pay $44.50 with their fees."
    )
    page.get_by_role("button", name="List the ticket").click()
    expect(seller.heading()).to_have_text(title)
    ticket = page.url.removeprefix(stack.base_url).split("?")[0]
    shots(page, "seller-listed")

    # A buyer sees the all-in price (40 + 10 % + 0.50), and pays it by card.
    buyer = Person(people.new_page(), stack.base_url)
    buyer.sign_up(email("buyer"))
    buyer.open("/tickets")
    listed = buyer.page.get_by_role("list", name="Tickets for sale").get_by_role("listitem")
    expect(listed.filter(has_text=title)).to_contain_text("$44.50 incl. fees")
    buyer.open(ticket)
    expect(buyer.page.get_by_test_id("ticket-all-in")).to_have_text("$44.50 incl. fees")
    order = buyer.buy(ticket, "$44.50")
    buyer.fill_card(CARD_OK)
    buyer.page.get_by_role("button", name="Pay $44.50").click()
    expect(buyer.status()).to_have_text("Complete")
    expect(buyer.page.get_by_text("Total paid", exact=True)).to_be_visible()
    expect(buyer.page.get_by_test_id("order-total")).to_have_text("$44.50")
    shots(buyer.page, "buyer-paid")

    # The seller's payout: the proceeds, scheduled (the delay runs from the payment)...
    seller.open("/listings")
    payout = seller.page.get_by_role("list", name="Your payouts").get_by_test_id("payout")
    expect(payout).to_have_count(1)
    expect(payout).to_contain_text("$38.00")
    expect(payout).to_contain_text("A ticket sold")
    status = payout.get_by_test_id("payout-status")
    expect(status).to_have_text(re.compile(r"^Scheduled for \w{3}, \w{3} \d{1,2}, \d{4}$"))
    shots(seller.page, "payout-scheduled")
    assert transfers_of(stripe, raw_id(order.removeprefix("/orders/"), "Order")) == []

    # ...then paid, once due, by the sweep's transfer.
    reload_until(seller, status, re.compile(r"^Paid on \w{3}, \w{3} \d{1,2}, \d{4}$"), 60)
    expect(payout).to_contain_text("$38.00")
    shots(seller.page, "payout-paid")

    # At Stripe: one transfer for the order, of the proceeds, out of the buyer's charge, to the
    # connected account opened for this seller.
    (made,) = transfers_of(stripe, raw_id(order.removeprefix("/orders/"), "Order"))
    transfer = stripe.get(f"/v1/transfers/{made['id']}").json()
    assert (transfer["amount"], transfer["currency"], transfer["reversed"]) == (3800, "usd", False)
    charge = stripe.get(f"/v1/charges/{transfer['source_transaction']}").json()
    assert (charge["amount"], charge["currency"]) == (4450, "usd")
    account = stripe.get(f"/v1/accounts/{transfer['destination']}").json()
    seller_id = raw_id(api.me(api.sign_in(address, PASSWORD))["id"], "User")
    assert account["metadata"]["user_id"] == seller_id
    assert account["payouts_enabled"] is True


# --- issue 21's refunds and disputes -------------------------------------------------------------


def test_only_an_admin_has_a_link_to_the_money_page(people, stack, api):
    ops = Person(people.new_page(DESKTOP), stack.base_url)
    address = email("ops")
    operator(api, stack, address)
    ops.open("/signin")
    ops.page.get_by_label("Email").fill(address)
    ops.page.get_by_label("Password").fill(API_PASSWORD)  # as `operator` signed them up
    ops.page.get_by_role("button", name="Sign in").click()
    expect(ops.page.get_by_test_id("signed-in-as")).to_have_text(address)
    nav = ops.page.get_by_role("navigation", name="Main")
    money = nav.get_by_role("link", name="Money", exact=True)
    expect(money).to_be_visible()  # from the sign-in's answer
    ops.page.reload()
    expect(money).to_be_visible()  # and from currentUser, on a fresh load
    money.click()
    expect(ops.heading()).to_have_text("Money")
    expect(money).to_have_attribute("aria-current", "page")
    expect(ops.page.get_by_role("region", name="Refund an order")).to_be_visible()

    member = Person(people.new_page(DESKTOP), stack.base_url)
    member.sign_up(email("member"))
    nav = member.page.get_by_role("navigation", name="Main")
    # The signed-in links are there (the sentinel), the operators' one is not.
    expect(nav.get_by_role("link", name="Payouts", exact=True)).to_be_visible()
    expect(nav.get_by_role("link", name="Money", exact=True)).to_have_count(0)
    member.page.reload()
    expect(nav.get_by_role("link", name="Payouts", exact=True)).to_be_visible()
    expect(nav.get_by_role("link", name="Money", exact=True)).to_have_count(0)


def admin(people, api: Api, stack) -> Person:
    """An admin (granted by `ticketing users grant-admin`) signed in on the money page."""
    address = email("ops")
    operator(api, stack, address)
    person = Person(people.new_page(DESKTOP), stack.base_url)
    person.open("/signin?next=/admin/money")
    person.page.get_by_label("Email").fill(address)
    person.page.get_by_label("Password").fill(API_PASSWORD)  # as `operator` signed them up
    person.page.get_by_role("button", name="Sign in").click()
    expect(person.heading()).to_have_text("Money")
    return person


def refunds_of(stripe: httpx.Client, order_id: str) -> list[dict]:
    """The refunds Stripe made for an order (payments names it in their metadata)."""
    answer = stripe.get("/v1/refunds", params={"limit": 100})
    answer.raise_for_status()
    return [r for r in answer.json()["data"] if r["metadata"].get("order_id") == order_id]


def test_an_admin_refunds_a_paid_order_in_full_and_its_buyer_sees_it(
    people, stack, shots, api, stripe
):
    title = f"IDLES, standing {uuid.uuid4().hex[:6]}"
    ticket = api.sell(api.user(), title, "30")  # all-in: 30 + 3.00 + 0.50
    buyer = Person(people.new_page(), stack.base_url)
    buyer.sign_up(email("buyer"))
    order = buyer.buy(f"/tickets/{ticket['id']}", "$33.50")
    buyer.fill_card(CARD_OK)
    buyer.page.get_by_role("button", name="Pay $33.50").click()
    expect(buyer.status()).to_have_text("Complete")
    order_id = order.removeprefix("/orders/")
    assert refunds_of(stripe, raw_id(order_id, "Order")) == []

    ops = admin(people, api, stack)
    form = ops.page.get_by_role("region", name="Refund an order")
    form.get_by_label("Order id").fill(order_id)
    expect(form.get_by_label("All that is left (the buyer's fees included)")).to_be_checked()
    form.get_by_label("Reason", exact=True).fill("The seller could not deliver the ticket.")
    shots(ops.page, "admin-refunds")
    form.get_by_role("button", name="Refund", exact=True).click()
    # The admin is told whose card it went back to: the buyer's, not theirs.
    expect(ops.page.get_by_test_id("refund-made")).to_have_text(
        "$33.50: Refunded to the buyer's card"
    )
    shots(ops.page, "admin-refunded")

    # The buyer's order page says it, and Stripe gave back all that was charged.
    buyer.open(order)
    expect(buyer.page.get_by_test_id("order-refunds")).to_have_text("$33.50: Refunded to your card")
    expect(buyer.page.get_by_role("button", name="Request a refund")).to_have_count(0)
    shots(buyer.page, "buyer-sees-the-refund")
    (refund,) = refunds_of(stripe, raw_id(order_id, "Order"))
    assert (refund["amount"], refund["currency"], refund["status"]) == (3350, "usd", "succeeded")


def test_a_cancelled_events_paid_orders_are_refunded(people, stack, shots, api, stripe):
    name = f"Pulp {uuid.uuid4().hex[:6]}"
    event_id = new_event(api, stack, name)
    seller = api.user()
    buyers: list[tuple[Person, str]] = []
    for row in ("A", "B"):
        listing = list_seats(
            api,
            event_id,
            seller,
            quantity=1,
            section=f"Row {row}",
            price={"amount": "50", "currencyCode": "USD"},
        )
        person = Person(people.new_page(), stack.base_url)
        address = email("buyer")
        person.sign_up(address)
        token = api.sign_in(address, PASSWORD)
        placed = api.data(
            ORDER,
            token,
            input={"listingId": listing["id"], "quantity": 1, "idempotencyKey": new_key()},
        )["createOrder"]
        assert placed["userErrors"] == [], placed
        api.pay(token, placed["order"]["id"])  # 50 + 5.00 + 0.50
        person.open(f"/orders/{placed['order']['id']}")
        expect(person.status()).to_have_text("Complete")
        buyers.append((person, placed["order"]["id"]))

    assert [refunds_of(stripe, raw_id(order_id, "Order")) for _, order_id in buyers] == [[], []]

    # Its operator calls the event off.
    ops = operator(api, stack)
    version = api.data(EVENT_VERSION, id=event_id)["event"]["version"]
    changed = api.data(
        CANCEL, ops, input={"id": event_id, "expectedVersion": version, "status": "CANCELLED"}
    )["changeEventStatus"]
    assert changed["userErrors"] == [] and changed["event"]["status"] == "CANCELLED", changed

    # The refund run gives each buyer back what they paid, fees included.
    for person, order_id in buyers:
        refunds = person.page.get_by_test_id("order-refunds")
        reload_until(person, refunds, re.compile(r"^\$55\.50: Refunded to your card$"), 60)
        (refund,) = refunds_of(stripe, raw_id(order_id, "Order"))
        assert (refund["amount"], refund["status"]) == (5550, "succeeded")
    shots(buyers[0][0].page, "buyer-refunded")

    ops_page = admin(people, api, stack)
    run = ops_page.page.get_by_test_id("refund-runs").get_by_role("row").filter(has_text=event_id)
    expect(run).to_have_count(1)
    expect(run.get_by_role("cell").nth(1)).to_have_text("Done")
    expect(run).to_contain_text("2 of 2")
    shots(ops_page.page, "admin-sees-the-run")


def test_a_disputed_payment_holds_the_sellers_payout(people, stack, shots, api, stripe):
    seller = Person(people.new_page(DESKTOP), stack.base_url)
    seller.sign_up(email("seller"))
    seller.set_up_payouts()
    title = f"Wet Leg, row K {uuid.uuid4().hex[:6]}"
    ticket = seller.sell(title, "27")  # all-in: 27 + 2.70 + 0.50
    buyer = Person(people.new_page(), stack.base_url)
    buyer.sign_up(email("buyer"))
    order = buyer.buy(ticket, "$30.20")
    buyer.fill_card(CARD_DISPUTED)
    buyer.page.get_by_role("button", name="Pay $30.20").click()
    expect(buyer.status()).to_have_text("Complete")
    paid_at = time.monotonic()

    # The bank's dispute (Stripe's charge.dispute.created) holds the payout.
    seller.open("/listings")
    payout = seller.page.get_by_role("list", name="Your payouts").get_by_test_id("payout")
    expect(payout).to_have_count(1)
    expect(payout).to_contain_text("$25.65")
    reload_until(seller, payout.get_by_test_id("payout-status"), re.compile("^Held: disputed$"), 30)
    expect(payout).to_contain_text("$25.65")  # the same payout, now held...
    assert payout.inner_text().count("disputed") == 1  # ...and said to be disputed once
    shots(seller.page, "payout-held")

    buyer.page.reload()
    expect(buyer.page.get_by_test_id("order-dispute")).to_have_text(
        "Disputed with your bank: the card network is deciding."
    )
    shots(buyer.page, "buyer-sees-the-dispute")

    ops = admin(people, api, stack)
    disputes = ops.page.get_by_role("region", name="Disputes").get_by_test_id("dispute")
    case = disputes.filter(has_text="$30.20 disputed: fraudulent")
    expect(case).to_have_count(1)
    expect(case.get_by_test_id("dispute-status")).to_have_text("NEEDS_RESPONSE")
    shots(ops.page, "admin-sees-the-dispute")

    # Held, not paid: past its due time and a few sweeps on, still held, and no transfer made.
    time.sleep(max(0.0, PAYOUT_DELAY + 3 - (time.monotonic() - paid_at)))
    seller.page.reload()
    expect(payout.get_by_test_id("payout-status")).to_have_text("Held: disputed")
    assert transfers_of(stripe, raw_id(order.removeprefix("/orders/"), "Order")) == []
