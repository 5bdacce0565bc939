"""The v1 API's objects as a client sees them (docs/api.md §2, §3): global ids that round-trip
and refuse what is not theirs, node/nodes, and nullable links that fail alone."""

from __future__ import annotations

import base64

import pytest

from common.errors import (
    NotFound,
)
from gateway import global_ids
from tests.unit.gateway_v1_world import (
    CALLER,
    SELLER,
    Services,
    errors,
    gid,
    oid,
    run,
    tid,
)

# -- global ids ---------------------------------------------------------------------------------


def test_a_global_id_is_base64url_of_type_and_uuid_without_padding():
    raw = "6f1d3c52-8a4e-4f0b-9c1e-2b7d5e8a9f30"
    encoded = global_ids.encode("Ticket", raw)
    assert encoded == "VGlja2V0OjZmMWQzYzUyLThhNGUtNGYwYi05YzFlLTJiN2Q1ZThhOWYzMA"  # docs/api.md
    assert global_ids.decode(encoded, "Ticket") == raw


@pytest.mark.parametrize(
    "refused",
    [
        "",
        "not base64 at all!",
        global_ids.encode("Order", tid(1)),  # another type
        base64.urlsafe_b64encode(f"Ticket:{tid(1)}".encode()).decode() + "==",  # padded
        base64.b64encode(b"Ticket:a/b+c").decode(),  # standard alphabet, odd raw id
        base64.urlsafe_b64encode(b"Ticket:").decode().rstrip("="),  # no raw id
        base64.urlsafe_b64encode(b"Secret:abc").decode().rstrip("="),  # no such type
        tid(1),  # a raw service id never crosses the API
    ],
)
def test_an_id_that_does_not_decode_or_names_another_type_is_not_found(refused):
    with pytest.raises(NotFound):
        global_ids.decode(refused, "Ticket", field="ticketId")


async def test_every_id_out_is_global_and_no_raw_id_leaks():
    services = Services()
    result = await run(
        services,
        "{ orders(first: 2) { nodes { id buyer { id } ticket { id seller { id } } "
        "payment { id order { id } } } } }",
    )
    assert result.errors is None, result.errors
    first = result.data["orders"]["nodes"][0]
    assert first == {
        "id": gid("Order", oid(0)),
        "buyer": {"id": gid("User", CALLER)},
        "ticket": {"id": gid("Ticket", tid(0)), "seller": {"id": gid("User", SELLER)}},
        "payment": {
            "id": gid("Payment", "20000000-0000-4000-8000-000000000000"),
            "order": {"id": gid("Order", oid(0))},
        },
    }
    assert oid(0) not in str(result.data) and tid(0) not in str(result.data)


async def test_a_ticket_by_an_id_of_another_type_is_not_found_without_a_call():
    services = Services()
    result = await run(services, f'{{ ticket(id: "{gid("Order", tid(1))}") {{ title }} }}')
    assert result.data == {"ticket": None}
    assert errors(result) == [(["ticket"], "NOT_FOUND")]
    assert services.requests == []


# -- node and nodes -----------------------------------------------------------------------------


async def test_node_answers_each_type_by_its_id():
    services = Services()
    query = """query($t: ID!, $o: ID!, $p: ID!, $u: ID!) {
      t: node(id: $t) { __typename id ... on Ticket { title price { amount currencyCode } } }
      o: node(id: $o) { __typename id ... on Order { status } }
      p: node(id: $p) { __typename id ... on Payment { status amount { currencyCode } } }
      u: node(id: $u) { __typename id ... on User { email } }
    }"""
    variables = {
        "t": gid("Ticket", tid(1)),
        "o": gid("Order", oid(2)),
        "p": gid("Payment", "20000000-0000-4000-8000-000000000000"),
        "u": gid("User", CALLER),
    }
    result = await run(services, query, variables)
    assert result.errors is None, result.errors
    assert result.data == {
        "t": {
            "__typename": "Ticket",
            "id": variables["t"],
            "title": "Show 1",
            "price": {"amount": "20.00", "currencyCode": "EUR"},
        },
        "o": {"__typename": "Order", "id": variables["o"], "status": "CREATED"},
        "p": {
            "__typename": "Payment",
            "id": variables["p"],
            "status": "SUCCEEDED",
            "amount": {"currencyCode": "EUR"},
        },
        "u": {"__typename": "User", "id": variables["u"], "email": "me@example.com"},
    }
    # The payment by its own id, the caller's own checked by payments; the user by auth.
    assert services.asked("payments.BatchGetPayments")[0].ids == [
        "20000000-0000-4000-8000-000000000000"
    ]
    assert services.asked("auth.GetUser")[0].id == CALLER


async def test_nodes_answers_one_item_per_id_null_with_its_own_error_where_unknown():
    services = Services()
    ids = [
        gid("Ticket", tid(0)),
        "garbage",
        gid("Ticket", tid(77)),  # unknown to tickets
        gid("Payment", "20000000-0000-4000-8000-000000000009"),  # not the caller's
        gid("User", SELLER),  # another user: not visible through node
        gid("Order", oid(1)),
    ]
    result = await run(services, "query($ids: [ID!]!) { nodes(ids: $ids) { id } }", {"ids": ids})
    assert result.data == {"nodes": [{"id": ids[0]}, None, None, None, None, {"id": ids[5]}]}
    assert sorted(errors(result)) == [
        (["nodes", 1], "NOT_FOUND"),
        (["nodes", 2], "NOT_FOUND"),
        (["nodes", 3], "NOT_FOUND"),
        (["nodes", 4], "NOT_FOUND"),
    ]


async def test_more_than_a_hundred_ids_are_refused_before_any_call():
    services = Services()
    ids = [gid("Ticket", tid(i)) for i in range(101)]
    result = await run(services, "query($ids: [ID!]!) { nodes(ids: $ids) { id } }", {"ids": ids})
    assert result.data is None  # nodes is [Node]!: its refusal nulls the whole answer
    [error] = result.errors
    assert (error.extensions["code"], error.extensions["field"]) == ("BAD_USER_INPUT", "ids")
    assert services.requests == []


async def test_email_is_the_callers_own_only_and_null_without_error_on_anyone_elses():
    services = Services()
    result = await run(
        services,
        f'{{ ticket(id: "{gid("Ticket", tid(0))}") {{ seller {{ id email }} }} '
        "currentUser { email } }",
    )
    assert result.errors is None
    assert result.data["ticket"]["seller"] == {"id": gid("User", SELLER), "email": None}
    assert result.data["currentUser"] == {"email": "me@example.com"}


# -- nullability: a failed link costs that field alone --------------------------------------------


async def test_with_tickets_down_every_order_stands_and_each_ticket_is_null_with_one_error():
    services = Services(orders=3)
    services.down.add("tickets")
    result = await run(services, "{ orders { edges { node { id status ticket { title } } } } }")
    edges = result.data["orders"]["edges"]
    assert [e["node"]["id"] for e in edges] == [gid("Order", oid(i)) for i in range(3)]
    assert all(e["node"]["ticket"] is None for e in edges)
    assert errors(result) == [
        (["orders", "edges", i, "node", "ticket"], "UNAVAILABLE") for i in range(3)
    ]


async def test_a_tickets_state_comes_with_the_ticket_from_its_one_authority():
    """Issue 20: tickets decides availability. Orders down (the old authority, and the only
    other service that knew of holds) changes nothing in a ticket's state, and no call asks it."""
    services = Services()
    query = f'{{ ticket(id: "{gid("Ticket", tid(0))}") {{ title state }} }}'
    result = await run(services, query)
    assert result.data == {"ticket": {"title": "Show 0", "state": "HELD"}}
    services.down.add("orders")
    result = await run(services, query)
    assert result.data == {"ticket": {"title": "Show 0", "state": "HELD"}}
    assert not result.errors
    assert [r for r in services.requests if r[0].startswith("orders.")] == []
