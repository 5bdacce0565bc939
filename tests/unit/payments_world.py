"""The payments service layer over the fakes (fakes_payments.py), and what a test does with it."""

from __future__ import annotations

import itertools
import uuid
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from common.bus import Delivery
from common.clock import FrozenClock
from svc_payments.domain.fees import FeeSchedule
from svc_payments.service_layer.handlers import CreatePayment, PaymentHandlers
from svc_payments.service_layer.payouts import DEFAULT_TERMS, PayoutTerms
from tests.unit.fakes_payments import FakeDatabase, FakeOrdersService, FakeStripe, uow_factory
from ticketing.events.v1 import orders_pb2

BUYER = "buyer-1"
LEASE = timedelta(seconds=45)


@dataclass
class World:
    handlers: PaymentHandlers
    db: FakeDatabase
    stripe: FakeStripe
    clock: FrozenClock
    orders_service: FakeOrdersService

    async def order_created(
        self,
        order_id: str = "o1",
        price: str = "20.00",
        user=BUYER,
        currency: str = "",
        quantity: int = 0,
    ):
        """An OrderCreated; without a currency (or a quantity), as before v1."""
        ticket = orders_pb2.OrderCreated.Ticket(
            id="t1", price=price, currency_code=currency, quantity=quantity
        )
        event = orders_pb2.OrderCreated(id=order_id, user_id=user, ticket=ticket)
        await self.handlers.order_copy.on_order_created(event, delivery(event))

    async def order_cancelled(self, order_id: str = "o1", event_id: str | None = None):
        event = orders_pb2.OrderCancelled(id=order_id, version=1, reason="EXPIRED")
        await self.handlers.order_copy.on_order_cancelled(event, delivery(event, event_id))

    async def pay(
        self,
        order_id: str = "o1",
        method: str = "pm_card_visa",
        user: str = BUYER,
        key: str | None = None,
    ):
        """A payment with `key`; without one, a new action (a key of its own)."""
        key = key if key is not None else uuid.uuid4().hex
        return await self.handlers.create_payment(CreatePayment(user, order_id, method, key, user))

    def published(self, kind):
        return self.db.published_of(kind)


def delivery(event, event_id: str | None = None) -> Delivery:
    return Delivery(event_id or str(uuid.uuid4()), event.DESCRIPTOR.full_name, "", 1, "orders")


# The fees of the examples (docs/design/money.md §3): 10 % + 0.50 USD per ticket, 5 % commission.
EXAMPLE_FEES = FeeSchedule(
    buyer_fee_percent=Decimal(10),
    buyer_fee_fixed={"USD": Decimal("0.50"), "EUR": Decimal("0.50"), "JPY": Decimal(50)},
    seller_commission_percent=Decimal(5),
)


def new_world(fees: FeeSchedule | None = None, payout_terms: PayoutTerms = DEFAULT_TERMS) -> World:
    db, stripe, clock = FakeDatabase(), FakeStripe(), FrozenClock()
    orders_service = FakeOrdersService()
    ids = (f"pay-{n}" for n in itertools.count(1))
    handlers = PaymentHandlers(
        uow=uow_factory(db),  # type: ignore[arg-type]
        stripe=stripe,
        orders=orders_service,
        clock=clock,
        lease_for=LEASE,
        new_id=lambda: next(ids),
        fees=fees,
        payout_terms=payout_terms,
    )
    return World(handlers, db, stripe, clock, orders_service)
