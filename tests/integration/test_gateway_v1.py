"""The v1 API through the real gateway (`python -m gateway`, its own process) and the real
tickets and orders services (SecantusDB, RabbitMQ, Redis), as docs/api.md promises it:

- partial failure (NULL-3/4): with tickets unreachable, the buyer's orders page answers every
  order, each `ticket` null with one UNAVAILABLE error whose path names it;
- the orders connection pages forwards and backwards with exact PageInfo and a totalCount;
- node/nodes answer by global id, one item per id, null with NOT_FOUND where unknown.
"""

from __future__ import annotations

import uuid

import pytest

from tests.integration import test_ticket_cache_gateway as through_the_gateway
from tests.integration.test_ticket_cache_gateway import Gateway
from tests.support import servers

pytestmark = pytest.mark.integration

# Tickets and orders in this process, gateways as processes of their own (the same harness).
market = through_the_gateway.market

ORDER = (
    "mutation($id: ID!, $key: String!) { createOrder(input: {ticketId: $id, idempotencyKey: $key}) "
    "{ order { id } userErrors { code field } } }"
)
PAGE_INFO = "pageInfo { hasNextPage hasPreviousPage startCursor endCursor }"


async def listed(gateway: Gateway, seller: str, count: int) -> list[str]:
    """`count` tickets listed through the gateway, oldest first."""
    return [(await gateway.create(seller, f"Show {i}"))["id"] for i in range(count)]


async def ordered(gateway: Gateway, buyer: str, ticket_ids: list[str]) -> list[str]:
    """An order by `buyer` on each ticket, in that order (so the last is the newest)."""
    order_ids = []
    for ticket_id in ticket_ids:
        key = str(uuid.uuid4())
        payload = (await gateway.data(ORDER, buyer, id=ticket_id, key=key))["createOrder"]
        assert payload["userErrors"] == [], payload
        order_ids.append(payload["order"]["id"])
    return order_ids


async def test_with_tickets_unreachable_every_order_stands_and_each_ticket_is_null(market):
    seller, buyer = market.user(), market.user()
    async with market.gateway() as gateway:
        order_ids = await ordered(gateway, buyer, await listed(gateway, seller, 3))

    # A gateway whose tickets address answers nothing, without a cache to hide it.
    dead = f"127.0.0.1:{servers.free_port()}"
    async with market.gateway(TICKETS_ADDR=dead, TICKET_CACHE_ENABLED="false") as gateway:
        result = await gateway.ask(
            "{ orders { edges { node { id status ticket { title } } } } }", buyer
        )

    edges = result["data"]["orders"]["edges"]
    assert [e["node"]["id"] for e in edges] == order_ids[::-1]  # newest first, every one
    assert [e["node"]["status"] for e in edges] == ["CREATED"] * 3
    assert [e["node"]["ticket"] for e in edges] == [None] * 3
    # One error per failed field, its path naming it.
    assert sorted((e["path"], e["extensions"]["code"]) for e in result["errors"]) == [
        (["orders", "edges", i, "node", "ticket"], "UNAVAILABLE") for i in range(3)
    ]


async def test_orders_page_both_ways_with_exact_page_info_and_a_total(market):
    seller, buyer = market.user(), market.user()
    async with market.gateway() as gateway:
        newest_first = (await ordered(gateway, buyer, await listed(gateway, seller, 5)))[::-1]

        async def page(arguments: str) -> dict:
            query = f"{{ orders({arguments}) {{ totalCount nodes {{ id }} {PAGE_INFO} }} }}"
            return (await gateway.data(query, buyer))["orders"]

        first = await page("first: 2")
        assert [n["id"] for n in first["nodes"]] == newest_first[:2]
        assert first["totalCount"] == 5
        assert (first["pageInfo"]["hasNextPage"], first["pageInfo"]["hasPreviousPage"]) == (
            True,
            False,
        )

        second = await page(f'first: 2, after: "{first["pageInfo"]["endCursor"]}"')
        assert [n["id"] for n in second["nodes"]] == newest_first[2:4]
        assert (second["pageInfo"]["hasNextPage"], second["pageInfo"]["hasPreviousPage"]) == (
            True,
            True,
        )

        back = await page(f'last: 3, before: "{second["pageInfo"]["startCursor"]}"')
        assert [n["id"] for n in back["nodes"]] == newest_first[:2]  # only two are before
        assert (back["pageInfo"]["hasNextPage"], back["pageInfo"]["hasPreviousPage"]) == (
            True,
            False,
        )

        oldest = await page("last: 2")
        assert [n["id"] for n in oldest["nodes"]] == newest_first[3:]
        assert (oldest["pageInfo"]["hasNextPage"], oldest["pageInfo"]["hasPreviousPage"]) == (
            False,
            True,
        )

        refused = await gateway.ask("{ orders(first: 2, last: 2) { nodes { id } } }", buyer)
        assert refused["data"] == {"orders": None}
        assert [(e["extensions"]["code"], e["extensions"]["field"]) for e in refused["errors"]] == [
            ("BAD_USER_INPUT", "first")
        ]


async def test_nodes_answers_each_id_in_order_and_null_where_unknown(market):
    seller, buyer = market.user(), market.user()
    async with market.gateway() as gateway:
        [ticket_id] = await listed(gateway, seller, 1)
        [order_id] = await ordered(gateway, buyer, [ticket_id])
        unknown = Gateway.__name__  # not an id at all
        result = await gateway.ask(
            "query($ids: [ID!]!) { nodes(ids: $ids) { __typename id "
            "... on Order { ticket { id state } } } }",
            buyer,
            ids=[order_id, unknown, ticket_id],
        )
        # The seller cannot see the buyer's order: NOT_FOUND, as for an unknown one.
        theirs = await gateway.ask("query($id: ID!) { node(id: $id) { id } }", seller, id=order_id)

    assert result["data"]["nodes"] == [
        {"__typename": "Order", "id": order_id, "ticket": {"id": ticket_id, "state": "HELD"}},
        None,
        {"__typename": "Ticket", "id": ticket_id},
    ]
    assert [(e["path"], e["extensions"]["code"]) for e in result["errors"]] == [
        (["nodes", 1], "NOT_FOUND")
    ]
    assert theirs["data"] == {"node": None}
    assert [e["extensions"]["code"] for e in theirs["errors"]] == ["NOT_FOUND"]


async def test_tickets_page_back_to_the_cached_first_page(market):
    seller = market.user()
    async with market.gateway() as gateway:
        await listed(gateway, seller, 5)

        async def page(arguments: str) -> dict:
            query = f"{{ tickets({arguments}) {{ edges {{ cursor node {{ id }} }} {PAGE_INFO} }} }}"
            return (await gateway.data(query))["tickets"]

        first = await page("first: 2")  # served from the cache the second time
        assert first == await page("first: 2")
        assert not first["pageInfo"]["hasPreviousPage"] and first["pageInfo"]["hasNextPage"]
        second = await page(f'first: 2, after: "{first["pageInfo"]["endCursor"]}"')
        assert second["pageInfo"]["hasPreviousPage"]
        back = await page(f'last: 2, before: "{second["pageInfo"]["startCursor"]}"')
        assert back["edges"] == first["edges"]
        assert back["pageInfo"] == {**first["pageInfo"], "hasNextPage": True}
