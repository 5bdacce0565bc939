"""The gateway resolves a page of orders, or of listings, with a constant number of gRPC calls
(DataLoaders): one per service whatever the page size, the tickets' states coming with the
tickets, the listings' events in one BatchGetEvents."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from types import SimpleNamespace

from common.errors import NotFound
from common.jwt import Claims
from common.protos import timestamp
from gateway import global_ids
from gateway.context import Context
from gateway.loaders import payments_loader, tickets_loader
from gateway.schema import build_schema
from gateway.ticket_cache import TicketReads
from ticketing.catalogue.v1 import catalogue_pb2
from ticketing.orders.v1 import orders_pb2
from ticketing.payments.v1 import payments_pb2
from ticketing.tickets.v1 import tickets_pb2

NOW = timestamp(datetime(2026, 11, 1, tzinfo=UTC))


class CountingClients:
    """Stands in for ServiceClients: answers like the services and counts every call."""

    def __init__(self, orders: int) -> None:
        self.calls: Counter[str] = Counter()
        self.orders_count = orders
        self.tickets = SimpleNamespace(BatchGetTickets="BatchGetTickets")
        self.orders = SimpleNamespace(ListOrders="ListOrders")
        self.payments = SimpleNamespace(BatchGetPayments="BatchGetPayments")

    async def call(self, method, request, token=None, timeout=None):
        self.calls[method] += 1
        if method == "ListOrders":
            return orders_pb2.ListOrdersResponse(
                orders=[
                    orders_pb2.Order(
                        id=f"o{i}",
                        status=orders_pb2.ORDER_STATUS_CREATED,
                        expires_at=NOW,
                        create_time=NOW,
                        user_id="buyer",
                        ticket_id=f"t{i % 7}",  # some orders share a ticket
                        price="20.00",
                    )
                    for i in range(self.orders_count)
                ]
            )
        if method == "BatchGetTickets":
            assert len(request.ids) == len(set(request.ids))
            return tickets_pb2.BatchGetTicketsResponse(
                tickets=[
                    tickets_pb2.Ticket(
                        id=i,
                        title=f"T {i}",
                        price="20.00",
                        create_time=NOW,
                        state=tickets_pb2.TICKET_STATE_HELD,
                    )
                    for i in request.ids
                ]
            )
        if method == "BatchGetPayments":
            return payments_pb2.BatchGetPaymentsResponse(
                payments=[
                    payments_pb2.Payment(
                        id=f"p-{o}", order_id=o, amount="20.00", status="succeeded"
                    )
                    for o in request.order_ids
                    if int(o[1:]) % 2 == 0
                ]
            )
        raise AssertionError(f"unexpected call {method}")


class SignedInContext(Context):
    async def user(self):
        return Claims(sub="buyer", email="b@example.com", iat=0, exp=2**31, jti="j")


async def run(orders: int) -> tuple[dict, Counter[str]]:
    clients = CountingClients(orders)
    reads = TicketReads(clients, cache=None)
    context = SignedInContext(
        request=None,
        response=None,
        clients=clients,
        accounts=None,
        token="token",
        ticket_reads=reads,
        tickets=tickets_loader(reads),
        payments=payments_loader(clients, "token"),
    )
    result = await build_schema().execute(
        "{ orders(first: 100) { edges { node { id ticket { title state } payment { id } } } } }",
        context_value=context,
    )
    assert result.errors is None, result.errors
    return result.data, clients.calls


async def test_a_hundred_orders_take_three_calls_their_tickets_states_included():
    data, calls = await run(100)
    edges = data["orders"]["edges"]
    assert len(edges) == 100
    assert edges[3]["node"]["ticket"] == {"title": "T t3", "state": "HELD"}
    assert edges[2]["node"]["payment"] == {"id": global_ids.encode("Payment", "p-o2")}
    assert edges[3]["node"]["payment"] is None
    assert calls == {
        "ListOrders": 1,
        "BatchGetTickets": 1,  # the tickets' states come with them
        "BatchGetPayments": 1,
    }


async def test_the_number_of_calls_does_not_grow_with_the_page():
    _, few = await run(3)
    _, many = await run(100)
    assert few == many


class ListingClients:
    """Stands in for ServiceClients: the caller's `listings` listings, of `events` different
    events (one the catalogue does not know, when `unknown_event`), and the catalogue's events
    by id, one at a time or in a batch; every call counted, with the ids each batch asked."""

    def __init__(self, listings: int, events: int, *, unknown_event: bool = False) -> None:
        self.calls: Counter[str] = Counter()
        self.batches: list[list[str]] = []
        self.listings, self.events = listings, events
        self.known = {f"e{i}" for i in range(events - 1 if unknown_event else events)}
        self.tickets = SimpleNamespace(ListMyTickets="ListMyTickets")
        self.catalogue = SimpleNamespace(GetEvent="GetEvent", BatchGetEvents="BatchGetEvents")

    async def call(self, method, request, token=None, timeout=None):
        self.calls[method] += 1
        if method == "ListMyTickets":
            return tickets_pb2.ListMyTicketsResponse(
                tickets=[
                    tickets_pb2.Ticket(
                        id=f"l{i}",
                        price="20.00",
                        currency_code="EUR",
                        create_time=NOW,
                        user_id="buyer",
                        quantity=2,
                        event_id=f"e{i % self.events}",
                    )
                    for i in range(self.listings)
                ]
            )
        if method == "BatchGetEvents":
            self.batches.append(list(request.ids))
            return catalogue_pb2.BatchGetEventsResponse(
                events=[event(i) for i in request.ids if i in self.known]
            )
        if method == "GetEvent":
            if request.id not in self.known:
                raise NotFound("Event not found", field="id")
            return catalogue_pb2.GetEventResponse(event=event(request.id))
        raise AssertionError(f"unexpected call {method}")


def event(event_id: str) -> catalogue_pb2.Event:
    return catalogue_pb2.Event(id=event_id, name=f"Show {event_id}", start_time=NOW, end_time=NOW)


async def my_listings(clients: ListingClients) -> tuple[dict, list]:
    reads = TicketReads(clients, cache=None)
    context = SignedInContext(
        request=None,
        response=None,
        clients=clients,
        accounts=None,
        token="token",
        ticket_reads=reads,
        tickets=tickets_loader(reads),
        payments=payments_loader(clients, "token"),
    )
    result = await build_schema().execute(
        "{ myListings(first: 100) { edges { node { id event { id name } } } } }",
        context_value=context,
    )
    return result.data, result.errors or []


async def test_a_page_of_listings_asks_the_catalogue_once_for_all_their_events():
    clients = ListingClients(listings=30, events=10)
    data, errors = await my_listings(clients)
    assert errors == []
    nodes = [e["node"] for e in data["myListings"]["edges"]]
    assert len(nodes) == 30
    assert nodes[13]["event"] == {"id": global_ids.encode("Event", "e3"), "name": "Show e3"}
    assert clients.calls == {"ListMyTickets": 1, "BatchGetEvents": 1}  # never GetEvent
    assert sorted(clients.batches[0]) == sorted(f"e{i}" for i in range(10))  # each event once


async def test_a_listing_of_an_event_the_catalogue_does_not_know_has_no_event():
    clients = ListingClients(listings=4, events=4, unknown_event=True)
    data, errors = await my_listings(clients)
    events = [e["node"]["event"] for e in data["myListings"]["edges"]]
    assert [e and e["name"] for e in events] == ["Show e0", "Show e1", "Show e2", None]
    assert [(e.path, e.extensions["code"]) for e in errors] == [
        (["myListings", "edges", 3, "node", "event"], "NOT_FOUND")
    ]
    assert clients.calls == {"ListMyTickets": 1, "BatchGetEvents": 1}


async def test_nodes_of_several_events_ask_the_catalogue_once_and_an_unknown_one_is_null():
    clients = ListingClients(listings=0, events=4, unknown_event=True)  # e3 is unknown
    ids = [global_ids.encode("Event", f"e{i}") for i in (0, 3, 1, 0)]
    reads = TicketReads(clients, cache=None)
    context = SignedInContext(
        request=None,
        response=None,
        clients=clients,
        accounts=None,
        token="token",
        ticket_reads=reads,
        tickets=tickets_loader(reads),
        payments=payments_loader(clients, "token"),
    )
    result = await build_schema().execute(
        "query($ids: [ID!]!) { nodes(ids: $ids) { id ... on Event { name } } }",
        variable_values={"ids": ids},
        context_value=context,
    )
    assert [n and n["name"] for n in result.data["nodes"]] == [
        "Show e0",
        None,
        "Show e1",
        "Show e0",
    ]
    assert [(e.path, e.extensions["code"]) for e in result.errors] == [(["nodes", 1], "NOT_FOUND")]
    assert clients.calls == {"BatchGetEvents": 1}  # never GetEvent, whatever the number of ids
    assert sorted(clients.batches[0]) == ["e0", "e1", "e3"]


class DisputeClients:
    """Stands in for ServiceClients: `disputes` disputes (every third without a payout, the
    fourth's payout unknown to payments) and their payouts by id; every call counted, with the
    ids each BatchGetPayouts asked."""

    def __init__(self, disputes: int) -> None:
        self.calls: Counter[str] = Counter()
        self.batches: list[list[str]] = []
        self.disputes = disputes
        self.payments = SimpleNamespace(
            ListDisputes="ListDisputes", BatchGetPayouts="BatchGetPayouts"
        )

    def payout_id(self, i: int) -> str:
        return "" if i % 3 == 2 else f"po{i}"

    async def call(self, method, request, token=None, timeout=None):
        self.calls[method] += 1
        if method == "ListDisputes":
            return payments_pb2.ListDisputesResponse(
                disputes=[
                    payments_pb2.Dispute(
                        id=f"dp_{i}",
                        order_id=f"o{i}",
                        amount=5000,
                        currency_code="EUR",
                        reason="fraudulent",
                        status="needs_response",
                        facts=payments_pb2.DisputeFacts(purchase_time=NOW),
                        create_time=NOW,
                        payout_id=self.payout_id(i),
                    )
                    for i in range(self.disputes)
                ]
            )
        if method == "BatchGetPayouts":
            assert token == "token"  # on the operator's behalf
            self.batches.append(list(request.ids))
            return payments_pb2.BatchGetPayoutsResponse(
                payouts=[
                    payments_pb2.Payout(
                        id=i,
                        order_id=f"o{i[2:]}",
                        seller_id="seller",
                        amount="40.00",
                        currency_code="EUR",
                        status="HELD",
                        create_time=NOW,
                    )
                    for i in request.ids
                    if i != "po3"
                ]
            )
        raise AssertionError(f"unexpected call {method}")


class OperatorContext(Context):
    async def user(self):
        return Claims(sub="op", email="o@example.com", iat=0, exp=2**31, jti="j", roles=("admin",))


async def test_a_page_of_disputes_asks_payments_once_for_all_their_payouts():
    clients = DisputeClients(disputes=30)
    reads = TicketReads(clients, cache=None)
    context = OperatorContext(
        request=None,
        response=None,
        clients=clients,
        accounts=None,
        token="token",
        ticket_reads=reads,
        tickets=tickets_loader(reads),
        payments=payments_loader(clients, "token"),
    )
    result = await build_schema().execute(
        "{ disputes(first: 30) { nodes { id payout { status amount { amount } } } } }",
        context_value=context,
    )
    assert result.errors is None, result.errors
    payouts = [d["payout"] for d in result.data["disputes"]["nodes"]]
    assert len(payouts) == 30
    assert payouts[0] == {"status": "HELD", "amount": {"amount": "40.00"}}
    assert payouts[2] is None  # no payout: nothing asked
    assert payouts[3] is None  # one payments does not show: null, the others all the same
    assert payouts[4] == {"status": "HELD", "amount": {"amount": "40.00"}}
    assert clients.calls == {"ListDisputes": 1, "BatchGetPayouts": 1}
    assert sorted(clients.batches[0]) == sorted(
        clients.payout_id(i) for i in range(30) if clients.payout_id(i)
    )
