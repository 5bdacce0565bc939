"""The v1 API's connections (docs/api.md §4): paged both ways with exact PageInfo, totalCount
only when selected, sizes and cursors refused before any call."""

from __future__ import annotations

import pytest

from tests.unit.gateway_v1_world import (
    Services,
    gid,
    oid,
    run,
    tid,
)

# -- connections ----------------------------------------------------------------------------------

PAGE = "edges { cursor node { id } } pageInfo { hasNextPage hasPreviousPage startCursor endCursor }"


def ids_of(connection: dict) -> list[str]:
    return [edge["node"]["id"] for edge in connection["edges"]]


@pytest.mark.parametrize(
    ("field", "type_name", "raw"), [("tickets", "Ticket", tid), ("orders", "Order", oid)]
)
async def test_a_connection_pages_forwards_then_backwards_with_exact_page_info(
    field, type_name, raw
):
    services = Services(tickets=5, orders=5)
    expected = [gid(type_name, raw(i)) for i in range(5)]  # newest first

    first = (await run(services, f"{{ {field}(first: 2) {{ {PAGE} }} }}")).data[field]
    assert ids_of(first) == expected[:2]
    assert (first["pageInfo"]["hasNextPage"], first["pageInfo"]["hasPreviousPage"]) == (
        True,
        False,
    )
    after = first["pageInfo"]["endCursor"]
    second = (await run(services, f'{{ {field}(first: 2, after: "{after}") {{ {PAGE} }} }}')).data[
        field
    ]
    assert ids_of(second) == expected[2:4]
    assert (second["pageInfo"]["hasNextPage"], second["pageInfo"]["hasPreviousPage"]) == (
        True,
        True,
    )
    before = second["pageInfo"]["startCursor"]
    back = (await run(services, f'{{ {field}(last: 1, before: "{before}") {{ {PAGE} }} }}')).data[
        field
    ]
    assert ids_of(back) == expected[1:2]
    assert (back["pageInfo"]["hasNextPage"], back["pageInfo"]["hasPreviousPage"]) == (
        True,
        True,
    )
    oldest = (await run(services, f"{{ {field}(last: 2) {{ {PAGE} }} }}")).data[field]
    assert ids_of(oldest) == expected[3:]  # the two oldest, still newest first
    assert (oldest["pageInfo"]["hasNextPage"], oldest["pageInfo"]["hasPreviousPage"]) == (
        False,
        True,
    )
    # Backwards asked the service for it, never the other way round.
    listed = services.asked("tickets.ListTickets" if field == "tickets" else "orders.ListOrders")
    assert [(r.backward, bool(r.before_page_token)) for r in listed] == [
        (False, False),
        (False, False),
        (True, True),
        (True, False),
    ]


async def test_an_empty_page_has_no_cursors():
    services = Services(orders=0)
    page = (await run(services, f"{{ orders {{ {PAGE} }} }}")).data["orders"]
    assert page == {
        "edges": [],
        "pageInfo": {
            "hasNextPage": False,
            "hasPreviousPage": False,
            "startCursor": None,
            "endCursor": None,
        },
    }


async def test_total_count_is_asked_of_orders_only_when_selected():
    services = Services(orders=5)
    plain = await run(services, "{ orders(first: 1) { nodes { id } } }")
    counted = await run(
        services,
        "{ orders(first: 1) { ...Count } } fragment Count on OrderConnection { totalCount }",
    )
    assert plain.errors is None and counted.errors is None
    assert counted.data == {"orders": {"totalCount": 5}}
    assert [r.include_total_count for r in services.asked("orders.ListOrders")] == [False, True]


@pytest.mark.parametrize(
    ("arguments", "field"),
    [
        ("first: 0", "first"),
        ("first: 101", "first"),
        ("last: 0", "last"),
        ("first: 5, last: 5", "first"),
        ('last: 5, after: "x"', "after"),
        ('first: 5, before: "x"', "before"),
        ('after: "not a cursor"', "after"),
        ('last: 2, before: "bm9wZQ"', "before"),
    ],
)
async def test_sizes_mixed_directions_and_bad_cursors_are_bad_user_input_before_any_call(
    arguments, field
):
    services = Services()
    for connection in ("tickets", "orders"):
        result = await run(services, f"{{ {connection}({arguments}) {{ nodes {{ id }} }} }}")
        assert result.data == {connection: None}
        [error] = result.errors
        assert (error.extensions["code"], error.extensions["field"]) == ("BAD_USER_INPUT", field)
    assert services.requests == []


async def test_last_given_by_a_variable_and_first_left_to_its_default_is_not_a_mix():
    services = Services(orders=3)
    result = await run(
        services,
        "query($first: Int, $last: Int) { orders(first: $first, last: $last) { nodes { id } } }",
        {"last": 1},
    )
    assert result.errors is None, result.errors
    assert result.data == {"orders": {"nodes": [{"id": gid("Order", oid(2))}]}}
