"""The v1 API as a client sees it (docs/api.md): global ids that round-trip and refuse what is not
theirs, node/nodes, nullable links that fail alone, connections paged both ways with exact
PageInfo, and mutations whose expected failures are userErrors with the input's path.

The services are stood in for by `Services`, which answers like them (paging both ways on a
newest-first keyset, ids and states, AppErrors with their fields) and records every request.
"""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest

from common.errors import (
    AlreadyExists,
    AppError,
    Conflict,
    Forbidden,
    IdempotencyKeyReused,
    InvalidInput,
    NotFound,
    PaymentDeclined,
    RateLimited,
    Unauthenticated,
    Unavailable,
)
from common.jwt import Claims
from common.pagination import Cursor
from common.protos import from_timestamp, timestamp
from gateway import global_ids
from gateway.context import Context
from gateway.loaders import payments_loader, tickets_loader
from gateway.schema import build_schema
from gateway.ticket_cache import TicketReads
from ticketing.auth.v1 import auth_pb2
from ticketing.orders.v1 import orders_pb2
from ticketing.payments.v1 import payments_pb2
from ticketing.tickets.v1 import tickets_pb2

START = datetime(2026, 11, 1, tzinfo=UTC)
CALLER = "3f0c6a52-8a4e-4f0b-9c1e-2b7d5e8a9f30"
SELLER = "9b1d3c52-8a4e-4f0b-9c1e-2b7d5e8a9f31"


def tid(i: int) -> str:
    return f"00000000-0000-4000-8000-{i:012d}"


def oid(i: int) -> str:
    return f"10000000-0000-4000-8000-{i:012d}"


def gid(type_name: str, raw: str) -> str:
    return global_ids.encode(type_name, raw)


def _page(items: list, request, key) -> tuple[list, bool, bool]:
    """Newest first; forwards after page_token, or backwards before before_page_token."""
    size = request.page_size or 20
    cursors = [key(item) for item in items]
    if request.backward:
        end = cursors.index(request.before_page_token) if request.before_page_token else len(items)
        start = max(0, end - size)
    else:
        start = cursors.index(request.page_token) + 1 if request.page_token else 0
        end = min(len(items), start + size)
    return items[start:end], end < len(items), start > 0


class Services:
    """Tickets t0..t{n-1} (t0 newest) sold by SELLER; the caller's orders o0..o{m-1} on them."""

    def __init__(self, tickets: int = 5, orders: int = 5) -> None:
        self.requests: list[tuple[str, object]] = []
        self.down: set[str] = set()
        self.fail: dict[str, AppError] = {}
        self.tickets_by_id = {
            tid(i): tickets_pb2.Ticket(
                id=tid(i),
                title=f"Show {i}",
                price="20.00",
                currency_code="EUR",
                user_id=SELLER,
                version=1,
                create_time=timestamp(START - timedelta(minutes=i)),
            )
            for i in range(tickets)
        }
        self.orders_list = [
            orders_pb2.Order(
                id=oid(i),
                status=orders_pb2.ORDER_STATUS_CREATED,
                user_id=CALLER,
                ticket_id=tid(i % tickets),
                price="20.00",
                currency_code="EUR",
                version=0,
                expires_at=timestamp(START),
                create_time=timestamp(START - timedelta(minutes=i)),
            )
            for i in range(orders)
        ]
        self.payments_list = [
            payments_pb2.Payment(
                id="20000000-0000-4000-8000-000000000000",
                order_id=oid(0),
                user_id=CALLER,
                amount="20.00",
                currency_code="EUR",
                status="succeeded",
                create_time=timestamp(START),
            )
        ]
        names = {
            "auth": ["GetUser"],
            "tickets": [
                "GetTicket",
                "BatchGetTickets",
                "ListTickets",
                "CreateTicket",
                "UpdateTicket",
                "WithdrawTicket",
            ],
            "orders": [
                "GetOrder",
                "ListOrders",
                "CreateOrder",
                "CancelOrder",
                "BatchGetTicketStates",
            ],
            "payments": ["BatchGetPayments", "CreatePayment"],
            "insights": [],
        }
        for service, methods in names.items():
            setattr(self, service, SimpleNamespace(**{m: f"{service}.{m}" for m in methods}))
        self.payment_timeout = 1

    def asked(self, method: str) -> list[object]:
        return [r for m, r in self.requests if m == method]

    async def call(self, method, request, token=None, timeout=None):
        self.requests.append((method, request))
        service, name = method.split(".")
        if service in self.down:
            raise Unavailable("A service is unavailable, try again shortly")
        if name in self.fail:
            raise self.fail[name]
        return getattr(self, name)(request)

    # -- tickets
    def GetTicket(self, r):
        if r.id not in self.tickets_by_id:
            raise NotFound("Ticket not found")
        return tickets_pb2.GetTicketResponse(ticket=self.tickets_by_id[r.id])

    def BatchGetTickets(self, r):
        found = [self.tickets_by_id[i] for i in r.ids if i in self.tickets_by_id]
        return tickets_pb2.BatchGetTicketsResponse(tickets=found)

    def ListTickets(self, r):
        newest = sorted(self.tickets_by_id.values(), key=lambda t: t.id)
        page, has_next, has_previous = _page(newest, r, _ticket_cursor)
        return tickets_pb2.ListTicketsResponse(
            tickets=page,
            next_page_token=_ticket_cursor(page[-1]) if page and has_next else "",
            has_next_page=has_next,
            has_previous_page=has_previous,
        )

    def CreateTicket(self, r):
        ticket = tickets_pb2.Ticket(
            id=tid(99),
            title=r.title,
            price=r.price,
            currency_code=r.currency_code,
            user_id=CALLER,
            create_time=timestamp(START),
        )
        return tickets_pb2.CreateTicketResponse(ticket=ticket)

    def UpdateTicket(self, r):
        ticket = tickets_pb2.Ticket()
        ticket.CopyFrom(self.tickets_by_id[r.id])
        ticket.version += 1
        if r.HasField("title"):
            ticket.title = r.title
        return tickets_pb2.UpdateTicketResponse(ticket=ticket)

    def WithdrawTicket(self, r):
        ticket = tickets_pb2.Ticket()
        ticket.CopyFrom(self.tickets_by_id[r.id])
        ticket.withdrawn, ticket.version = True, ticket.version + 1
        return tickets_pb2.WithdrawTicketResponse(ticket=ticket)

    # -- orders
    def GetOrder(self, r):
        for order in self.orders_list:
            if order.id == r.id:
                return orders_pb2.GetOrderResponse(order=order)
        raise NotFound("Order not found")

    def ListOrders(self, r):
        page, has_next, has_previous = _page(self.orders_list, r, _order_cursor)
        return orders_pb2.ListOrdersResponse(
            orders=page,
            next_page_token=_order_cursor(page[-1]) if page and has_next else "",
            has_next_page=has_next,
            has_previous_page=has_previous,
            total_count=len(self.orders_list) if r.include_total_count else 0,
        )

    def CreateOrder(self, r):
        return orders_pb2.CreateOrderResponse(order=self.orders_list[0])

    def CancelOrder(self, r):
        return orders_pb2.CancelOrderResponse(order=self.orders_list[0])

    def BatchGetTicketStates(self, r):
        Entry = orders_pb2.BatchGetTicketStatesResponse.Entry
        return orders_pb2.BatchGetTicketStatesResponse(
            states=[Entry(ticket_id=i, state=orders_pb2.TICKET_STATE_HELD) for i in r.ticket_ids]
        )

    # -- payments
    def BatchGetPayments(self, r):
        found = [p for p in self.payments_list if p.id in r.ids or p.order_id in r.order_ids]
        return payments_pb2.BatchGetPaymentsResponse(payments=found)

    def CreatePayment(self, r):
        return payments_pb2.CreatePaymentResponse(payment=self.payments_list[0])

    # -- auth
    def GetUser(self, r):
        return auth_pb2.GetUserResponse(user=auth_pb2.User(id=r.id, email="me@example.com"))


def _ticket_cursor(t) -> str:
    return Cursor(from_timestamp(t.create_time), t.id).encode()


def _order_cursor(o) -> str:
    return Cursor(from_timestamp(o.create_time), o.id).encode()


class SignedIn(Context):
    async def user(self):
        return Claims(sub=CALLER, email="me@example.com", iat=0, exp=2**31, jti="j")


class Anonymous(Context):
    async def user(self):
        return None


async def run(services: Services, query: str, variables: dict | None = None, *, signed_in=True):
    reads = TicketReads(services, cache=None)
    kind = SignedIn if signed_in else Anonymous
    context = kind(
        request=None,
        response=None,
        clients=services,
        accounts=None,
        token="token" if signed_in else None,
        ticket_reads=reads,
        tickets=tickets_loader(reads),
        payments=payments_loader(services, "token"),
    )
    return await build_schema().execute(query, variable_values=variables, context_value=context)


def errors(result) -> list[tuple[list, str]]:
    return [(e.path, e.extensions["code"]) for e in result.errors or []]


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


async def test_a_tickets_state_comes_from_orders_and_fails_alone():
    services = Services()
    query = f'{{ ticket(id: "{gid("Ticket", tid(0))}") {{ title state }} }}'
    result = await run(services, query)
    assert result.data == {"ticket": {"title": "Show 0", "state": "HELD"}}
    assert services.asked("orders.BatchGetTicketStates")[0].ticket_ids == [tid(0)]

    services.down.add("orders")
    result = await run(services, query)
    assert result.data == {"ticket": {"title": "Show 0", "state": None}}
    assert errors(result) == [(["ticket", "state"], "UNAVAILABLE")]


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


# -- mutations: userErrors -----------------------------------------------------------------------

CREATE_TICKET = """mutation($input: CreateTicketInput!) {
  createTicket(input: $input) {
    ticket { id price { amount currencyCode } }
    userErrors { code field message }
  }
}"""
TICKET_INPUT = {
    "title": "Row F",
    "price": {"amount": "20", "currencyCode": "GBP"},
    "idempotencyKey": "key-1",
}


async def test_create_ticket_passes_its_key_and_currency_through_and_answers_the_ticket():
    services = Services()
    result = await run(services, CREATE_TICKET, {"input": TICKET_INPUT})
    assert result.errors is None, result.errors
    assert result.data["createTicket"] == {
        "ticket": {
            "id": gid("Ticket", tid(99)),
            "price": {"amount": "20.00", "currencyCode": "GBP"},
        },
        "userErrors": [],
    }
    [asked] = services.asked("tickets.CreateTicket")
    assert (asked.price, asked.currency_code, asked.idempotency_key) == ("20", "GBP", "key-1")


@pytest.mark.parametrize(
    ("error", "user_error"),
    [
        (InvalidInput("Title is required", field="title"), ("BAD_USER_INPUT", ["input", "title"])),
        (
            InvalidInput("Price must be positive", field="price"),
            ("BAD_USER_INPUT", ["input", "price", "amount"]),
        ),
        (
            InvalidInput("Unknown currency", field="currency_code"),
            ("BAD_USER_INPUT", ["input", "price", "currencyCode"]),
        ),
        (
            InvalidInput("Malformed key", field="idempotency_key"),
            ("BAD_USER_INPUT", ["input", "idempotencyKey"]),
        ),
        (
            IdempotencyKeyReused("Key used for another ticket"),
            ("IDEMPOTENCY_KEY_REUSED", ["input", "idempotencyKey"]),
        ),
    ],
)
async def test_an_expected_refusal_of_create_ticket_is_a_user_error_at_its_input(error, user_error):
    services = Services()
    services.fail["CreateTicket"] = error
    result = await run(services, CREATE_TICKET, {"input": TICKET_INPUT})
    assert result.errors is None
    payload = result.data["createTicket"]
    assert payload["ticket"] is None
    assert [(e["code"], e["field"]) for e in payload["userErrors"]] == [user_error]
    assert payload["userErrors"][0]["message"] == error.message


@pytest.mark.parametrize(
    "error", [Unavailable("A service is unavailable"), RateLimited("Slow down")]
)
async def test_an_unexpected_failure_of_a_mutation_stays_a_top_level_error(error):
    services = Services()
    services.fail["CreateTicket"] = error
    result = await run(services, CREATE_TICKET, {"input": TICKET_INPUT})
    assert result.data == {"createTicket": None}
    assert errors(result) == [(["createTicket"], error.code.value)]


async def test_a_mutation_signed_out_is_top_level_unauthenticated_and_calls_nothing():
    services = Services()
    result = await run(services, CREATE_TICKET, {"input": TICKET_INPUT}, signed_in=False)
    assert result.data == {"createTicket": None}
    assert errors(result) == [(["createTicket"], "UNAUTHENTICATED")]
    assert services.requests == []


ORDER = """mutation($input: CreateOrderInput!) {
  createOrder(input: $input) { order { id ticket { state } } userErrors { code field } }
}"""


@pytest.mark.parametrize(
    ("error", "user_error"),
    [
        (NotFound("Ticket not found"), ("NOT_FOUND", ["input", "ticketId"])),
        (Forbidden("That is your own ticket"), ("FORBIDDEN", ["input", "ticketId"])),
        (Conflict("The ticket is held", field="ticket_id"), ("CONFLICT", ["input", "ticketId"])),
    ],
)
async def test_create_order_refusals_name_the_ticket_id(error, user_error):
    services = Services()
    services.fail["CreateOrder"] = error
    result = await run(
        services, ORDER, {"input": {"ticketId": gid("Ticket", tid(1)), "idempotencyKey": "k"}}
    )
    payload = result.data["createOrder"]
    assert payload["order"] is None
    assert [(e["code"], e["field"]) for e in payload["userErrors"]] == [user_error]


async def test_create_order_with_an_id_of_another_type_is_a_not_found_user_error_and_no_call():
    services = Services()
    result = await run(
        services, ORDER, {"input": {"ticketId": gid("Order", oid(1)), "idempotencyKey": "k"}}
    )
    assert result.data["createOrder"] == {
        "order": None,
        "userErrors": [{"code": "NOT_FOUND", "field": ["input", "ticketId"]}],
    }
    assert services.requests == []


async def test_create_order_passes_the_raw_ticket_id_and_key_and_says_held_at_once():
    services = Services()
    result = await run(
        services, ORDER, {"input": {"ticketId": gid("Ticket", tid(0)), "idempotencyKey": "k-9"}}
    )
    assert result.data["createOrder"] == {
        "order": {"id": gid("Order", oid(0)), "ticket": {"state": "HELD"}},
        "userErrors": [],
    }
    [asked] = services.asked("orders.CreateOrder")
    assert (asked.ticket_id, asked.idempotency_key) == (tid(0), "k-9")


async def test_a_declined_card_is_a_payment_declined_user_error_on_the_payment_method():
    services = Services()
    services.fail["CreatePayment"] = PaymentDeclined("Your card was declined.")
    result = await run(
        services,
        """mutation($input: CreatePaymentInput!) {
          createPayment(input: $input) { payment { id } userErrors { code field message } }
        }""",
        {
            "input": {
                "orderId": gid("Order", oid(0)),
                "paymentMethod": "pm_card_chargeDeclined",
                "idempotencyKey": "pay-1",
            }
        },
    )
    assert result.data["createPayment"] == {
        "payment": None,
        "userErrors": [
            {
                "code": "PAYMENT_DECLINED",
                "field": ["input", "paymentMethod"],
                "message": "Your card was declined.",
            }
        ],
    }
    [asked] = services.asked("payments.CreatePayment")
    assert (asked.order_id, asked.idempotency_key) == (oid(0), "pay-1")


async def test_update_ticket_sends_only_what_is_given_with_the_expected_version():
    services = Services()
    result = await run(
        services,
        """mutation($input: UpdateTicketInput!) {
          updateTicket(input: $input) { ticket { title version } userErrors { code } }
        }""",
        {"input": {"id": gid("Ticket", tid(1)), "expectedVersion": 1, "title": "Row A"}},
    )
    assert result.data["updateTicket"] == {
        "ticket": {"title": "Row A", "version": 2},
        "userErrors": [],
    }
    [asked] = services.asked("tickets.UpdateTicket")
    assert asked.HasField("title") and not asked.HasField("price")
    assert (asked.id, asked.expected_version) == (tid(1), 1)


async def test_an_update_with_nothing_to_change_is_refused_before_any_call():
    services = Services()
    result = await run(
        services,
        """mutation($input: UpdateTicketInput!) {
          updateTicket(input: $input) { ticket { id } userErrors { code field } }
        }""",
        {"input": {"id": gid("Ticket", tid(1)), "expectedVersion": 1, "title": None}},
    )
    assert result.data["updateTicket"] == {
        "ticket": None,
        "userErrors": [{"code": "BAD_USER_INPUT", "field": None}],
    }
    assert services.requests == []


async def test_a_stale_expected_version_is_a_conflict_on_it():
    services = Services()
    services.fail["WithdrawTicket"] = Conflict("The ticket changed", field="expected_version")
    result = await run(
        services,
        """mutation($input: WithdrawTicketInput!) {
          withdrawTicket(input: $input) { ticket { id } userErrors { code field } }
        }""",
        {"input": {"id": gid("Ticket", tid(1)), "expectedVersion": 0}},
    )
    assert result.data["withdrawTicket"] == {
        "ticket": None,
        "userErrors": [{"code": "CONFLICT", "field": ["input", "expectedVersion"]}],
    }


class Accounts:
    """Stands in for gateway/accounts.py: refuses sign-ins as auth does."""

    def __init__(self, error: AppError) -> None:
        self.error = error

    async def sign_in(self, *args, **kwargs):
        raise self.error

    async def sign_up(self, *args, **kwargs):
        raise self.error

    async def change_password(self, *args, **kwargs):
        raise self.error


@pytest.mark.parametrize(
    ("mutation", "error", "expected"),
    [
        (
            'signUp(input: {email: "a@example.com", password: "long enough"})',
            AlreadyExists("Email in use"),
            ("CONFLICT", ["input", "email"]),
        ),
        (
            'signIn(input: {email: "a@example.com", password: "nope"})',
            Unauthenticated("Invalid credentials"),
            ("INVALID_CREDENTIALS", ["input", "password"]),
        ),
        (
            'changePassword(input: {currentPassword: "nope", newPassword: "long enough"})',
            InvalidInput("Current password is incorrect", field="currentPassword"),
            ("INVALID_CREDENTIALS", ["input", "currentPassword"]),
        ),
        (
            'changePassword(input: {currentPassword: "ok", newPassword: "short"})',
            InvalidInput("Password must be at least 8 characters", field="new_password"),
            ("BAD_USER_INPUT", ["input", "newPassword"]),
        ),
    ],
)
async def test_auth_refusals_are_user_errors_on_their_input(mutation, error, expected):
    services = Services()
    reads = TicketReads(services, cache=None)
    context = SignedIn(
        request=SimpleNamespace(client=SimpleNamespace(host="127.0.0.1"), headers={}),
        response=None,
        clients=services,
        accounts=Accounts(error),
        token="token",
        ticket_reads=reads,
        tickets=tickets_loader(reads),
        payments=payments_loader(services, "token"),
    )
    result = await build_schema().execute(
        f"mutation {{ m: {mutation} {{ user {{ id }} token userErrors {{ code field }} }} }}",
        context_value=context,
    )
    assert result.errors is None, result.errors
    assert result.data["m"] == {
        "user": None,
        "token": None,
        "userErrors": [{"code": expected[0], "field": expected[1]}],
    }
