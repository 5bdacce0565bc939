"""Fees as GraphQL types: the all-in price a buyer sees, an order's breakdown, a seller's
proceeds. Every amount is payments' answer (QuoteFees, BatchGetOrderCharges): the gateway
computes no fee itself."""

from __future__ import annotations

import strawberry

from common.errors import InvalidInput
from common.money import MINOR_DIGITS
from gateway.context import Info
from gateway.types.common import Money, list_size, plain_amount
from ticketing.catalogue.v1 import catalogue_pb2
from ticketing.payments.v1 import payments_pb2


@strawberry.type(
    description="What tickets of one price cost a buyer and pay a seller, fees included, under "
    "the fees now (an order's are fixed when it is placed: Order.charges)."
)
class FeeQuote:
    quantity: int = strawberry.field(description="Tickets quoted.")
    price: Money = strawberry.field(description="The seller's price per ticket.")
    buyer_fee: Money = strawberry.field(description="The buyer's fee per ticket.")
    all_in_price: Money = strawberry.field(
        description="What a buyer pays per ticket, fees included (price + buyerFee)."
    )
    seller_commission: Money = strawberry.field(
        description="What the platform keeps of the price per ticket."
    )
    seller_proceeds: Money = strawberry.field(
        description="What the seller receives per ticket (price - sellerCommission)."
    )
    subtotal: Money = strawberry.field(description="The prices of all the tickets together.")
    buyer_fees: Money = strawberry.field(description="The buyer's fees on all the tickets.")
    total: Money = strawberry.field(
        description="What a buyer would be charged for them all (allInPrice x quantity)."
    )
    total_seller_proceeds: Money = strawberry.field(
        description="What the seller would receive for them all."
    )

    @classmethod
    def from_proto(cls, q: payments_pb2.FeeQuote) -> FeeQuote:
        currency = q.currency_code
        return cls(
            quantity=q.quantity,
            price=Money.of(q.unit_price, currency),
            buyer_fee=Money.of(q.unit_buyer_fee, currency),
            all_in_price=Money.of(q.unit_all_in, currency),
            seller_commission=Money.of(q.unit_commission, currency),
            seller_proceeds=Money.of(q.unit_proceeds, currency),
            subtotal=Money.of(q.subtotal, currency),
            buyer_fees=Money.of(q.buyer_fees, currency),
            total=Money.of(q.total, currency),
            total_seller_proceeds=Money.of(q.proceeds, currency),
        )


@strawberry.type(
    description="What an order charges its buyer, fixed when it was placed: a later change of "
    "the fees changes no order already placed."
)
class OrderCharges:
    subtotal: Money = strawberry.field(description="The tickets' prices (price x quantity).")
    buyer_fees: Money = strawberry.field(description="The buyer's fees on top of them.")
    total: Money = strawberry.field(
        description="What the buyer is charged in all: subtotal + buyerFees (Payment.amount)."
    )
    all_in_price: Money = strawberry.field(
        description="What the buyer pays per ticket, fees included (total / quantity)."
    )

    @classmethod
    def from_proto(cls, q: payments_pb2.FeeQuote) -> OrderCharges:
        currency = q.currency_code
        return cls(
            subtotal=Money.of(q.subtotal, currency),
            buyer_fees=Money.of(q.buyer_fees, currency),
            total=Money.of(q.total, currency),
            all_in_price=Money.of(q.unit_all_in, currency),
        )


@strawberry.type(
    description="An event's own fees, in place of the standard ones for its all-in prices and "
    "new orders (orders placed before keep theirs). Each part null (or a currency not named): "
    "the standard fee."
)
class EventFeeOverride:
    buyer_fee_percent: str | None = strawberry.field(
        description='The buyer\'s fee per ticket as a percent of its price, e.g. "7.5".'
    )
    buyer_fee_fixed: list[Money] = strawberry.field(
        description="The buyer's fixed fee per ticket, one per currency it is set for.",
        # At most one per currency a fee can be set in.
        directives=[list_size(assumed_size=len(MINOR_DIGITS))],
    )
    seller_commission_percent: str | None = strawberry.field(
        description="What the platform keeps of the price, as a percent of it."
    )

    @classmethod
    def from_proto(cls, fees: catalogue_pb2.FeeOverride) -> EventFeeOverride | None:
        if not (fees.buyer_fee_percent or fees.buyer_fee_fixed or fees.seller_commission_percent):
            return None
        return cls(
            buyer_fee_percent=fees.buyer_fee_percent or None,
            buyer_fee_fixed=[Money.of(f.amount, f.currency_code) for f in fees.buyer_fee_fixed],
            seller_commission_percent=fees.seller_commission_percent or None,
        )


async def all_in_price(info: Info, price: Money, event_id: str = "") -> Money:
    """`price` per ticket with the buyer's fee, as payments quotes it for tickets of `event_id`
    (its own fees; "": the standard ones), batched per request."""
    key = (plain_amount(price.amount), price.currency_code.value, 1, event_id)
    quote = await info.context.fee_quotes.load(key)
    return Money.of(quote.unit_all_in, quote.currency_code)


# payments' names of a quote line's fields, as the arguments of Query.feeQuote name them.
_ARGUMENTS = {
    "lines[0].price": "price.amount",
    "lines[0].currencyCode": "price.currencyCode",
    "lines[0].quantity": "quantity",
}


async def quote(info: Info, price: Money, quantity: int, event_id: str = "") -> FeeQuote:
    """A quote for a price a caller gives (of tickets of `event_id`: its own fees): asked alone,
    not in the request's batch of listing prices, so that a refused argument fails only this
    field."""
    line = payments_pb2.QuoteLine(
        price=plain_amount(price.amount),
        currency_code=price.currency_code.value,
        quantity=quantity,
        event_id=event_id,
    )
    ctx = info.context
    try:
        reply = await ctx.call(
            ctx.clients.payments.QuoteFees,
            payments_pb2.QuoteFeesRequest(lines=[line]),
            authenticated=False,
        )
    except InvalidInput as refused:
        raise InvalidInput(
            refused.message, field=_ARGUMENTS.get(refused.field or "", refused.field)
        ) from None
    return FeeQuote.from_proto(reply.quotes[0])
