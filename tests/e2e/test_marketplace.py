"""The purchase flow end to end through GraphQL (v1, docs/api.md): real services, SecantusDB,
RabbitMQ, Redis and the Stripe stand-in, all started by `ticketing run`."""

from __future__ import annotations

import json
import uuid
from concurrent.futures import ThreadPoolExecutor

import httpx
import pymongo
import pytest

from tests.support.ids import global_id, raw_id
from tests.support.market import Api, intent_id, money, mutation, new_key
from tests.support.tap import EventTap

pytestmark = pytest.mark.e2e

USD_20 = {"amount": "20.00", "currencyCode": "USD"}


@pytest.fixture
def api(client) -> Api:
    return Api(client)


@pytest.fixture(scope="module")
def mongo(stack):
    client = pymongo.MongoClient(stack.setting("MONGO_URL"))
    yield client
    client.close()


@pytest.fixture(scope="module")
def payments_db(stack, mongo):
    return mongo[f"{stack.namespace}_payments"]


@pytest.fixture(scope="module")
def tickets_db(stack, mongo):
    return mongo[f"{stack.namespace}_tickets"]


def agreed_story(api: Api, tickets_db, payments_db, buyer: str, order_id: str, ticket_id: str):
    """(the order holding the ticket in tickets' own records, the ticket's state, the order's
    status in orders, its copy's status in payments): the services agree on one purchase."""
    record = tickets_db.tickets.find_one({"_id": raw_id(ticket_id, "Ticket")}) or {}
    holders = [h["order_id"] for h in record.get("holds", [])]
    state = api.get_ticket(ticket_id)["state"]
    order = api.get_order(buyer, order_id)
    copy = payments_db.orders.find_one({"_id": raw_id(order_id, "Order")}) or {}
    return (holders[0] if holders else None), state, order["status"], copy.get("status")


def status_is(status: str):
    return lambda order: order["status"] == status


def test_list_order_pay_complete(api, stack, tickets_db, payments_db, amqp_url):
    # The services' events (not the gateway's behaviour events: ticket.viewed, order.started).
    keys = ("ticket.created", "ticket.updated", "order.created", "order.updated", "order.cancelled")
    keys += ("charge.*",)
    tap = EventTap(amqp_url, stack.namespace, keys)
    try:
        seller, buyer = api.sign_up(), api.sign_up()
        ticket = api.sell(seller["token"], "Arctic Monkeys, row F", "20")
        assert ticket["price"] == USD_20 and ticket["state"] == "FOR_SALE"
        assert ticket["version"] == 0 and ticket["seller"] == {"id": seller["user"]["id"]}
        listed = api.data("{ tickets(first: 100) { edges { node { id } } } }")["tickets"]["edges"]
        assert ticket["id"] in [e["node"]["id"] for e in listed]

        order = api.order(buyer["token"], ticket["id"])
        assert order["status"] == "CREATED" and order["payment"] is None
        assert order["price"] == USD_20 and order["buyer"] == {"id": buyer["user"]["id"]}
        # The state is the authority's (tickets): held at once, in the answer itself (DOM-2).
        assert order["ticket"]["id"] == ticket["id"] and order["ticket"]["state"] == "HELD"
        assert api.get_ticket(ticket["id"])["state"] == "HELD"

        payment = api.pay(buyer["token"], order["id"])
        assert payment["status"] == "SUCCEEDED" and payment["amount"] == USD_20
        assert payment["order"] == {"id": order["id"]}

        done = api.until(lambda: api.get_order(buyer["token"], order["id"]), status_is("COMPLETE"))
        assert done["payment"]["id"] == payment["id"]
        # The buyer sees it is theirs, not "held", once the paid order's event reached tickets.
        sold = api.until(
            lambda: api.get_order(buyer["token"], order["id"]),
            lambda o: o["ticket"]["state"] == "SOLD",
        )
        assert sold["status"] == "COMPLETE"
        story = api.until(
            lambda: agreed_story(
                api, tickets_db, payments_db, buyer["token"], order["id"], ticket["id"]
            ),
            lambda s: s[3] == "COMPLETE",
        )
        assert story == (raw_id(order["id"]), "SOLD", "COMPLETE", "COMPLETE")
        # Paying twice (a new key: a new attempt) is refused; nothing is charged again.
        again = api.payment(buyer["token"], order["id"])
        assert [e["code"] for e in again["userErrors"]] == ["CONFLICT"], again
        assert again["payment"] is None
        # Cancelling a paid order is a conflict too (IDEM-7).
        cancel = api.refusal("cancelOrder", buyer["token"], id=order["id"])
        assert [code for code, _ in cancel] == ["CONFLICT"]
        tap.wait_for(1, key="charge.created")
        tap.wait_for(1, key="order.updated")
        tap.wait_for(2, key="ticket.updated")
        order_raw = raw_id(order["id"], "Order")
        ticket_raw = raw_id(ticket["id"], "Ticket")
        seen = [s for s in tap.seen if ticket_raw in str(s.body) or order_raw in str(s.body)]
    finally:
        tap.close()
    keys = [s.routing_key for s in seen]
    # Tickets holds the seat (ticket.updated) before orders places the order (order.created),
    # each service publishing from its own outbox; orders completes the order on the charge, and
    # tickets sells the seat on that (the second ticket.updated).
    assert keys[0] == "ticket.created", keys
    assert sorted(keys[1:]) == sorted(
        ["ticket.updated", "order.created", "charge.created", "order.updated", "ticket.updated"]
    ), keys
    assert keys.index("charge.created") < keys.index("order.updated"), keys
    assert len(keys) - 1 - keys[::-1].index("ticket.updated") > keys.index("order.updated"), keys
    updated = json.loads(next(s.body for s in seen if s.routing_key == "order.updated"))
    assert updated == {
        "id": order_raw,
        "version": 1,
        "status": "ORDER_STATUS_COMPLETE",
        "userId": raw_id(buyer["user"]["id"], "User"),
    }
    charge = json.loads(next(s.body for s in seen if s.routing_key == "charge.created"))
    assert charge["amount"] == 2000 and charge["orderId"] == order_raw
    # The charge is the payment's: payments recorded that PaymentIntent for this order.
    record = payments_db.payments.find_one({"order_id": order_raw})
    assert record["_id"] == raw_id(payment["id"], "Payment")
    assert charge["stripeId"] == record["stripe_id"] and charge["stripeId"].startswith("pi_")
    assert payment["clientSecret"] is None  # nothing for the buyer to confirm


def test_declined_card_cancels_the_order_and_releases_the_ticket(api, tickets_db, payments_db):
    seller, buyer, next_buyer = api.user(), api.user(), api.user()
    ticket = api.sell(seller, price="35.50", currency="EUR")
    assert ticket["price"] == {"amount": "35.50", "currencyCode": "EUR"}
    order = api.order(buyer, ticket["id"])
    assert order["price"] == ticket["price"]  # the currency is carried unchanged (DOM-5)
    key = new_key()
    declined = api.payment(buyer, order["id"], "pm_card_chargeCustomerFail", key)
    assert declined["payment"] is None
    assert [(e["code"], e["field"]) for e in declined["userErrors"]] == [
        ("PAYMENT_DECLINED", ["input", "paymentMethod"])
    ]
    # The decline is the outcome recorded with the key: the same request again replays it
    # (IDEM-4) rather than charging again.
    assert api.payment(buyer, order["id"], "pm_card_chargeCustomerFail", key) == declined
    # The declined payment stays on the order.
    payment = api.data(
        "query($id: ID!) { order(id: $id) { payment { status amount { amount currencyCode } } } }",
        buyer,
        id=order["id"],
    )["order"]["payment"]
    assert payment == {"status": "FAILED", "amount": ticket["price"]}
    order_raw = raw_id(order["id"], "Order")
    record = payments_db.payments.find_one({"order_id": order_raw})
    assert record["stripe_id"].startswith("pi_") and record["status"] == "failed"
    assert payments_db.payments.count_documents({"order_id": order_raw}) == 1
    cancelled = api.until(
        lambda: api.get_order(buyer, order["id"]), lambda o: o["status"] == "CANCELLED"
    )
    assert cancelled["cancelReason"] == "PAYMENT_FAILED"
    api.until(lambda: api.get_ticket(ticket["id"]), lambda t: t["state"] == "FOR_SALE")
    story = api.until(
        lambda: agreed_story(api, tickets_db, payments_db, buyer, order["id"], ticket["id"]),
        lambda s: s[3] == "CANCELLED" and s[0] is None,
    )
    assert story == (None, "FOR_SALE", "CANCELLED", "CANCELLED")
    # The ticket is for sale again, and someone else gets it.
    assert api.order(next_buyer, ticket["id"])["status"] == "CREATED"


def test_paying_a_cancelled_order_is_a_conflict(api):
    buyer = api.user()
    ticket = api.sell(api.user())
    order = api.order(buyer, ticket["id"])
    selection = "order { status cancelReason version }"
    cancelled = api.succeed("cancelOrder", buyer, selection, id=order["id"])["order"]
    assert cancelled == {"status": "CANCELLED", "cancelReason": "CANCELLED_BY_USER", "version": 1}
    result = api.payment(buyer, order["id"])
    assert [e["code"] for e in result["userErrors"]] == ["CONFLICT"] and not result["payment"]
    # Cancelling it again reaches the state asked for: the order as it is, no error (IDEM-7).
    again = api.succeed("cancelOrder", buyer, selection, id=order["id"])["order"]
    assert again == cancelled


def test_a_held_ticket_cannot_be_changed_and_only_its_seller_may_change_it(api):
    seller, buyer = api.user(), api.user()
    ticket = api.sell(seller, "Original", "10")
    selection = "ticket { title price { amount currencyCode } version state }"

    def update(token: str, version: int, title: str, price: str) -> dict:
        return api.mutate(
            "updateTicket",
            token,
            selection,
            id=ticket["id"],
            expectedVersion=version,
            title=title,
            price=money(price),
        )

    refused = update(buyer, 0, "Mine now", "1")
    assert [(e["code"], e["field"]) for e in refused["userErrors"]] == [
        ("FORBIDDEN", ["input", "id"])
    ]
    changed = update(seller, 0, "Renamed", "12.5")
    assert changed == {
        "ticket": {
            "title": "Renamed",
            "price": {"amount": "12.50", "currencyCode": "USD"},
            "version": 1,
            "state": "FOR_SALE",
        },
        "userErrors": [],
    }
    # The same edit again (its answer lost) is our own edit: the ticket, no error (IDEM-7)...
    assert update(seller, 0, "Renamed", "12.50") == changed
    # ...while another edit from the stale version is a conflict (DOM-4): nothing changes.
    stale = update(seller, 0, "Other tab", "13")
    assert [(e["code"], e["field"]) for e in stale["userErrors"]] == [
        ("CONFLICT", ["input", "expectedVersion"])
    ]
    assert api.get_ticket(ticket["id"])["title"] == "Renamed"
    api.order(buyer, ticket["id"])
    # The seller's page reads the ticket again (tickets records the hold too: a new version)...
    current = api.until(lambda: api.get_ticket(ticket["id"]), lambda t: t["version"] > 1)
    assert current["state"] == "HELD"
    # ...and its edit from that version is refused: an order holds the ticket (DOM-4).
    held = update(seller, current["version"], "Again", "15")
    assert [(e["code"], e["field"]) for e in held["userErrors"]] == [("CONFLICT", ["input", "id"])]
    assert held["ticket"] is None
    assert api.get_ticket(ticket["id"])["title"] == "Renamed"


def test_a_withdrawn_ticket_is_off_sale_for_good(api):
    seller, buyer = api.user(), api.user()
    ticket = api.sell(seller, "Changed my mind", "30")
    selection = "ticket { id state version }"
    refused = api.refusal("withdrawTicket", buyer, id=ticket["id"], expectedVersion=0)
    assert refused == [("FORBIDDEN", ["input", "id"])]
    withdrawn = api.succeed("withdrawTicket", seller, selection, id=ticket["id"], expectedVersion=0)
    assert withdrawn["ticket"] == {"id": ticket["id"], "state": "WITHDRAWN", "version": 1}
    # Withdrawing again from the same version is our own withdrawal: the ticket (IDEM-7).
    again = api.succeed("withdrawTicket", seller, selection, id=ticket["id"], expectedVersion=0)
    assert again == withdrawn
    assert api.get_ticket(ticket["id"])["state"] == "WITHDRAWN"
    # No order can take it, and no listing shows it, even of unavailable tickets (NAME-5).
    ordering = api.refusal("createOrder", buyer, ticketId=ticket["id"], idempotencyKey=new_key())
    assert [code for code, _ in ordering] == ["CONFLICT"]
    listing = "{ tickets(first: 100, includeUnavailable: true) { nodes { id } } }"
    api.until(
        lambda: api.data(listing)["tickets"]["nodes"],
        lambda nodes: ticket["id"] not in [n["id"] for n in nodes],
    )


def test_another_users_order_is_not_found_and_their_ticket_is_readable(api):
    seller, buyer, stranger = api.user(), api.user(), api.user()
    ticket = api.sell(seller)
    order = api.order(buyer, ticket["id"])
    query = "query($id: ID!) { order(id: $id) { id } }"
    # A query's NOT_FOUND carries no extensions but its code (docs/api.md §12).
    assert api.codes(query, stranger, id=order["id"]) == [("NOT_FOUND", None)]
    assert api.refusal("cancelOrder", stranger, id=order["id"]) == [("NOT_FOUND", ["input", "id"])]
    assert api.data("{ orders { edges { node { id } } } }", stranger)["orders"]["edges"] == []
    assert api.get_ticket(ticket["id"])["id"] == ticket["id"]  # tickets are public
    own = api.refusal("createOrder", seller, ticketId=ticket["id"], idempotencyKey=new_key())
    assert [code for code, _ in own] in (["FORBIDDEN"], ["CONFLICT"]), own
    # Nor can it be paid for by another: FORBIDDEN would tell that it exists. (Paid by its buyer
    # first, so that payments surely holds its copy of the order.)
    assert api.pay(buyer, order["id"])["status"] == "SUCCEEDED"
    paying = api.refusal(
        "createPayment",
        stranger,
        orderId=order["id"],
        paymentMethod="pm_card_visa",
        idempotencyKey=new_key(),
    )
    assert paying == [("NOT_FOUND", ["input", "orderId"])]


def test_validation_and_authentication_errors(api):
    seller = api.user()

    def sell(token, title: str, amount: str, key: str | None = None) -> list:
        return api.refusal(
            "createTicket",
            token,
            title=title,
            price=money(amount),
            idempotencyKey=new_key() if key is None else key,
        )

    price, title = ["input", "price", "amount"], ["input", "title"]
    assert sell(seller, "x", "0") == [("BAD_USER_INPUT", price)]
    assert sell(seller, "x", "1.999") == [("BAD_USER_INPUT", price)]
    assert sell(seller, "x", "1000000.01") == [("BAD_USER_INPUT", price)]
    assert sell(seller, "  ", "10") == [("BAD_USER_INPUT", title)]
    assert sell(seller, "x" * 201, "10") == [("BAD_USER_INPUT", title)]
    for key in ("not a key", "k" * 65, ""):
        assert sell(seller, "x", "10", key) == [("BAD_USER_INPUT", ["input", "idempotencyKey"])]
    listing = {"title": "x", "price": money("10"), "idempotencyKey": new_key()}
    assert api.top_level("createTicket", None, **listing) == [("UNAUTHENTICATED", None)]
    # A value the scalar refuses never reaches the mutation: top-level, naming the variable.
    unpriced = listing | {"price": money("ten")}
    scalar = api.ask(mutation("createTicket", "ticket { id }"), seller, input=unpriced)
    assert [e["extensions"]["code"] for e in scalar["errors"]] == ["BAD_USER_INPUT"]
    assert scalar.get("data") is None
    assert api.codes("{ tickets(first: 101) { edges { cursor } } }") == [
        ("BAD_USER_INPUT", "first")
    ]
    mixed = api.codes("{ tickets(first: 1, last: 1) { edges { cursor } } }")
    assert [code for code, _ in mixed] == ["BAD_USER_INPUT"]
    assert api.codes('{ tickets(after: "garbage") { edges { cursor } } }') == [
        ("BAD_USER_INPUT", "after")
    ]
    assert api.codes("{ orders { edges { cursor } } }") == [("UNAUTHENTICATED", None)]
    # An id that does not decode, and a well-formed one of another type: both simply unknown.
    wrong_type = global_id("Order", str(uuid.uuid4()))
    for unknown in ("nope", wrong_type):
        ticket = api.codes("query($id: ID!) { ticket(id: $id) { id } }", id=unknown)
        assert ticket == [("NOT_FOUND", None)], unknown
        ordering = api.refusal("createOrder", seller, ticketId=unknown, idempotencyKey=new_key())
        assert ordering == [("NOT_FOUND", ["input", "ticketId"])], unknown
    paying = {"orderId": "nope", "paymentMethod": "pm_card_visa", "idempotencyKey": new_key()}
    assert api.top_level("createPayment", None, **paying) == [("UNAUTHENTICATED", None)]


def test_twenty_buyers_race_for_one_ticket(api, stack):
    ticket = api.sell(api.user())
    buyers = [api.user() for _ in range(20)]
    first = api.order(buyers[0], ticket["id"])  # waits until orders knows the ticket...
    api.cancel(buyers[0], first["id"])
    query = mutation("createOrder", "order { id }")

    def attempt(token: str) -> dict:
        with httpx.Client(base_url=stack.base_url, timeout=30) as own:
            variables = {"input": {"ticketId": ticket["id"], "idempotencyKey": new_key()}}
            return own.post(
                "/graphql",
                json={"query": query, "variables": variables},
                headers={"authorization": f"Bearer {token}"},
            ).json()

    with ThreadPoolExecutor(20) as pool:
        results = list(pool.map(attempt, buyers))  # ...then 20 buyers at once
    assert all(not r.get("errors") for r in results), results
    payloads = [r["data"]["createOrder"] for r in results]
    winners = [p for p in payloads if p["userErrors"] == [] and p["order"]]
    losers = [p for p in payloads if p["userErrors"]]
    codes = {e["code"] for p in losers for e in p["userErrors"]}
    assert len(winners) == 1 and codes == {"CONFLICT"}, payloads
    assert len(losers) == 19 and all(p["order"] is None for p in losers), payloads


def test_pagination_walks_every_ticket_once_newest_first(api):
    seller = api.user()
    mine = [api.sell(seller, f"Seat {i}", str(10 + i))["id"] for i in range(5)]
    query = (
        "query($after: String) { tickets(first: 2, after: $after, includeUnavailable: true) "
        "{ edges { cursor node { id } } pageInfo { hasNextPage hasPreviousPage startCursor "
        "endCursor } } }"
    )
    seen, after, pages = [], None, 0
    while True:
        page = api.data(query, after=after)["tickets"]
        pages += 1
        assert len(page["edges"]) <= 2
        assert page["pageInfo"]["hasPreviousPage"] is (after is not None)  # exact (PAGE-4)
        seen += [e["node"]["id"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        assert page["pageInfo"]["startCursor"] == page["edges"][0]["cursor"]
        assert page["pageInfo"]["endCursor"] == page["edges"][-1]["cursor"]
        after = page["pageInfo"]["endCursor"]
    assert len(seen) == len(set(seen))  # nothing twice
    positions = [seen.index(t) for t in mine]
    assert positions == sorted(positions, reverse=True)  # newest first
    assert pages >= 3


def test_orders_of_a_buyer_page_newest_first_in_both_directions(api):
    buyer = api.user()
    ids = [api.order(buyer, api.sell(api.user())["id"])["id"] for _ in range(3)]
    first = api.data(
        "{ orders(first: 2) { totalCount edges { node { id } } "
        "pageInfo { hasNextPage hasPreviousPage endCursor } } }",
        buyer,
    )["orders"]
    assert [e["node"]["id"] for e in first["edges"]] == ids[::-1][:2]
    assert first["pageInfo"]["hasNextPage"] and not first["pageInfo"]["hasPreviousPage"]
    assert first["totalCount"] == 3
    rest = api.data(
        "query($a: String) { orders(first: 2, after: $a) "
        "{ edges { node { id } } pageInfo { hasNextPage hasPreviousPage startCursor } } }",
        buyer,
        a=first["pageInfo"]["endCursor"],
    )["orders"]
    assert [e["node"]["id"] for e in rest["edges"]] == [ids[0]]
    assert not rest["pageInfo"]["hasNextPage"] and rest["pageInfo"]["hasPreviousPage"]
    # Backwards from the oldest: the newer ones, still newest first (PAGE-3).
    back = api.data(
        "query($b: String) { orders(last: 2, before: $b) "
        "{ nodes { id } pageInfo { hasNextPage hasPreviousPage } } }",
        buyer,
        b=rest["pageInfo"]["startCursor"],
    )["orders"]
    assert [n["id"] for n in back["nodes"]] == ids[::-1][:2]
    assert back["pageInfo"] == {"hasNextPage": True, "hasPreviousPage": False}


def test_3d_secure_payment_awaits_then_settles_through_the_stripe_webhook(api, stack):
    buyer = api.user()
    ticket = api.sell(api.user(), price="42")
    order = api.order(buyer, ticket["id"])
    base = stack.env.get("STRIPE_API_BASE") or stack.setting("STRIPE_API_BASE")
    key = {"authorization": "Bearer sk_test_standin"}
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
    payment = api.pay(buyer, order["id"], method["id"])
    assert payment["status"] == "REQUIRES_ACTION" and payment["clientSecret"]
    api.until(
        lambda: api.get_order(buyer, order["id"]), lambda o: o["status"] == "AWAITING_PAYMENT"
    )
    # The customer authenticates with their bank (the stand-in's test endpoint, as its Stripe.js)...
    httpx.post(
        f"{base}/_standin/payment_intents/{intent_id(payment)}/authenticate",
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
