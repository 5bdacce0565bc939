"""The purchase flow end to end through GraphQL: real services, SecantusDB, RabbitMQ, Redis and
localstripe, all started by `ticketing run`."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import httpx
import pymongo
import pytest

from tests.support.market import Api
from tests.support.tap import EventTap

pytestmark = pytest.mark.e2e


@pytest.fixture
def api(client) -> Api:
    return Api(client)


@pytest.fixture(scope="module")
def payments_db(stack):
    client = pymongo.MongoClient(stack.setting("MONGO_URL"))
    yield client[f"{stack.namespace}_payments"]
    client.close()


def agreed_story(api: Api, payments_db, buyer: str, order_id: str, ticket_id: str) -> tuple:
    """(ticket's orderId in tickets, order status in orders, the order's copy in payments)."""
    ticket = api.get_ticket(ticket_id)
    order = api.get_order(buyer, order_id)
    copy = payments_db.orders.find_one({"_id": order_id}) or {}
    return ticket["orderId"], order["status"], copy.get("status")


def test_list_order_pay_complete(api, stack, payments_db, amqp_url):
    # The services' events (not the gateway's behaviour events: ticket.viewed, order.started).
    keys = ("ticket.created", "ticket.updated", "order.created", "order.updated", "order.cancelled")
    keys += ("charge.*",)
    tap = EventTap(amqp_url, stack.namespace, keys)
    try:
        seller, buyer = api.user(), api.user()
        ticket = api.sell(seller, "Arctic Monkeys, row F", "20")
        assert ticket["price"] == "20.00" and not ticket["reserved"] and ticket["version"] == 0
        listed = api.data("{ tickets(first: 100) { edges { node { id } } } }")["tickets"]["edges"]
        assert ticket["id"] in [e["node"]["id"] for e in listed]

        order = api.order(buyer, ticket["id"])
        assert order["status"] == "CREATED" and order["payment"] is None
        assert order["ticket"]["id"] == ticket["id"]
        api.until(lambda: api.get_ticket(ticket["id"]), lambda t: t["orderId"] == order["id"])

        paid = api.pay(buyer, order["id"])
        assert not paid.get("errors"), paid
        payment = paid["data"]["createPayment"]
        assert payment["status"] == "SUCCEEDED" and payment["amount"] == "20.00"
        assert payment["stripeId"].startswith("pi_") and payment["orderId"] == order["id"]

        done = api.until(lambda: api.get_order(buyer, order["id"]), status_is("COMPLETE"))
        assert done["payment"]["stripeId"] == payment["stripeId"]
        assert done["ticket"]["reserved"] is True  # sold: it stays with this order
        story = api.until(
            lambda: agreed_story(api, payments_db, buyer, order["id"], ticket["id"]),
            lambda s: s[2] == "COMPLETE",
        )
        assert story == (order["id"], "COMPLETE", "COMPLETE")
        # Paying twice is refused; nothing is charged again.
        assert api.pay(buyer, order["id"])["errors"][0]["extensions"]["code"] == "CONFLICT"
        tap.wait_for(1, key="charge.created")
        tap.wait_for(1, key="order.updated")
        seen = [s for s in tap.seen if ticket["id"] in str(s.body) or order["id"] in str(s.body)]
    finally:
        tap.close()
    keys = [s.routing_key for s in seen]
    # Tickets and payments react to order.created independently; orders completes the order
    # on the charge.
    assert keys[:2] == ["ticket.created", "order.created"], keys
    assert sorted(keys[2:]) == ["charge.created", "order.updated", "ticket.updated"], keys
    assert keys.index("charge.created") < keys.index("order.updated"), keys
    updated = json.loads(next(s.body for s in seen if s.routing_key == "order.updated"))
    assert updated == {
        "id": order["id"],
        "version": 1,
        "status": "ORDER_STATUS_COMPLETE",
        "userId": order["userId"],
    }
    charge = json.loads(next(s.body for s in seen if s.routing_key == "charge.created"))
    assert charge["amount"] == 2000 and charge["orderId"] == order["id"]
    assert charge["stripeId"] == payment["stripeId"]


def status_is(status: str):
    return lambda order: order["status"] == status


def test_declined_card_cancels_the_order_and_releases_the_ticket(api, payments_db):
    seller, buyer, next_buyer = api.user(), api.user(), api.user()
    ticket = api.sell(seller, price="35.50")
    order = api.order(buyer, ticket["id"])
    declined = api.pay(buyer, order["id"], "pm_card_chargeCustomerFail")
    assert [e["extensions"]["code"] for e in declined["errors"]] == ["PAYMENT_DECLINED"]
    # The declined payment stays on the order, naming its PaymentIntent.
    payment = api.data(
        "query($id: ID!) { order(id: $id) { payment { status stripeId } } }", buyer, id=order["id"]
    )["order"]["payment"]
    assert payment["status"] == "FAILED" and payment["stripeId"].startswith("pi_")
    cancelled = api.until(
        lambda: api.get_order(buyer, order["id"]), lambda o: o["status"] == "CANCELLED"
    )
    assert cancelled["cancelReason"] == "PAYMENT_FAILED"
    api.until(lambda: api.get_ticket(ticket["id"]), lambda t: not t["reserved"])
    story = api.until(
        lambda: agreed_story(api, payments_db, buyer, order["id"], ticket["id"]),
        lambda s: s[2] == "CANCELLED",
    )
    assert story == (None, "CANCELLED", "CANCELLED")
    # The ticket is for sale again, and someone else gets it.
    assert api.order(next_buyer, ticket["id"])["status"] == "CREATED"


def test_paying_a_cancelled_order_is_a_conflict(api):
    buyer = api.user()
    ticket = api.sell(api.user())
    order = api.order(buyer, ticket["id"])
    cancelled = api.data(
        "mutation($id: ID!) { cancelOrder(id: $id) { status cancelReason version } }",
        buyer,
        id=order["id"],
    )
    assert cancelled["cancelOrder"] == {
        "status": "CANCELLED",
        "cancelReason": "CANCELLED_BY_USER",
        "version": 1,
    }
    result = api.pay(buyer, order["id"])
    assert [e["extensions"]["code"] for e in result["errors"]] == ["CONFLICT"]
    again = api.codes("mutation($id: ID!) { cancelOrder(id: $id) { id } }", buyer, id=order["id"])
    assert [c for c, _ in again] == ["CONFLICT"]


def test_a_reserved_ticket_cannot_be_changed_and_only_its_seller_may_change_it(api):
    seller, buyer = api.user(), api.user()
    ticket = api.sell(seller, "Original", "10")
    update = (
        "mutation($id: ID!, $t: String!, $p: Decimal!) "
        "{ updateTicket(id: $id, title: $t, price: $p) { title price version } }"
    )
    assert [c for c, _ in api.codes(update, buyer, id=ticket["id"], t="Mine now", p="1")] == [
        "FORBIDDEN"
    ]
    changed = api.data(update, seller, id=ticket["id"], t="Renamed", p=12.5)["updateTicket"]
    assert changed == {"title": "Renamed", "price": "12.50", "version": 1}
    api.order(buyer, ticket["id"])
    api.until(lambda: api.get_ticket(ticket["id"]), lambda t: t["reserved"])
    assert [c for c, _ in api.codes(update, seller, id=ticket["id"], t="Again", p="15")] == [
        "CONFLICT"
    ]


def test_another_users_order_is_not_found_and_their_ticket_is_readable(api):
    seller, buyer, stranger = api.user(), api.user(), api.user()
    ticket = api.sell(seller)
    order = api.order(buyer, ticket["id"])
    query = "query($id: ID!) { order(id: $id) { id } }"
    assert api.codes(query, stranger, id=order["id"]) == [("NOT_FOUND", "id")]
    cancel = "mutation($id: ID!) { cancelOrder(id: $id) { id } }"
    assert api.codes(cancel, stranger, id=order["id"]) == [("NOT_FOUND", "id")]
    assert api.data("{ orders { edges { node { id } } } }", stranger)["orders"]["edges"] == []
    assert api.get_ticket(ticket["id"])["id"] == ticket["id"]  # tickets are public
    assert api.codes(
        "mutation($id: ID!) { createOrder(ticketId: $id) { id } }", seller, id=ticket["id"]
    )[0][0] in ("FORBIDDEN", "CONFLICT")
    # Nor can it be paid for by another: FORBIDDEN would tell that it exists. (Paid by its buyer
    # first, so that payments surely holds its copy of the order.)
    assert api.pay(buyer, order["id"])["data"]["createPayment"]["status"] == "SUCCEEDED"
    paying = (
        'mutation($id: ID!) { createPayment(orderId: $id, paymentMethod: "pm_card_visa") { id } }'
    )
    assert api.codes(paying, stranger, id=order["id"]) == [("NOT_FOUND", "orderId")]


def test_validation_and_authentication_errors(api):
    seller = api.user()
    sell = "mutation($t: String!, $p: Decimal!) { createTicket(title: $t, price: $p) { id } }"
    assert api.codes(sell, seller, t="x", p="0") == [("BAD_USER_INPUT", "price")]
    assert api.codes(sell, seller, t="x", p="1.999") == [("BAD_USER_INPUT", "price")]
    assert api.codes(sell, seller, t="x", p="1000000.01") == [("BAD_USER_INPUT", "price")]
    assert api.codes(sell, seller, t="  ", p="10") == [("BAD_USER_INPUT", "title")]
    assert api.codes(sell, seller, t="x" * 201, p="10") == [("BAD_USER_INPUT", "title")]
    assert api.codes(sell, None, t="x", p="10") == [("UNAUTHENTICATED", None)]
    assert api.codes(sell, seller, t="x", p="ten")[0][0] == "BAD_USER_INPUT"
    assert api.codes("{ tickets(first: 101) { edges { cursor } } }") == [
        ("BAD_USER_INPUT", "first")
    ]
    assert api.codes('{ tickets(after: "garbage") { edges { cursor } } }') == [
        ("BAD_USER_INPUT", "after")
    ]
    assert api.codes("{ orders { edges { cursor } } }") == [("UNAUTHENTICATED", None)]
    assert api.codes('query { ticket(id: "nope") { id } }') == [("NOT_FOUND", "id")]
    order = "mutation($id: ID!) { createOrder(ticketId: $id) { id } }"
    assert api.codes(order, seller, id="nope") == [("NOT_FOUND", "ticketId")]
    pay = 'mutation { createPayment(orderId: "nope", paymentMethod: "pm_card_visa") { id } }'
    assert api.codes(pay, None) == [("UNAUTHENTICATED", None)]


def test_twenty_buyers_race_for_one_ticket(api, stack):
    ticket = api.sell(api.user())
    buyers = [api.user() for _ in range(20)]
    api.order(buyers[0], ticket["id"])  # waits until orders knows the ticket...
    api.data(
        "mutation($id: ID!) { cancelOrder(id: $id) { id } }",
        buyers[0],
        id=api.data("{ orders(first: 1) { edges { node { id } } } }", buyers[0])["orders"]["edges"][
            0
        ]["node"]["id"],
    )
    query = "mutation($id: ID!) { createOrder(ticketId: $id) { id } }"

    def attempt(token: str) -> dict:
        with httpx.Client(base_url=stack.base_url, timeout=30) as own:
            return own.post(
                "/graphql",
                json={"query": query, "variables": {"id": ticket["id"]}},
                headers={"authorization": f"Bearer {token}"},
            ).json()

    with ThreadPoolExecutor(20) as pool:
        results = list(pool.map(attempt, buyers))  # ...then 20 buyers at once
    winners = [r for r in results if not r.get("errors")]
    codes = {e["extensions"]["code"] for r in results for e in r.get("errors", [])}
    assert len(winners) == 1 and codes == {"CONFLICT"}, results


def test_pagination_walks_every_ticket_once_newest_first(api):
    seller = api.user()
    mine = [api.sell(seller, f"Seat {i}", str(10 + i))["id"] for i in range(5)]
    query = (
        "query($after: String) { tickets(first: 2, after: $after, includeReserved: true) "
        "{ edges { cursor node { id } } pageInfo { hasNextPage endCursor } } }"
    )
    seen, after, pages = [], None, 0
    while True:
        page = api.data(query, after=after)["tickets"]
        pages += 1
        assert len(page["edges"]) <= 2
        seen += [e["node"]["id"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        assert page["pageInfo"]["endCursor"] == page["edges"][-1]["cursor"]
        after = page["pageInfo"]["endCursor"]
    assert len(seen) == len(set(seen))  # nothing twice
    positions = [seen.index(t) for t in mine]
    assert positions == sorted(positions, reverse=True)  # newest first
    assert pages >= 3


def test_orders_of_a_buyer_page_newest_first(api):
    buyer = api.user()
    ids = [api.order(buyer, api.sell(api.user())["id"])["id"] for _ in range(3)]
    first = api.data(
        "{ orders(first: 2) { edges { node { id } } pageInfo { hasNextPage endCursor } } }", buyer
    )["orders"]
    assert [e["node"]["id"] for e in first["edges"]] == ids[::-1][:2] and first["pageInfo"][
        "hasNextPage"
    ]
    rest = api.data(
        "query($a: String) { orders(first: 2, after: $a) "
        "{ edges { node { id } } pageInfo { hasNextPage } } }",
        buyer,
        a=first["pageInfo"]["endCursor"],
    )["orders"]
    assert [e["node"]["id"] for e in rest["edges"]] == [ids[0]] and not rest["pageInfo"][
        "hasNextPage"
    ]


def test_3d_secure_payment_awaits_then_settles_through_the_stripe_webhook(api, stack):
    buyer = api.user()
    ticket = api.sell(api.user(), price="42")
    order = api.order(buyer, ticket["id"])
    base = stack.env.get("STRIPE_API_BASE") or stack.setting("STRIPE_API_BASE")
    key = {"authorization": "Bearer sk_test_localstripe"}
    method = httpx.post(
        f"{base}/v1/payment_methods",
        headers=key,
        data={
            "type": "card",
            "card[number]": "4000002760003184",
            "card[exp_month]": "12",
            "card[exp_year]": "2030",
            "card[cvc]": "123",
        },
    ).json()
    result = api.pay(buyer, order["id"], method["id"])
    assert not result.get("errors"), result
    payment = result["data"]["createPayment"]
    assert payment["status"] == "REQUIRES_ACTION" and payment["clientSecret"]
    api.until(
        lambda: api.get_order(buyer, order["id"]), lambda o: o["status"] == "AWAITING_PAYMENT"
    )
    # The customer authenticates with their bank (localstripe's stand-in for Stripe.js)...
    httpx.post(
        f"{base}/v1/payment_intents/{payment['stripeId']}/_authenticate",
        headers=key,
        data={"client_secret": payment["clientSecret"], "success": "true"},
    ).raise_for_status()
    # ...and Stripe's signed webhook settles the order.
    done = api.until(
        lambda: api.get_order(buyer, order["id"]), lambda o: o["status"] == "COMPLETE", timeout=20
    )
    assert done["payment"]["status"] == "SUCCEEDED"


def test_webhook_with_a_bad_signature_is_refused(stack):
    reply = httpx.post(
        f"{stack.base_url}/webhooks/stripe",
        content=b'{"type": "payment_intent.succeeded"}',
        headers={"stripe-signature": "t=1,v1=deadbeef"},
    )
    assert reply.status_code == 400
