"""Why an order is CANCELLED reaches the buyer: the buyer cancelled it, it expired, or the
payment failed. The web app shows an expired order as Expired, not as one the buyer cancelled;
before, the reason lived only in the OrderCancelled event and every path read CANCELLED."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from gateway.types.orders import CancelReason as GraphQLCancelReason
from gateway.types.orders import Order as GraphQLOrder
from svc_orders.adapters.repository import MongoOrderRepository
from svc_orders.domain.model import CancelReason, Order, OrderStatus
from svc_orders.entrypoints.grpc_api import order_to_proto

NOW = datetime(2026, 11, 24, 20, 0, tzinfo=UTC)


def placed() -> Order:
    order = Order.open("o1", "buyer", "t1", 1, NOW, timedelta(minutes=15))
    order.placed((0,), Decimal("20.00"), "USD")
    return order


def shown(order: Order) -> GraphQLOrder:
    """The order as a client of the gateway gets it: domain -> proto -> GraphQL type."""
    return GraphQLOrder.from_proto(order_to_proto(order))


@pytest.mark.parametrize(
    ("end", "reason"),
    [
        (lambda order: order.cancel(by="buyer"), GraphQLCancelReason.CANCELLED_BY_USER),
        (Order.expire, GraphQLCancelReason.EXPIRED),
        (Order.payment_failed, GraphQLCancelReason.PAYMENT_FAILED),
    ],
)
def test_a_cancelled_order_says_why(end, reason):
    order = placed()
    end(order)
    assert order.status is OrderStatus.CANCELLED
    assert (shown(order).status.value, shown(order).cancel_reason) == ("CANCELLED", reason)
    assert order.events[-1].reason == reason.value  # the event and the order agree


def test_an_order_that_is_not_cancelled_has_no_reason():
    order = placed()
    assert shown(order).cancel_reason is None
    order.complete()
    assert shown(order).cancel_reason is None
    assert order.expire() is False  # a paid order does not expire
    assert shown(order).cancel_reason is None


def test_the_reason_is_stored_and_read_back_and_old_documents_have_none():
    repository = MongoOrderRepository.__new__(MongoOrderRepository)  # to_doc/from_doc only
    order = placed()
    order.expire()
    doc = repository.to_doc(order)
    assert repository.from_doc(doc).cancel_reason is CancelReason.EXPIRED
    del doc["cancel_reason"]  # written before the reason was kept
    assert repository.from_doc(doc).cancel_reason is None
