"""QuoteFees and BatchGetOrderCharges: fees as payments computes them (domain/fees.py), for
prices not yet ordered (the all-in price, the seller's proceeds; a line naming its event gets
that event's own fees, as an order of it would: order_copy.event_fees) and for the caller's
orders (their breakdown, fixed when payments first stored them)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from common.errors import InvalidInput
from svc_payments.domain.fees import FeeQuote, FeeSchedule, QuoteLine, checked_line
from svc_payments.domain.model import Order
from svc_payments.service_layer.order_copy import OrderCopy, event_fees
from svc_payments.service_layer.unit_of_work import PaymentsUnitOfWork

MAX_LINES = 500
MAX_ORDERS = 500


async def quote_fees(
    uow: Callable[[], PaymentsUnitOfWork], settings: FeeSchedule, lines: Sequence[QuoteLine]
) -> list[FeeQuote]:
    """One quote per line, in order, under its event's schedule; InvalidInput naming the first
    bad line's field."""
    check_count(lines)
    wanted = [line.event_id for line in lines if line.event_id]
    schedules: dict[str, FeeSchedule] = {}
    if wanted:
        async with uow() as unit:
            schedules = await event_fees(unit, settings, wanted)
    return quote_lines(settings, lines, schedules)


def check_count(lines: Sequence[QuoteLine]) -> None:
    if len(lines) > MAX_LINES:
        raise InvalidInput(f"At most {MAX_LINES} lines at once", field="lines")


def quote_lines(
    settings: FeeSchedule,
    lines: Sequence[QuoteLine],
    schedules: Mapping[str, FeeSchedule] | None = None,
) -> list[FeeQuote]:
    """One quote per line, in order: under `schedules[line.event_id]` (the event's fees) when
    given, else the settings; InvalidInput naming the first bad line's field."""
    check_count(lines)
    checked = [checked_line(line, index) for index, line in enumerate(lines)]
    by_event = schedules or {}
    return [
        by_event.get(line.event_id, settings).quote(price, currency, quantity)
        for line, (price, currency, quantity) in zip(lines, checked, strict=True)
    ]


async def order_charges(
    copies: OrderCopy, user_id: str, order_ids: Sequence[str], token: str | None
) -> list[Order]:
    """The caller's orders among `order_ids` (in their order, each once), with their fees; an
    order not copied yet is read through from the orders service (NotFound there: left out)."""
    if len(order_ids) > MAX_ORDERS:
        raise InvalidInput(f"At most {MAX_ORDERS} orderIds at once", field="orderIds")
    wanted = list(dict.fromkeys(i for i in order_ids if i))
    if not wanted:
        return []
    found = await copies.get_many(wanted)
    orders = []
    for order_id in wanted:
        order = found.get(order_id)
        if order is None:
            order = await copies.read_through(order_id, token)
        if order is not None and order.user_id == user_id:
            orders.append(order)
    return orders
