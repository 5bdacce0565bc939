"""An event's own fees through the real services (catalogue and payments over gRPC, SecantusDB
and RabbitMQ): an operator sets them on the catalogue's event, payments hears them on
event.changed, and then quotes the event's tickets and charges its new orders with them, while
an order placed before keeps its fees; bad fees are refused and nothing is stored."""

from __future__ import annotations

import uuid

import grpc
import pytest

from tests.integration import test_catalogue_service as catalogue_tests
from tests.integration.test_payments_service import FEES, error_of, running_payments
from tests.support.waiting import until_async
from ticketing.catalogue.v1 import catalogue_pb2 as pb
from ticketing.events.v1 import orders_pb2 as order_events
from ticketing.payments.v1 import payments_pb2

pytestmark = pytest.mark.integration

# A running catalogue and a client of it (test_catalogue_service.py's fixtures).
catalogue = catalogue_tests.catalogue
stub = catalogue_tests.stub
create, user = catalogue_tests.create, catalogue_tests.user


async def order_of_event(payments, event_id: str, buyer: str) -> str:
    order_id = str(uuid.uuid4())
    ticket = order_events.OrderCreated.Ticket(
        id=str(uuid.uuid4()),
        price="20.00",
        currency_code="USD",
        quantity=2,
        event_id=event_id,
        seller_id=str(uuid.uuid4()),
    )
    payments.publish(order_events.OrderCreated(id=order_id, user_id=buyer, ticket=ticket))
    await payments.order_copy(order_id, "CREATED")
    return order_id


async def charges_of(payments, order_id: str, buyer: str) -> payments_pb2.FeeQuote:
    [charges] = (
        await payments.stub.BatchGetOrderCharges(
            payments_pb2.BatchGetOrderChargesRequest(order_ids=[order_id]),
            metadata=payments.as_user(buyer),
        )
    ).charges
    return charges.quote


async def test_an_events_fees_make_its_quotes_and_new_orders_and_spare_older_ones(
    env, stub, stripe_api_base
):
    # The settings: 10 % + 0.50 USD per ticket, 5 % commission.
    async with running_payments(env, stripe_api_base, **FEES) as payments:
        event = await create(stub, env, "Fees of its own")
        buyer = str(uuid.uuid4())
        before = await order_of_event(payments, event.id, buyer)
        assert (await charges_of(payments, before, buyer)).total == "45.00"  # 2 x (20 + 2.50)

        admin = user(env, ("admin",))
        fees = pb.FeeOverride(
            buyer_fee_percent="0",
            buyer_fee_fixed=[pb.FixedFee(amount="1.00", currency_code="USD")],
            seller_commission_percent="20",
        )
        request = pb.SetEventFeesRequest(id=event.id, fee_override=fees, expected_version=0)
        changed = (await stub.SetEventFees(request, metadata=admin)).event
        assert (changed.version, changed.fee_override) == (1, fees)

        line = payments_pb2.QuoteLine(
            price="20.00", currency_code="USD", quantity=2, event_id=event.id
        )

        async def quote() -> payments_pb2.FeeQuote:
            reply = await payments.stub.QuoteFees(payments_pb2.QuoteFeesRequest(lines=[line]))
            return reply.quotes[0]

        # Once payments has heard event.changed: 20 + 1.00 per ticket, 80 % to the seller.
        quoted = await until_async(quote, lambda q: q.total == "42.00")
        assert (quoted.unit_all_in, quoted.proceeds) == ("21.00", "32.00")

        after = await order_of_event(payments, event.id, buyer)
        assert await charges_of(payments, after, buyer) == quoted  # the quote is the charge
        payment = await payments.pay(after, buyer)
        assert payment.amount == "42.00"
        [intent] = payments.intents_of(after)
        assert intent.amount == 4200
        # The order placed before keeps its fees.
        assert (await charges_of(payments, before, buyer)).total == "45.00"


async def test_bad_fees_are_invalid_argument_and_nothing_is_stored(env, stub):
    event = await create(stub, env, "Refused fees")
    admin = user(env, ("admin",))
    for fees, field in (
        (pb.FeeOverride(buyer_fee_percent="100.5"), "buyer_fee_percent"),
        (
            pb.FeeOverride(buyer_fee_fixed=[pb.FixedFee(amount="0.001", currency_code="USD")]),
            "buyer_fee_fixed[0].amount",
        ),
    ):
        request = pb.SetEventFeesRequest(id=event.id, fee_override=fees, expected_version=0)
        code, error = await error_of(stub.SetEventFees(request, metadata=admin))
        assert (code, error.field) == (grpc.StatusCode.INVALID_ARGUMENT, field)
    visitor = pb.SetEventFeesRequest(
        id=event.id, fee_override=pb.FeeOverride(buyer_fee_percent="1"), expected_version=0
    )
    code, _ = await error_of(stub.SetEventFees(visitor, metadata=user(env)))
    assert code == grpc.StatusCode.PERMISSION_DENIED
    stored = (await stub.GetEvent(pb.GetEventRequest(id=event.id))).event
    assert (stored.version, stored.HasField("fee_override")) == (0, False)
