"""The payments service over real gRPC with SecantusDB, RabbitMQ, Redis and the project's Stripe
stand-in; order events are fed in as the orders service would publish them. The Stripe webhook
is exercised through the gateway's route, signed by us and delivered by the stand-in."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import time
import uuid
from collections.abc import AsyncIterator

import grpc
import httpx
import pytest
import stripe
import uvicorn
from starlette.applications import Starlette

from common import events
from common.errors import ErrorCode
from common.grpc_errors import from_rpc_error
from common.mongo import OUTBOX, database_name, mongo_client
from gateway.clients import ServiceClients
from gateway.config import GatewaySettings
from gateway.webhooks import stripe_webhook_route
from svc_payments.bootstrap import bootstrap
from svc_payments.config import PaymentsSettings
from tests.support import servers, service_tokens
from tests.support.tap import EventTap, Seen, publish_raw
from tests.support.tokens import issuer_for
from ticketing.events.v1 import orders_pb2 as order_events
from ticketing.payments.v1 import payments_pb2, payments_pb2_grpc

pytestmark = pytest.mark.integration

SECRET_KEY = "sk_test_local"
WEBHOOK_SECRET = "whsec_payments_tests"
THREE_D_SECURE_CARD = "4000002760003184"


class Payments:
    """A running payments service and what a test does with it."""

    def __init__(self, env: dict[str, str], port: int, stripe_api_base: str) -> None:
        self.env = env
        self.port = port
        self.api_base = stripe_api_base
        self.issuer = issuer_for(env)
        self.channel = service_tokens.channel(env, f"127.0.0.1:{port}")
        self.stub = payments_pb2_grpc.PaymentsServiceStub(self.channel)
        self.stripe = stripe.StripeClient(SECRET_KEY, base_addresses={"api": stripe_api_base})
        self.mongo = mongo_client(env["MONGO_URL"])
        self.db = self.mongo[database_name(env["TICKETING_NAMESPACE"], "payments")]

    async def close(self) -> None:
        await self.channel.close()
        await self.mongo.close()

    def as_user(self, user_id: str) -> tuple[tuple[str, str], ...]:
        token, _ = self.issuer.issue(user_id, f"{user_id[:8]}@example.com")
        return (("authorization", f"Bearer {token}"),)

    def publish(self, event) -> None:
        publish_raw(
            self.env["AMQP_URL"],
            self.env["TICKETING_NAMESPACE"],
            events.routing_key(event),
            events.encode(event),
            str(uuid.uuid4()),
            events.type_name(event),
        )

    async def order_created(
        self, buyer: str, price: str = "20.00", currency: str = "", quantity: int = 0
    ) -> str:
        """An OrderCreated, once our copy has it: no orders service runs here to read an order
        through from (test_ticket_authority pays before the event arrives). Without a currency
        (or a quantity), as before v1."""
        order_id = str(uuid.uuid4())
        ticket = order_events.OrderCreated.Ticket(
            id=str(uuid.uuid4()), price=price, currency_code=currency, quantity=quantity
        )
        self.publish(order_events.OrderCreated(id=order_id, user_id=buyer, ticket=ticket))
        await self.order_copy(order_id, "CREATED")
        return order_id

    def order_cancelled(self, order_id: str) -> None:
        self.publish(order_events.OrderCancelled(id=order_id, version=1, reason="EXPIRED"))

    async def pay(
        self, order_id: str, buyer: str, method: str = "pm_card_visa", key: str | None = None
    ):
        """CreatePayment with `key`; without one, a new action (a key of its own)."""
        request = payments_pb2.CreatePaymentRequest(
            order_id=order_id, payment_method=method, idempotency_key=key or str(uuid.uuid4())
        )
        reply = await self.stub.CreatePayment(request, metadata=self.as_user(buyer))
        return reply.payment

    async def order_copy(self, order_id: str, status: str, timeout: float = 10) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            doc = await self.db.orders.find_one({"_id": order_id})
            if doc is not None and doc["status"] == status:
                return
            await asyncio.sleep(0.05)
        raise AssertionError(f"order {order_id} never became {status}")

    def intents_of(self, order_id: str) -> list[stripe.PaymentIntent]:
        """Every PaymentIntent the Stripe stand-in holds for the order (it is shared by the
        session, so they are told apart by the order id in their metadata)."""
        found, after = [], None
        while True:
            params = {"limit": 100, **({"starting_after": after} if after else {})}
            page = self.stripe.v1.payment_intents.list(params=params)  # type: ignore[arg-type]
            found += [pi for pi in page.data if pi.metadata.to_dict().get("order_id") == order_id]
            if not page.has_more:
                return found
            after = page.data[-1].id

    def refunded_cents(self, intent_id: str) -> int:
        charge = self.stripe.v1.payment_intents.retrieve(intent_id).latest_charge
        if isinstance(charge, str):  # Stripe gives its id (the charge itself when expanded)
            charge = self.stripe.v1.charges.retrieve(charge)
        return charge.amount_refunded

    def three_d_secure_card(self) -> str:
        method = self.stripe.v1.payment_methods.create(
            params={
                "type": "card",
                "card": {
                    "number": THREE_D_SECURE_CARD,
                    "exp_month": 12,
                    "exp_year": 2030,
                    "cvc": "123",
                },
            }
        )
        return method.id

    async def authenticate(self, payment: payments_pb2.Payment, success: bool = True) -> None:
        """What the customer does in Stripe.js's 3-D Secure page (the stand-in's test endpoint)."""
        async with httpx.AsyncClient() as client:
            reply = await client.post(
                f"{self.api_base}/_standin/payment_intents/{payment.stripe_id}/authenticate",
                data={"client_secret": payment.client_secret, "success": str(success).lower()},
            )
        reply.raise_for_status()


@contextlib.asynccontextmanager
async def running_payments(
    env: dict[str, str], stripe_api_base: str, **overrides: str
) -> AsyncIterator[Payments]:
    settings_env = {
        **env,
        "STRIPE_SECRET_KEY": SECRET_KEY,
        "STRIPE_API_BASE": stripe_api_base,
        "STRIPE_TIMEOUT_SECONDS": "5",
        **overrides,
    }
    process = bootstrap(PaymentsSettings.from_env(settings_env))
    port = await process.start("127.0.0.1", 0)
    await process.wait_consumers_ready()
    payments = Payments(env, port, stripe_api_base)
    try:
        yield payments
    finally:
        await payments.close()
        await process.stop()


@pytest.fixture
async def payments(env, stripe_api_base) -> AsyncIterator[Payments]:
    async with running_payments(env, stripe_api_base) as running:
        yield running


@pytest.fixture
def tap(amqp_url, namespace):
    watching = EventTap(amqp_url, namespace, ("charge.*",))
    yield watching
    watching.close()


async def error_of(call) -> tuple[grpc.StatusCode, object]:
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await call
    return info.value.code(), from_rpc_error(info.value)


async def charge_events(tap: EventTap, count: int, timeout: float = 10.0):
    seen = await asyncio.to_thread(tap.wait_for, count, timeout)
    return [(s.routing_key, json.loads(s.body)) for s in seen]


async def nothing_more(tap: EventTap, payments: Payments) -> list:
    """Charge events published beyond those already seen, up to a sentinel: another order paid
    through the same service, whose charge.created its outbox relay publishes after anything
    committed before it (a relay publishes its own events oldest first)."""
    before = len(await asyncio.to_thread(tap.drain))
    buyer = str(uuid.uuid4())
    sentinel = await payments.pay(await payments.order_created(buyer), buyer)

    def sentinel_seen() -> list[Seen]:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            seen = tap.drain()[before:]
            if any(json.loads(s.body).get("id") == sentinel.id for s in seen):
                return seen
            tap.connection.sleep(0.05)
        raise AssertionError("the sentinel's charge.created was never published")

    seen = [(s.routing_key, json.loads(s.body)) for s in await asyncio.to_thread(sentinel_seen)]
    return [(key, body) for key, body in seen if body.get("id") != sentinel.id]


# -- CreatePayment -------------------------------------------------------------------------


async def test_a_visa_payment_is_charged_in_cents_and_announced(payments, tap):
    buyer = str(uuid.uuid4())
    order_id = await payments.order_created(buyer, price="20.05")
    payment = await payments.pay(order_id, buyer)

    assert payment.status == "succeeded" and payment.amount == "20.05"
    assert payment.currency_code == "USD"  # an OrderCreated from before v1 names none
    assert payment.order_id == order_id and payment.user_id == buyer
    assert payment.stripe_id.startswith("pi_") and not payment.client_secret
    [intent] = payments.intents_of(order_id)
    assert (intent.id, intent.amount, intent.currency) == (payment.stripe_id, 2005, "usd")
    assert intent.metadata.to_dict() == {"order_id": order_id, "user_id": buyer}

    assert await charge_events(tap, 1) == [
        (
            "charge.created",
            {
                "id": payment.id,
                "orderId": order_id,
                "stripeId": payment.stripe_id,
                "amount": 2005,
                "currencyCode": "USD",
                # No fees configured: all of it is the seller's (int64s are JSON strings).
                "charges": {
                    "quantity": 1,
                    "subtotal": "2005",
                    "total": "2005",
                    "proceeds": "2005",
                },
            },
        )
    ]
    # Paid once, for good: a second attempt is refused and charges nothing.
    code, error = await error_of(payments.pay(order_id, buyer, "pm_card_mastercard"))
    assert (code, error.code, error.message) == (
        grpc.StatusCode.FAILED_PRECONDITION,
        ErrorCode.CONFLICT,
        "Order already paid",
    )
    assert len(payments.intents_of(order_id)) == 1

    found = await payments.stub.BatchGetPayments(
        payments_pb2.BatchGetPaymentsRequest(order_ids=[order_id, "unknown"]),
        metadata=payments.as_user(buyer),
    )
    assert list(found.payments) == [payment]
    others = await payments.stub.BatchGetPayments(
        payments_pb2.BatchGetPaymentsRequest(order_ids=[order_id]),
        metadata=payments.as_user(str(uuid.uuid4())),
    )
    assert list(others.payments) == []


async def test_a_declined_card_is_payment_declined_and_announced_as_failed(payments, tap):
    buyer = str(uuid.uuid4())
    order_id = await payments.order_created(buyer)
    code, error = await error_of(payments.pay(order_id, buyer, "pm_card_chargeCustomerFail"))
    assert code == grpc.StatusCode.FAILED_PRECONDITION
    assert (error.code, error.message) == (ErrorCode.PAYMENT_DECLINED, "Your card was declined.")
    assert await charge_events(tap, 1) == [
        ("charge.failed", {"orderId": order_id, "reason": "Your card was declined."})
    ]
    # The failed payment names its PaymentIntent (Stripe's decline names it).
    [intent] = payments.intents_of(order_id)
    found = await payments.stub.BatchGetPayments(
        payments_pb2.BatchGetPaymentsRequest(order_ids=[order_id]),
        metadata=payments.as_user(buyer),
    )
    assert [(p.status, p.stripe_id) for p in found.payments] == [("failed", intent.id)]


async def test_caller_order_and_payment_method_are_checked(payments):
    buyer = str(uuid.uuid4())
    order_id = await payments.order_created(buyer)

    # Another user's order is not found, as an unknown one is: nothing says that it exists.
    code, error = await error_of(payments.pay(order_id, str(uuid.uuid4())))
    assert (code, error.code, error.field) == (
        grpc.StatusCode.NOT_FOUND,
        ErrorCode.NOT_FOUND,
        "orderId",
    )
    assert error.message == "Order not found"
    code, error = await error_of(payments.pay(order_id, buyer, "pm_nonexistent"))
    assert (code, error.code, error.field) == (
        grpc.StatusCode.INVALID_ARGUMENT,
        ErrorCode.BAD_USER_INPUT,
        "paymentMethod",
    )
    code, error = await error_of(payments.pay(order_id, buyer, ""))
    assert (error.code, error.field) == (ErrorCode.BAD_USER_INPUT, "paymentMethod")
    code, error = await error_of(
        payments.stub.CreatePayment(payments_pb2.CreatePaymentRequest(order_id=order_id))
    )
    assert code == grpc.StatusCode.UNAUTHENTICATED
    assert payments.intents_of(order_id) == []
    # After all that, the buyer can still pay.
    assert (await payments.pay(order_id, buyer)).status == "succeeded"
    # And nobody else sees that payment, or that there is one.
    request = payments_pb2.BatchGetPaymentsRequest(order_ids=[order_id])
    stranger = await payments.stub.BatchGetPayments(
        request, metadata=payments.as_user(str(uuid.uuid4()))
    )
    assert list(stranger.payments) == []
    own = await payments.stub.BatchGetPayments(request, metadata=payments.as_user(buyer))
    assert [p.order_id for p in own.payments] == [order_id]


async def test_a_cancelled_order_cannot_be_paid(payments, tap):
    buyer = str(uuid.uuid4())
    order_id = await payments.order_created(buyer)
    payments.order_cancelled(order_id)
    await payments.order_copy(order_id, "CANCELLED")
    code, error = await error_of(payments.pay(order_id, buyer))
    assert (code, error.code) == (grpc.StatusCode.FAILED_PRECONDITION, ErrorCode.CONFLICT)
    assert payments.intents_of(order_id) == []
    assert await nothing_more(tap, payments) == []


async def test_stripe_unreachable_is_unavailable_publishes_nothing_and_the_order_stays_payable(
    env, stripe_api_base, tap
):
    buyer = str(uuid.uuid4())
    closed = f"http://127.0.0.1:{servers.free_port()}"
    async with running_payments(env, stripe_api_base, STRIPE_API_BASE=closed) as unreachable:
        order_id = await unreachable.order_created(buyer)
        code, error = await error_of(unreachable.pay(order_id, buyer))
        assert (code, error.code) == (grpc.StatusCode.UNAVAILABLE, ErrorCode.UNAVAILABLE)
        assert await unreachable.db.payments.count_documents({}) == 0
        # Nothing is written to be published either (the RPC has returned: its transaction is
        # over); Stripe unreachable, no payment here can be a sentinel.
        charges = {"routing_key": {"$regex": "^charge[.]"}}
        assert await unreachable.db[OUTBOX].count_documents(charges) == 0
    # Stripe is back (the same database, a service that reaches it): the order can be paid.
    async with running_payments(env, stripe_api_base) as payments:
        payment = await payments.pay(order_id, buyer)
    assert payment.status == "succeeded"
    assert [k for k, _ in await charge_events(tap, 1)] == ["charge.created"]


async def test_concurrent_payments_for_one_order_charge_exactly_once(payments, tap):
    buyer = str(uuid.uuid4())
    order_id = await payments.order_created(buyer)
    results = await asyncio.gather(
        *(payments.pay(order_id, buyer) for _ in range(6)), return_exceptions=True
    )
    paid = [r for r in results if isinstance(r, payments_pb2.Payment)]
    refused = [from_rpc_error(r) for r in results if isinstance(r, grpc.aio.AioRpcError)]
    assert len(paid) == 1 and len(refused) == 5
    assert {e.code for e in refused} == {ErrorCode.CONFLICT}
    # Each attempt has its own idempotency key: only the lease kept the others from charging.
    assert [pi.id for pi in payments.intents_of(order_id)] == [paid[0].stripe_id]
    assert [k for k, _ in await charge_events(tap, 1)] == ["charge.created"]
    assert await nothing_more(tap, payments) == []


async def test_a_payment_whose_order_is_cancelled_afterwards_is_refunded(payments, tap):
    buyer = str(uuid.uuid4())
    order_id = await payments.order_created(buyer)
    payment = await payments.pay(order_id, buyer)
    # The order expired at the orders service before our ChargeCreated got there.
    payments.order_cancelled(order_id)
    await payments.order_copy(order_id, "CANCELLED")
    [intent] = payments.intents_of(order_id)
    assert payments.refunded_cents(intent.id) == 2000
    found = await payments.stub.BatchGetPayments(
        payments_pb2.BatchGetPaymentsRequest(order_ids=[order_id]),
        metadata=payments.as_user(buyer),
    )
    assert [(p.id, p.status) for p in found.payments] == [(payment.id, "refunded")]


# -- v1: the order's currency, the client's idempotency key, payments by id ---------------------


@pytest.mark.parametrize(("currency", "stripe_currency"), [("EUR", "eur"), ("GBP", "gbp")])
async def test_an_order_is_charged_in_its_currency(payments, tap, currency, stripe_currency):
    buyer = str(uuid.uuid4())
    order_id = await payments.order_created(buyer, price="12.34", currency=currency)
    payment = await payments.pay(order_id, buyer)

    assert (payment.status, payment.amount, payment.currency_code) == (
        "succeeded",
        "12.34",
        currency,
    )
    [intent] = payments.intents_of(order_id)
    assert (intent.id, intent.amount, intent.currency) == (payment.stripe_id, 1234, stripe_currency)
    [(kind, body)] = await charge_events(tap, 1)
    assert (kind, body["amount"], body["currencyCode"]) == ("charge.created", 1234, currency)


# -- fees (svc_payments/domain/fees.py) ----------------------------------------------------------

FEES = {
    "BUYER_FEE_PERCENT": "10",
    "BUYER_FEE_FIXED": "USD:0.50,EUR:0.50,GBP:0.40,JPY:50",
    "SELLER_COMMISSION_PERCENT": "5",
}


async def test_stripe_is_asked_for_the_all_in_total_and_the_breakdown_is_announced(
    env, stripe_api_base, tap
):
    async with running_payments(env, stripe_api_base, **FEES) as payments:
        buyer = str(uuid.uuid4())
        order_id = await payments.order_created(buyer, price="20.05", currency="EUR", quantity=2)
        # The order's fees were fixed when its copy was stored: 2 x (20.05 + 2.51). (An order
        # not copied yet would be read from orders, which does not run here.)
        [charges] = (
            await payments.stub.BatchGetOrderCharges(
                payments_pb2.BatchGetOrderChargesRequest(order_ids=[order_id]),
                metadata=payments.as_user(buyer),
            )
        ).charges
        assert (charges.order_id, charges.quote.total, charges.quote.buyer_fees) == (
            order_id,
            "45.12",
            "5.02",
        )
        assert (charges.quote.proceeds, charges.quote.unit_all_in) == ("38.10", "22.56")
        others = await payments.stub.BatchGetOrderCharges(
            payments_pb2.BatchGetOrderChargesRequest(order_ids=[order_id]),
            metadata=payments.as_user(str(uuid.uuid4())),
        )
        assert list(others.charges) == []

        payment = await payments.pay(order_id, buyer)
        assert (payment.status, payment.amount, payment.currency_code) == (
            "succeeded",
            "45.12",
            "EUR",
        )
        # What Stripe itself holds: the all-in total, in cents.
        [intent] = payments.intents_of(order_id)
        assert (intent.id, intent.amount, intent.currency) == (payment.stripe_id, 4512, "eur")
        [(kind, body)] = await charge_events(tap, 1)
        assert (kind, body["amount"], body["charges"]) == (
            "charge.created",
            4512,
            {
                "quantity": 2,
                "subtotal": "4010",
                "buyerFees": "502",
                "total": "4512",
                "commission": "200",
                "proceeds": "3810",
            },
        )


async def test_quote_fees_answers_each_line_and_names_a_bad_one(env, stripe_api_base):
    async with running_payments(env, stripe_api_base, **FEES) as payments:
        lines = [
            payments_pb2.QuoteLine(price="20.00", currency_code="USD", quantity=1),
            payments_pb2.QuoteLine(price="1500", currency_code="JPY", quantity=2),
        ]
        # No user: a visitor sees all-in prices too.
        reply = await payments.stub.QuoteFees(payments_pb2.QuoteFeesRequest(lines=lines))
        usd, jpy = reply.quotes
        assert (usd.unit_all_in, usd.unit_proceeds, usd.currency_code) == ("22.50", "19.00", "USD")
        assert (jpy.unit_all_in, jpy.total, jpy.proceeds, jpy.platform_fee) == (
            "1700",
            "3400",
            "2850",
            "550",
        )
        bad = payments_pb2.QuoteLine(price="20.001", currency_code="USD", quantity=1)
        code, error = await error_of(
            payments.stub.QuoteFees(payments_pb2.QuoteFeesRequest(lines=[lines[0], bad]))
        )
        assert (code, error.code, error.field) == (
            grpc.StatusCode.INVALID_ARGUMENT,
            ErrorCode.BAD_USER_INPUT,
            "lines[1].price",
        )


async def test_a_key_repeated_with_the_same_input_returns_the_first_payment(payments, tap):
    buyer = str(uuid.uuid4())
    order_id = await payments.order_created(buyer)
    first = await payments.pay(order_id, buyer, key="buy-1")
    again = await payments.pay(order_id, buyer, key="buy-1")
    assert again == first
    assert len(payments.intents_of(order_id)) == 1
    record = await payments.db.idempotency_keys.find_one({"_id": f"{buyer}/buy-1"})
    assert (record["state"], record["payment_id"]) == ("payment", first.id)
    # The record goes a day after (the TTL index), and is ignored from then on anyway.
    indexes = await payments.db.idempotency_keys.index_information()
    assert [i.get("expireAfterSeconds") for i in indexes.values() if "created_at" in str(i)] == [
        86400
    ]

    # Another input under the key: refused, nothing done.
    other_order = await payments.order_created(buyer)
    code, error = await error_of(payments.pay(other_order, buyer, key="buy-1"))
    assert (code, error.code, error.field) == (
        grpc.StatusCode.FAILED_PRECONDITION,
        ErrorCode.IDEMPOTENCY_KEY_REUSED,
        "idempotency_key",
    )
    assert payments.intents_of(other_order) == []
    # Another key on the paid order: still one charge, the second a conflict.
    code, error = await error_of(payments.pay(order_id, buyer, key="buy-2"))
    assert (error.code, error.message) == (ErrorCode.CONFLICT, "Order already paid")
    assert [k for k, _ in await charge_events(tap, 1)] == ["charge.created"]
    assert await nothing_more(tap, payments) == []


async def test_a_declined_charge_is_replayed_to_its_key(payments, tap):
    buyer = str(uuid.uuid4())
    order_id = await payments.order_created(buyer)
    declined = "pm_card_chargeCustomerFail"
    for _ in range(2):
        code, error = await error_of(payments.pay(order_id, buyer, declined, key="k"))
        assert (code, error.code, error.message) == (
            grpc.StatusCode.FAILED_PRECONDITION,
            ErrorCode.PAYMENT_DECLINED,
            "Your card was declined.",
        )
    assert len(payments.intents_of(order_id)) == 1
    assert [k for k, _ in await charge_events(tap, 1)] == ["charge.failed"]
    assert await nothing_more(tap, payments) == []


@pytest.mark.parametrize("key", ["", "has space", "k" * 65])
async def test_a_missing_or_malformed_key_is_bad_input(payments, key):
    buyer = str(uuid.uuid4())
    order_id = await payments.order_created(buyer)
    request = payments_pb2.CreatePaymentRequest(
        order_id=order_id, payment_method="pm_card_visa", idempotency_key=key
    )
    code, error = await error_of(
        payments.stub.CreatePayment(request, metadata=payments.as_user(buyer))
    )
    assert (code, error.code, error.field) == (
        grpc.StatusCode.INVALID_ARGUMENT,
        ErrorCode.BAD_USER_INPUT,
        "idempotency_key",
    )
    assert payments.intents_of(order_id) == []


async def test_concurrent_repeats_of_one_key_charge_once_and_all_get_the_payment(payments, tap):
    buyer = str(uuid.uuid4())
    order_id = await payments.order_created(buyer)
    results = await asyncio.gather(*(payments.pay(order_id, buyer, key="same") for _ in range(6)))
    assert len({p.id for p in results}) == 1 and results[0].status == "succeeded"
    assert [pi.id for pi in payments.intents_of(order_id)] == [results[0].stripe_id]
    assert [k for k, _ in await charge_events(tap, 1)] == ["charge.created"]


async def test_batch_get_by_payment_ids_gives_the_callers_only(payments):
    buyer, stranger = str(uuid.uuid4()), str(uuid.uuid4())
    mine = await payments.pay(await payments.order_created(buyer), buyer)
    theirs = await payments.pay(await payments.order_created(stranger), stranger)
    found = await payments.stub.BatchGetPayments(
        payments_pb2.BatchGetPaymentsRequest(ids=[theirs.id, "unknown", mine.id]),
        metadata=payments.as_user(buyer),
    )
    assert list(found.payments) == [mine]


# -- 3-D Secure: pending until Stripe settles it --------------------------------------------------


async def test_a_payment_needing_authentication_is_pending_then_settled(payments, tap):
    buyer = str(uuid.uuid4())
    order_id = await payments.order_created(buyer)
    payment = await payments.pay(order_id, buyer, payments.three_d_secure_card())
    assert payment.status == "requires_action" and payment.client_secret
    assert await charge_events(tap, 1) == [
        (
            "charge.pending",
            {
                "id": payment.id,
                "orderId": order_id,
                "stripeId": payment.stripe_id,
                "amount": 2000,
                "currencyCode": "USD",
            },
        )
    ]
    settle = payments_pb2.SettlePaymentRequest(stripe_id=payment.stripe_id)
    still = (await payments.stub.SettlePayment(settle)).payment
    assert still.status == "requires_action"

    await payments.authenticate(payment)
    settled = (await payments.stub.SettlePayment(settle)).payment
    assert settled.status == "succeeded" and settled.id == payment.id
    again = (await payments.stub.SettlePayment(settle)).payment  # idempotent
    assert again == settled
    events_seen = await charge_events(tap, 2)
    assert events_seen[1] == (
        "charge.created",
        {
            "id": payment.id,
            "orderId": order_id,
            "stripeId": payment.stripe_id,
            "amount": 2000,
            "currencyCode": "USD",
            "charges": {"quantity": 1, "subtotal": "2000", "total": "2000", "proceeds": "2000"},
        },
    )
    assert await nothing_more(tap, payments) == []

    code, error = await error_of(
        payments.stub.SettlePayment(payments_pb2.SettlePaymentRequest(stripe_id="pi_unknown"))
    )
    assert (code, error.code) == (grpc.StatusCode.NOT_FOUND, ErrorCode.NOT_FOUND)


async def test_failed_authentication_fails_the_payment(payments, tap):
    buyer = str(uuid.uuid4())
    order_id = await payments.order_created(buyer)
    payment = await payments.pay(order_id, buyer, payments.three_d_secure_card())
    await payments.authenticate(payment, success=False)
    settled = await payments.stub.SettlePayment(
        payments_pb2.SettlePaymentRequest(stripe_id=payment.stripe_id)
    )
    assert settled.payment.status == "failed"
    routing_keys = [k for k, _ in await charge_events(tap, 2)]
    assert routing_keys == ["charge.pending", "charge.failed"]


# -- the gateway's webhook ------------------------------------------------------------------------


def signed(payload: str, secret: str = WEBHOOK_SECRET, at: int | None = None) -> dict[str, str]:
    """Stripe's signing scheme: t=<unix time>,v1=hex(HMAC-SHA256(secret, "<t>.<payload>"))."""
    at = int(time.time()) if at is None else at
    digest = hmac.new(secret.encode(), f"{at}.{payload}".encode(), hashlib.sha256).hexdigest()
    return {"stripe-signature": f"t={at},v1={digest}", "content-type": "application/json"}


def event_body(kind: str, intent_id: str) -> str:
    return json.dumps(
        {
            "id": f"evt_{uuid.uuid4().hex[:14]}",
            "object": "event",
            "type": kind,
            "data": {"object": {"id": intent_id, "object": "payment_intent"}},
        }
    )


def webhook_app(env: dict[str, str], payments_port: int, secret: str | None):
    settings = GatewaySettings.from_env({**env, "PAYMENTS_ADDR": f"127.0.0.1:{payments_port}"})
    clients = ServiceClients(settings)
    return Starlette(routes=[stripe_webhook_route(clients, secret)]), clients


@pytest.fixture
async def webhook(env, payments) -> AsyncIterator[httpx.AsyncClient]:
    app, clients = webhook_app(env, payments.port, WEBHOOK_SECRET)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
        yield client
    await clients.close()


async def test_a_signed_webhook_settles_the_payment(payments, webhook, tap):
    buyer = str(uuid.uuid4())
    order_id = await payments.order_created(buyer)
    payment = await payments.pay(order_id, buyer, payments.three_d_secure_card())
    await payments.authenticate(payment)

    # The body claims nothing we trust: the service reads the intent from Stripe.
    body = event_body("payment_intent.succeeded", payment.stripe_id)
    reply = await webhook.post("/webhooks/stripe", content=body, headers=signed(body))
    assert (reply.status_code, reply.json()) == (200, {"received": True})
    assert [k for k, _ in await charge_events(tap, 2)] == ["charge.pending", "charge.created"]
    found = await payments.stub.BatchGetPayments(
        payments_pb2.BatchGetPaymentsRequest(order_ids=[order_id]),
        metadata=payments.as_user(buyer),
    )
    assert [p.status for p in found.payments] == ["succeeded"]


async def test_webhook_signature_and_event_rules(env, payments, webhook):
    body = event_body("payment_intent.succeeded", "pi_unknown")
    forged = await webhook.post(
        "/webhooks/stripe", content=body, headers=signed(body, secret="whsec_forged")
    )
    assert forged.status_code == 400
    assert forged.json() == {
        "errors": [{"message": "Invalid Stripe signature", "code": "BAD_USER_INPUT"}]
    }
    unsigned = await webhook.post("/webhooks/stripe", content=body)
    assert unsigned.status_code == 400
    stale = await webhook.post(
        "/webhooks/stripe", content=body, headers=signed(body, at=int(time.time()) - 3600)
    )
    assert stale.status_code == 400  # a replayed old delivery
    garbage = "not json"
    assert (
        await webhook.post("/webhooks/stripe", content=garbage, headers=signed(garbage))
    ).status_code == 400

    # Not ours (another system's intent, unknown to Stripe here): acknowledged, not retried.
    unknown = await webhook.post("/webhooks/stripe", content=body, headers=signed(body))
    assert unknown.status_code == 200
    other = event_body("customer.created", "cus_123")
    ignored = await webhook.post("/webhooks/stripe", content=other, headers=signed(other))
    assert ignored.json() == {"received": True, "ignored": True}

    app, clients = webhook_app(env, payments.port, None)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
        off = await client.post("/webhooks/stripe", content=body, headers=signed(body))
    await clients.close()
    assert off.status_code == 503
    assert off.json() == {
        "errors": [{"message": "Stripe webhooks are not configured", "code": "UNAVAILABLE"}]
    }


async def test_the_webhook_answers_503_while_payments_is_down(env):
    app, clients = webhook_app(env, servers.free_port(), WEBHOOK_SECRET)
    transport = httpx.ASGITransport(app=app)
    body = event_body("payment_intent.succeeded", "pi_123")
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
        reply = await client.post("/webhooks/stripe", content=body, headers=signed(body))
    await clients.close()
    assert reply.status_code == 503  # Stripe delivers it again later


async def test_the_stripe_stand_in_delivers_the_webhook_that_settles_a_3d_secure_payment(
    env, payments, stripe_api_base, tap
):
    port = servers.free_port()
    url = f"http://127.0.0.1:{port}/webhooks/stripe"
    # Registered as a Stripe account holder does; the gateway is given the secret it answers.
    endpoint_id, secret = await asyncio.to_thread(
        servers.register_stripe_webhook, stripe_api_base, url, ["payment_intent.succeeded"]
    )
    app, clients = webhook_app(env, payments.port, secret)
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    )
    serving = asyncio.create_task(server.serve())
    try:
        for _ in range(250):
            if server.started:
                break
            await asyncio.sleep(0.02)
        buyer = str(uuid.uuid4())
        order_id = await payments.order_created(buyer)
        payment = await payments.pay(order_id, buyer, payments.three_d_secure_card())
        await payments.authenticate(payment)  # nobody calls SettlePayment but the webhook
        seen = await charge_events(tap, 2)
    finally:
        server.should_exit = True
        await serving
        await clients.close()
        await asyncio.to_thread(servers.remove_stripe_webhook, stripe_api_base, endpoint_id)
    assert [k for k, _ in seen] == ["charge.pending", "charge.created"]
    assert seen[1][1]["stripeId"] == payment.stripe_id
