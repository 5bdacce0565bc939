"""QuoteFees and BatchGetOrderCharges: fees as payments computes them (domain/fees.py), for
prices not yet ordered (the all-in price, the seller's proceeds) and for the caller's orders
(their breakdown, fixed when payments first stored them)."""

from __future__ import annotations

from collections.abc import Sequence

from common.errors import InvalidInput
from svc_payments.domain.fees import FeeQuote, FeeSchedule, QuoteLine, checked_line
from svc_payments.domain.model import Order
from svc_payments.service_layer.order_copy import OrderCopy

MAX_LINES = 500
MAX_ORDERS = 500


def quote_fees(fees: FeeSchedule, lines: Sequence[QuoteLine]) -> list[FeeQuote]:
    """One quote per line, in order; InvalidInput naming the first bad line's field."""
    if len(lines) > MAX_LINES:
        raise InvalidInput(f"At most {MAX_LINES} lines at once", field="lines")
    quotes = []
    for index, line in enumerate(lines):
        price, currency, quantity = checked_line(line, index)
        quotes.append(fees.quote(price, currency, quantity))
    return quotes


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
