"""What the code records in its metrics: GraphQL operations by name, type and outcome; the
orders funnel and expiry lateness; label values kept to closed sets. Read from the process's
registry as Prometheus would scrape it (differences, since the registry lives as long as the
process)."""

from __future__ import annotations

import os
import subprocess
import uuid
from dataclasses import replace
from datetime import timedelta
from types import SimpleNamespace

import pytest
from prometheus_client import REGISTRY

from common.clock import FrozenClock
from common.metrics import MultiprocessDir, exposition, forget_dead_workers
from common.metrics.exposition import MULTIPROC_DIR_VAR
from common.metrics.series import BoundedNames, event_label, rpc_handled
from gateway import global_ids
from gateway.context import Context
from gateway.schema import build_schema
from gateway.subscriptions.hub import Hub
from gateway.ticket_cache import TicketReads
from svc_orders.service_layer.expiry import OrderExpiry
from svc_orders.service_layer.handlers import CancelOrder, CreateOrder, OrderHandlers
from svc_payments.adapters.stripe_gateway import failure_outcome
from tests.unit.fakes_market import AlwaysHolds, FakeStore, uow_factory
from tests.unit.test_gateway_documents import TicketClients
from ticketing.events.v1 import orders_pb2, tickets_pb2

T1 = global_ids.encode("Ticket", "t1")


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


class Delta:
    """A sample's change over a block."""

    def __init__(self, name: str, **labels: str) -> None:
        self.name, self.labels = name, labels
        self.before = sample(name, **labels)

    @property
    def change(self) -> float:
        return sample(self.name, **self.labels) - self.before


# ---------------------------------------------------------------- GraphQL operations


def context() -> Context:
    clients = TicketClients()
    return Context(
        request=None,
        response=None,
        clients=clients,
        accounts=SimpleNamespace(verifier=None),
        token=None,
        ticket_reads=TicketReads(clients, None),
        tickets=None,
        payments=None,
    )


def requests(operation: str, kind: str, status: str) -> Delta:
    return Delta("ticketing_graphql_requests_total", operation=operation, type=kind, status=status)


async def test_a_named_operation_is_counted_and_timed_by_its_name():
    schema, name = build_schema(), f"Show{uuid.uuid4().hex[:8]}"
    counted = requests(name, "query", "ok")
    timed = Delta("ticketing_graphql_request_duration_seconds_count", operation=name, type="query")
    result = await schema.execute(
        f'query {name} {{ ticket(id: "{T1}") {{ id }} }}', context_value=context()
    )
    assert result.errors is None
    assert (counted.change, timed.change) == (1, 1)
    assert sample("ticketing_graphql_requests_in_flight") == 0


async def test_an_anonymous_operation_is_named_by_its_first_root_field():
    counted = requests("ticket", "query", "ok")
    await build_schema().execute(f'{{ ticket(id: "{T1}") {{ id }} }}', context_value=context())
    assert counted.change == 1


async def test_an_error_is_counted_by_the_code_the_client_sees():
    unauthenticated = requests("orders", "query", "UNAUTHENTICATED")
    syntax = requests("anonymous", "unknown", "BAD_USER_INPUT")
    invalid = requests("ticket", "query", "BAD_USER_INPUT")
    schema = build_schema()
    await schema.execute("{ orders(first: 1) { edges { cursor } } }", context_value=context())
    await schema.execute(f'{{ ticket(id: "{T1}") {{ id ', context_value=context())
    await schema.execute(f'{{ ticket(id: "{T1}") {{ colour }} }}', context_value=context())
    assert (unauthenticated.change, syntax.change, invalid.change) == (1, 1, 1)


async def test_a_mutation_is_counted_as_one():
    counted = requests("createTicket", "mutation", "BAD_USER_INPUT")  # no price
    await build_schema().execute(
        'mutation { createTicket(title: "Row F") { id } }', context_value=context()
    )
    assert counted.change == 1


def test_operation_names_are_bounded():
    names = BoundedNames(limit=2)
    assert [names("A"), names("B"), names("C"), names("A")] == ["A", "B", "other", "A"]
    assert names("not a name!") == "other" and names("x" * 65) == "other"
    assert names(None) == "anonymous"


# ---------------------------------------------------------------- other label values


def test_event_types_are_labelled_by_their_short_name_or_unknown():
    assert event_label(orders_pb2.OrderCreated.DESCRIPTOR.full_name) == "OrderCreated"
    assert event_label("ticketing.events.v1.NoSuchEvent") == "unknown"
    assert event_label("") == "unknown"


def test_an_rpc_is_labelled_by_service_method_and_code():
    handled = Delta(
        "grpc_server_handled_total",
        grpc_service="ticketing.orders.v1.OrdersService",
        grpc_method="GetOrder",
        grpc_code="NOT_FOUND",
    )
    rpc_handled("/ticketing.orders.v1.OrdersService/GetOrder", "NOT_FOUND", 0.01)
    assert handled.change == 1


def test_each_rpc_counts_in_its_own_series_after_the_first():
    method = "/ticketing.catalogue.v1.CatalogueService/SearchEvents"
    labels = {"grpc_service": "ticketing.catalogue.v1.CatalogueService"}
    ok = Delta("grpc_server_handled_total", **labels, grpc_method="SearchEvents", grpc_code="OK")
    bad = Delta(
        "grpc_server_handled_total",
        **labels,
        grpc_method="SearchEvents",
        grpc_code="INVALID_ARGUMENT",
    )
    other = Delta("grpc_server_handled_total", **labels, grpc_method="GetEvent", grpc_code="OK")
    timed = Delta("grpc_server_handling_seconds_count", **labels, grpc_method="SearchEvents")
    for code in ("OK", "OK", "INVALID_ARGUMENT", "OK"):
        rpc_handled(method, code, 0.002)
    rpc_handled("/ticketing.catalogue.v1.CatalogueService/GetEvent", "OK", 0.001)
    assert (ok.change, bad.change, other.change, timed.change) == (3, 1, 1, 4)


def test_stripe_failures_are_named_by_kind():
    import stripe

    assert failure_outcome(stripe.CardError("declined", None, "card_declined")) == "declined"
    assert failure_outcome(stripe.APIConnectionError("down")) == "unavailable"
    assert failure_outcome(stripe.AuthenticationError("bad key")) == "rejected_credentials"
    assert failure_outcome(stripe.InvalidRequestError("gone", None, http_status=404)) == (
        "not_found"
    )
    assert failure_outcome(RuntimeError("bug")) == "error"


# ---------------------------------------------------------------- the orders funnel


class Orders:
    def __init__(self) -> None:
        self.store = FakeStore()
        self.clock = FrozenClock()
        uow = uow_factory(self.store, "orders")
        self.handlers = OrderHandlers(
            uow=uow,  # type: ignore[arg-type]
            clock=self.clock,
            hold_for=timedelta(minutes=15),
            tickets=AlwaysHolds(),
        )
        self.expiry = OrderExpiry(uow, self.clock, grace=timedelta(seconds=2))  # type: ignore[arg-type]

    async def place(self) -> str:
        ticket_id = uuid.uuid4().hex
        placed = await self.handlers.create_order(CreateOrder("buyer", ticket_id, ticket_id))
        return placed.order.id


def delivery(event):
    from common.bus import Delivery

    return Delivery(str(uuid.uuid4()), event.DESCRIPTOR.full_name, "", 1, "test")


def changes(status: str, reason: str = "") -> Delta:
    return Delta("ticketing_order_status_changes_total", status=status, reason=reason)


def lateness(path: str) -> tuple[Delta, Delta]:
    name = "ticketing_order_expiry_lateness_seconds"
    return Delta(f"{name}_count", path=path), Delta(f"{name}_sum", path=path)


@pytest.fixture
def orders() -> Orders:
    return Orders()


async def test_placing_and_cancelling_count_in_the_funnel(orders):
    created, by_buyer = changes("CREATED"), changes("CANCELLED", "CANCELLED_BY_USER")
    order_id = await orders.place()
    await orders.handlers.cancel_order(CancelOrder("buyer", order_id))
    assert (created.change, by_buyer.change) == (1, 1)


async def test_an_order_expired_by_the_event_records_how_late_it_was(orders):
    expired = changes("CANCELLED", "EXPIRED")
    count, total = lateness("order_expired")
    order_id = await orders.place()
    orders.clock.advance(15 * 60 + 3)  # three seconds after expiresAt
    event = orders_pb2.OrderExpired(order_id=order_id)
    await orders.handlers.event_handlers[orders_pb2.OrderExpired](event, delivery(event))
    assert (expired.change, count.change, total.change) == (1, 1, 3)


async def test_an_order_expired_by_the_sweep_records_how_late_it_was(orders):
    count, total = lateness("sweep")
    order_id = await orders.place()
    orders.clock.advance(15 * 60 + 5)
    assert await orders.expiry.expire(order_id)
    assert not await orders.expiry.expire(order_id)  # already ended: not counted again
    assert (count.change, total.change) == (1, 5)


async def test_an_event_that_changes_nothing_is_not_counted(orders):
    order_id = await orders.place()
    await orders.handlers.cancel_order(CancelOrder("buyer", order_id))
    expired = changes("CANCELLED", "EXPIRED")
    event = orders_pb2.OrderExpired(order_id=order_id)
    await orders.handlers.event_handlers[orders_pb2.OrderExpired](event, delivery(event))
    assert expired.change == 0


def test_the_exposition_is_prometheus_text():
    text = exposition().decode()
    assert "# TYPE ticketing_graphql_requests_total counter" in text
    assert "# TYPE grpc_server_handling_seconds histogram" in text


# ---------------------------------------------------------------- the gateway's workers' files


def test_the_workers_directory_given_starts_without_an_earlier_runs_values(tmp_path, monkeypatch):
    monkeypatch.setenv(MULTIPROC_DIR_VAR, str(tmp_path))
    (tmp_path / "counter_1.db").write_bytes(b"an earlier run's")
    (tmp_path / "notes.txt").write_text("not ours")
    directory = MultiprocessDir()
    directory.close()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]


def test_a_workers_directory_of_its_own_is_removed_at_exit(monkeypatch):
    monkeypatch.setenv(MULTIPROC_DIR_VAR, "")  # unset, and put back after the test
    directory = MultiprocessDir()
    assert os.environ[MULTIPROC_DIR_VAR] == str(directory.path) and directory.path.is_dir()
    directory.close()
    assert not directory.path.exists()


def test_a_dead_workers_in_flight_gauge_is_forgotten(tmp_path, monkeypatch):
    monkeypatch.setenv(MULTIPROC_DIR_VAR, str(tmp_path))
    gone = subprocess.Popen(["true"])
    gone.wait()
    for name in (
        f"gauge_livesum_{gone.pid}.db",
        f"gauge_livesum_{os.getpid()}.db",
        f"counter_{gone.pid}.db",  # its counts stay counted
    ):
        (tmp_path / name).write_bytes(b"")
    forget_dead_workers()
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [f"counter_{gone.pid}.db", f"gauge_livesum_{os.getpid()}.db"]
    )


async def test_a_subscription_counts_as_open_not_in_flight_and_its_pushes_are_counted():
    hub = Hub()
    ws = replace(context(), hub=hub, websocket=True)
    in_flight = sample("ticketing_graphql_requests_in_flight")
    opened = Delta("ticketing_graphql_subscriptions_open", field="ticketUpdated")
    pushed = Delta("ticketing_graphql_subscription_messages_total", field="ticketUpdated")
    counted = requests("ticketUpdated", "subscription", "ok")
    timed = Delta(
        "ticketing_graphql_request_duration_seconds_count",
        operation="ticketUpdated",
        type="subscription",
    )
    stream = await build_schema().subscribe(
        f'subscription {{ ticketUpdated(id: "{T1}") {{ id version }} }}', context_value=ws
    )
    first = await anext(stream)
    assert first.data == {"ticketUpdated": {"id": T1, "version": 0}}
    assert (opened.change, pushed.change) == (1, 1)
    assert sample("ticketing_graphql_requests_in_flight") == in_flight  # open, not in flight
    update = tickets_pb2.TicketUpdated(id="t1", version=1, title="Row F", price="20.00")
    hub.deliver("ticketing.events.v1.TicketUpdated", update)
    assert (await anext(stream)).data == {"ticketUpdated": {"id": T1, "version": 1}}
    assert pushed.change == 2
    await stream.aclose()
    assert (opened.change, counted.change, timed.change) == (0, 1, 0)
