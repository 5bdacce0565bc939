"""Refunds over real gRPC with SecantusDB, RabbitMQ and the Stripe stand-in: an admin's full and
partial refunds before the seller is paid (the payout reduced, then REVERSED, no transfer),
partial and full refunds after the payout was transferred (transfer reversals at Stripe), a
buyer's request approved (and refused by policy), a refund retried after its answer was lost
(one refund at Stripe), and a cancelled event's refund run, stopped mid-run and resumed,
refunding each paid order once and skipping one refunded already. Every order's ledger ends at
zero.

What the payout sweep and the payment's success record (h/payouts: the charge's ledger entry,
the payout, its transfer) is set up here directly through the unit of work, as they write it."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import timedelta

import grpc
import httpx
import pytest

from common import events
from common.clock import stored_precision
from common.errors import ErrorCode
from common.grpc_errors import from_rpc_error
from common.mongo import database_name, mongo_client
from common.protos import timestamp
from common.roles import ADMIN
from svc_payments.adapters.stripe_gateway import StripeApi
from svc_payments.adapters.unit_of_work import MongoPaymentsUnitOfWork
from svc_payments.bootstrap import bootstrap
from svc_payments.config import PaymentsSettings
from svc_payments.domain import ledger
from svc_payments.domain.ledger import EntryKind, JournalEntry, balances
from svc_payments.domain.payouts import EventSchedule
from svc_payments.domain.refund_runs import run_refund_id
from svc_payments.domain.refunds import EVENT_STARTED
from svc_payments.service_layer.ports import RefundRequest, StripeUnavailable
from tests.support import service_tokens, stripe_standin
from tests.support.tap import EventTap, publish_raw
from tests.support.tokens import issuer_for
from ticketing.events.v1 import catalogue_pb2
from ticketing.events.v1 import orders_pb2 as order_events
from ticketing.payments.v1 import payments_pb2, payments_pb2_grpc

pytestmark = pytest.mark.integration

SECRET_KEY = "sk_test_refunds"
# A ticket of 50.00 EUR: the buyer pays 55.00 (a fee of 5.00), the seller is paid 48.00 (4 %
# commission: 2.00); the fees the platform keeps are 7.00.
TOTAL, PROCEEDS = 5500, 4800
FEES = {"BUYER_FEE_FIXED": "EUR:5.00", "SELLER_COMMISSION_PERCENT": "4"}
# The sellers here have not set up payouts with payments: a paid order's payout waits for that,
# and a refund (short of the whole) leaves it waiting.
UNPAID = "WAITING_FOR_ONBOARDING"


@pytest.fixture(scope="module")
def api_base() -> Iterator[str]:
    with stripe_standin.running() as url:
        yield url


def held_invariants(entries) -> bool:
    """The order's ledger as it must always be: each entry sums to zero, and no seller is owed
    less than nothing (a seller's payable account, credit-side, never has a debit balance)."""
    sellers = {
        k: v for k, v in ledger.balances(entries).items() if k[0].startswith("seller_payable:")
    }
    return all(e.total == 0 for e in entries) and all(v <= 0 for v in sellers.values())


class LosesOneRefundAnswer(StripeApi):
    """Stripe makes the first refund, and its answer is lost on the way back (a timeout)."""

    lost = False

    async def refund_part(self, request: RefundRequest) -> str:
        made = await super().refund_part(request)
        if not self.lost:
            self.lost = True
            raise StripeUnavailable("The payment provider is unavailable, try again")
        return made


@dataclass
class Paid:
    order_id: str
    buyer: str
    seller: str
    event_id: str
    intent_id: str
    charge_id: str


class Payments:
    def __init__(self, env: dict[str, str], api_base: str, process) -> None:
        self.env = env
        self.process = process
        self.issuer = issuer_for(env)
        self.channel = service_tokens.channel(env, f"127.0.0.1:{process.port}")
        self.stub = payments_pb2_grpc.PaymentsServiceStub(self.channel)
        self.sdk = stripe_standin.client(api_base, SECRET_KEY)
        self.api_base = api_base
        self.mongo = mongo_client(env["MONGO_URL"])
        self.db = self.mongo[database_name(env["TICKETING_NAMESPACE"], "payments")]
        self.uow = process.infra.unit_of_work(MongoPaymentsUnitOfWork)
        self.admin = str(uuid.uuid4())

    async def close(self) -> None:
        await self.channel.close()
        await self.mongo.close()

    def as_user(self, user_id: str, *roles: str) -> tuple[tuple[str, str], ...]:
        token, _ = self.issuer.issue(user_id, f"{user_id[:8]}@example.com", roles=roles)
        return (("authorization", f"Bearer {token}"),)

    def as_admin(self):
        return self.as_user(self.admin, ADMIN)

    def publish(self, event) -> None:
        publish_raw(
            self.env["AMQP_URL"],
            self.env["TICKETING_NAMESPACE"],
            events.routing_key(event),
            events.encode(event),
            str(uuid.uuid4()),
            events.type_name(event),
        )

    async def paid_order(self, event_id: str = "", seller: str = "") -> Paid:
        """An order of a 50.00 EUR ticket paid by card (55.00 with the buyer's fee), with what the
        payment's success recorded for its seller: the charge's ledger entry and the payout of
        the proceeds (48.00)."""
        buyer, seller = str(uuid.uuid4()), seller or str(uuid.uuid4())
        event_id = event_id or str(uuid.uuid4())
        order_id = str(uuid.uuid4())
        ticket = order_events.OrderCreated.Ticket(
            id=str(uuid.uuid4()),
            price="50.00",
            currency_code="EUR",
            quantity=1,
            seller_id=seller,
            event_id=event_id,
        )
        self.publish(order_events.OrderCreated(id=order_id, user_id=buyer, ticket=ticket))
        await self.eventually(lambda: self.db.orders.find_one({"_id": order_id}))
        reply = await self.stub.CreatePayment(
            payments_pb2.CreatePaymentRequest(
                order_id=order_id, payment_method="pm_card_visa", idempotency_key=order_id
            ),
            metadata=self.as_user(buyer),
        )
        assert reply.payment.status == "succeeded"
        intent = self.sdk.v1.payment_intents.retrieve(reply.payment.stripe_id)
        assert intent.amount == TOTAL
        async with self.uow() as uow:
            payout = await uow.payouts.for_order(order_id)
            charged = await uow.ledger.get(f"charge:{intent.latest_charge}")
        assert payout is not None and payout.payable_minor == PROCEEDS
        assert charged is not None and charged.order_id == order_id
        return Paid(order_id, buyer, seller, event_id, intent.id, intent.latest_charge)

    async def pay_seller(self, paid: Paid) -> str:
        """The payout sweep's work: the seller onboarded, the transfer made, the payout PAID."""
        account = self.sdk.v1.accounts.create({"type": "express", "email": "s@example.com"})
        async with httpx.AsyncClient() as client:
            onboarded = await client.post(
                f"{self.api_base}/_standin/accounts/{account.id}/complete_onboarding"
            )
        onboarded.raise_for_status()
        transfer = self.sdk.v1.transfers.create(
            {
                "amount": PROCEEDS,
                "currency": "eur",
                "destination": account.id,
                "source_transaction": paid.charge_id,
                "transfer_group": f"order_{paid.order_id}",
            }
        )
        async with self.uow() as uow:
            now = stored_precision(self.process.infra.clock.now())
            payout = await uow.payouts.for_order(paid.order_id)
            payout.due_at = now - timedelta(seconds=1)
            payout.paid(transfer.id, now)
            await uow.payouts.save(payout)
            await uow.ledger.post(
                JournalEntry.moving(
                    EntryKind.TRANSFER,
                    transfer.id,
                    paid.order_id,
                    "EUR",
                    PROCEEDS,
                    debit=ledger.seller_payable(paid.seller),
                    credit=ledger.STRIPE_BALANCE,
                    created_at=now,
                )
            )
            await uow.commit()
        return transfer.id

    async def event_known(self, event_id: str, starts_in: timedelta) -> None:
        async with self.uow() as uow:
            now = stored_precision(self.process.infra.clock.now())
            await uow.event_schedules.add(
                EventSchedule(event_id, 1, "SCHEDULED", now + starts_in, starts_at=now + starts_in)
            )
            await uow.commit()

    async def event_published(self, event_id: str, starts_in: timedelta) -> None:
        """The catalogue's EventChanged for the event, once payments' copy has it."""
        starts = self.process.infra.clock.now() + starts_in
        self.publish(
            catalogue_pb2.EventChanged(
                id=event_id,
                version=1,
                status="SCHEDULED",
                starts_at=timestamp(starts),
                ends_at=timestamp(starts + timedelta(hours=3)),
            )
        )
        await self.eventually(lambda: self.db.event_schedules.find_one({"_id": event_id}))

    async def refund_order(self, order_id: str, amount: int = 0, key: str = "", reason="seat"):
        request = payments_pb2.RefundOrderRequest(
            order_id=order_id,
            amount=amount,
            currency_code="EUR" if amount else "",
            reason=reason,
            idempotency_key=key or str(uuid.uuid4()),
        )
        return (await self.stub.RefundOrder(request, metadata=self.as_admin())).refund

    async def payout(self, order_id: str) -> dict:
        return await self.db.payouts.find_one({"order_id": order_id})

    async def ledger_of(self, order_id: str) -> list[JournalEntry]:
        async with self.uow() as uow:
            entries = await uow.ledger.of_order(order_id)
        assert held_invariants(entries), entries
        return entries

    def stripe_refunds(self, intent_id: str) -> list[dict]:
        """Every refund the stand-in made of the intent's charge, read back from its balance
        transactions (one per refund made)."""
        found, after = [], None
        while True:
            params = {
                "type": "refund",
                "limit": 100,
                **({"starting_after": after} if after else {}),
            }
            page = self.sdk.v1.balance_transactions.list(params)  # type: ignore[arg-type]
            for entry in page.data:
                refund = self.sdk.v1.refunds.retrieve(entry.source)
                if refund.payment_intent == intent_id:
                    found.append(refund.to_dict())
            if not page.has_more:
                return found
            after = page.data[-1].id

    @staticmethod
    async def eventually(read, timeout: float = 15):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = await read()
            if found:
                return found
            await asyncio.sleep(0.05)
        raise AssertionError("never came")


@contextlib.asynccontextmanager
async def running_payments(
    env: dict[str, str], api_base: str, stripe_gateway=None, **overrides: str
) -> AsyncIterator[Payments]:
    settings = PaymentsSettings.from_env(
        {
            **env,
            "STRIPE_SECRET_KEY": SECRET_KEY,
            "STRIPE_API_BASE": api_base,
            "STRIPE_TIMEOUT_SECONDS": "5",
            "REFUND_RUN_POLL_SECONDS": "0.1",
            **FEES,
            **overrides,
        }
    )
    process = bootstrap(settings, stripe_gateway)
    await process.start("127.0.0.1", 0)
    await process.wait_consumers_ready()
    payments = Payments(env, api_base, process)
    try:
        yield payments
    finally:
        await payments.close()
        await process.stop()


@pytest.fixture
async def payments(env, api_base) -> AsyncIterator[Payments]:
    async with running_payments(env, api_base) as running:
        yield running


async def error_of(call) -> tuple[grpc.StatusCode, object]:
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await call
    return info.value.code(), from_rpc_error(info.value)


def at_zero(entries: list[JournalEntry]) -> bool:
    return all(e.total == 0 for e in entries) and balances(entries) == {}


# -- an admin's refunds ---------------------------------------------------------------------------


async def test_a_full_refund_before_the_payout_gives_back_everything_and_pays_the_seller_nothing(
    payments, amqp_url, namespace
):
    tap = EventTap(amqp_url, namespace, ("refund.*",))
    try:
        paid = await payments.paid_order()
        refund = await payments.refund_order(paid.order_id, reason="The seat does not exist")
        assert (refund.state, refund.amount, refund.currency_code) == ("SUCCEEDED", TOTAL, "EUR")
        assert (refund.seller_amount, refund.platform_amount) == (PROCEEDS, TOTAL - PROCEEDS)
        assert refund.origin == "ADMIN" and refund.stripe_refund_id.startswith("re_")

        [at_stripe] = payments.stripe_refunds(paid.intent_id)
        assert (at_stripe["id"], at_stripe["amount"]) == (refund.stripe_refund_id, TOTAL)
        assert at_stripe["metadata"] == {"refund_id": refund.id, "order_id": paid.order_id}
        payout = await payments.payout(paid.order_id)
        assert (payout["status"], payout["transfer_id"]) == ("REVERSED", "")
        entries = await payments.ledger_of(paid.order_id)
        assert [e.id for e in entries] == [
            f"charge:{paid.charge_id}",
            f"refund:{refund.stripe_refund_id}",
        ]
        assert at_zero(entries)

        [seen] = await asyncio.to_thread(tap.wait_for, 1)
        assert (seen.routing_key, json.loads(seen.body)) == (
            "refund.issued",
            {
                "id": refund.id,
                "orderId": paid.order_id,
                "buyerId": paid.buyer,
                "stripeRefundId": refund.stripe_refund_id,
                "amount": str(TOTAL),
                "currencyCode": "EUR",
                "reason": "The seat does not exist",
                "origin": "ADMIN",
                "sellerAmount": str(PROCEEDS),
                "platformAmount": str(TOTAL - PROCEEDS),
            },
        )
    finally:
        tap.close()
    # Nothing is left: another refund is refused, and Stripe is not asked.
    code, error = await error_of(payments.refund_order(paid.order_id))
    assert (code, error.code) == (grpc.StatusCode.FAILED_PRECONDITION, ErrorCode.CONFLICT)
    assert error.message == "The order has been refunded in full already"
    assert len(payments.stripe_refunds(paid.intent_id)) == 1


async def test_partial_refunds_take_the_sellers_proceeds_first_and_never_more_than_is_left(
    payments,
):
    paid = await payments.paid_order()
    first = await payments.refund_order(paid.order_id, amount=1000, reason="Obstructed view")
    assert (first.state, first.seller_amount, first.platform_amount) == ("SUCCEEDED", 1000, 0)
    payout = await payments.payout(paid.order_id)
    assert (payout["status"], payout["reversed_minor"]) == (UNPAID, 1000)

    code, error = await error_of(payments.refund_order(paid.order_id, amount=4501))
    assert (code, error.code, error.field) == (
        grpc.StatusCode.INVALID_ARGUMENT,
        ErrorCode.BAD_USER_INPUT,
        "amount",
    )
    assert error.message == "At most 45.00 EUR is left to refund"

    rest = await payments.refund_order(paid.order_id, amount=4500, reason="Cancelled act")
    assert (rest.seller_amount, rest.platform_amount) == (PROCEEDS - 1000, TOTAL - PROCEEDS)
    assert [r["amount"] for r in payments.stripe_refunds(paid.intent_id)] == [4500, 1000]
    assert (await payments.payout(paid.order_id))["status"] == "REVERSED"
    assert at_zero(await payments.ledger_of(paid.order_id))

    listed = await payments.stub.ListRefunds(
        payments_pb2.ListRefundsRequest(order_ids=[paid.order_id]), metadata=payments.as_admin()
    )
    assert [r.id for r in listed.refunds] == [rest.id, first.id]


async def test_refunds_after_the_seller_was_paid_reverse_their_transfer(payments):
    paid = await payments.paid_order()
    transfer_id = await payments.pay_seller(paid)
    part = await payments.refund_order(paid.order_id, amount=1000, reason="Obstructed view")
    assert (part.state, part.seller_amount, part.platform_amount) == ("SUCCEEDED", 1000, 0)
    transfer = payments.sdk.v1.transfers.retrieve(transfer_id)
    assert (transfer.amount_reversed, transfer.reversed) == (1000, False)
    payout = await payments.payout(paid.order_id)
    assert (payout["status"], payout["reversed_minor"]) == ("PAID", 1000)

    rest = await payments.refund_order(paid.order_id, reason="Fake ticket")
    assert (rest.amount, rest.seller_amount, rest.platform_amount) == (4500, 3800, 700)
    transfer = payments.sdk.v1.transfers.retrieve(transfer_id)
    assert (transfer.amount_reversed, transfer.reversed) == (PROCEEDS, True)
    last, first = transfer.reversals.data
    assert (first.amount, last.amount) == (1000, 3800)
    assert last.metadata.to_dict() == {"refund_id": rest.id, "order_id": paid.order_id}
    payout = await payments.payout(paid.order_id)
    assert (payout["status"], payout["reversed_minor"]) == ("REVERSED", PROCEEDS)
    entries = await payments.ledger_of(paid.order_id)
    # Each refund's two entries are posted in one transaction, at the same moment.
    assert sorted(e.id for e in entries) == sorted(
        [
            f"{EntryKind.CHARGE}:{paid.charge_id}",
            f"{EntryKind.TRANSFER}:{transfer_id}",
            f"{EntryKind.TRANSFER_REVERSAL}:{first.id}",
            f"{EntryKind.REFUND}:{part.stripe_refund_id}",
            f"{EntryKind.TRANSFER_REVERSAL}:{last.id}",
            f"{EntryKind.REFUND}:{rest.stripe_refund_id}",
        ]
    )
    assert at_zero(entries)


async def test_a_refund_whose_answer_was_lost_is_made_once_when_retried(env, api_base):
    lossy = LosesOneRefundAnswer(SECRET_KEY, api_base, timeout=5)
    async with running_payments(env, api_base, lossy) as payments:
        paid = await payments.paid_order()
        key = str(uuid.uuid4())
        code, error = await error_of(payments.refund_order(paid.order_id, key=key))
        assert (code, error.code) == (grpc.StatusCode.UNAVAILABLE, ErrorCode.UNAVAILABLE)
        # Stripe made it; we did not hear. The admin's retry with the same key finishes it.
        refund = await payments.refund_order(paid.order_id, key=key)
        assert refund.state == "SUCCEEDED"
        [at_stripe] = payments.stripe_refunds(paid.intent_id)
        assert at_stripe["id"] == refund.stripe_refund_id
        # The same key for another refund is refused.
        code, error = await error_of(payments.refund_order(paid.order_id, 100, key=key))
        assert error.code == ErrorCode.IDEMPOTENCY_KEY_REUSED
        assert at_zero(await payments.ledger_of(paid.order_id))


async def test_only_an_admin_refunds_or_decides(payments):
    paid = await payments.paid_order()
    request = payments_pb2.RefundOrderRequest(
        order_id=paid.order_id, reason="mine", idempotency_key="k1"
    )
    code, _ = await error_of(
        payments.stub.RefundOrder(request, metadata=payments.as_user(paid.buyer))
    )
    assert code == grpc.StatusCode.PERMISSION_DENIED
    runs = payments_pb2.ListRefundRunsRequest()
    code, _ = await error_of(
        payments.stub.ListRefundRuns(runs, metadata=payments.as_user(paid.buyer))
    )
    assert code == grpc.StatusCode.PERMISSION_DENIED
    assert payments.stripe_refunds(paid.intent_id) == []


# -- a buyer's request ---------------------------------------------------------------------------


async def test_a_buyers_request_before_the_event_is_approved_and_made(payments):
    paid = await payments.paid_order()
    await payments.event_published(paid.event_id, starts_in=timedelta(days=3))
    ask = payments_pb2.RequestRefundRequest(order_id=paid.order_id, reason="Cannot come")
    # Another user's order is not found.
    code, error = await error_of(
        payments.stub.RequestRefund(ask, metadata=payments.as_user(str(uuid.uuid4())))
    )
    assert (code, error.field) == (grpc.StatusCode.NOT_FOUND, "orderId")

    asked = (await payments.stub.RequestRefund(ask, metadata=payments.as_user(paid.buyer))).refund
    assert (asked.state, asked.amount, asked.origin) == ("REQUESTED", TOTAL, "BUYER")
    again = (await payments.stub.RequestRefund(ask, metadata=payments.as_user(paid.buyer))).refund
    assert again.id == asked.id
    assert payments.stripe_refunds(paid.intent_id) == []

    waiting = await payments.stub.ListRefunds(
        payments_pb2.ListRefundsRequest(state="REQUESTED"), metadata=payments.as_admin()
    )
    assert [r.id for r in waiting.refunds] == [asked.id]
    decide = payments_pb2.DecideRefundRequestRequest(refund_id=asked.id, approve=True)
    code, _ = await error_of(
        payments.stub.DecideRefundRequest(decide, metadata=payments.as_user(paid.buyer))
    )
    assert code == grpc.StatusCode.PERMISSION_DENIED
    made = (await payments.stub.DecideRefundRequest(decide, metadata=payments.as_admin())).refund
    assert (made.state, made.id) == ("SUCCEEDED", asked.id)
    [at_stripe] = payments.stripe_refunds(paid.intent_id)
    assert (at_stripe["amount"], at_stripe["reason"]) == (TOTAL, "requested_by_customer")
    assert at_zero(await payments.ledger_of(paid.order_id))

    # The buyer sees their own order's refund; another buyer sees none.
    own = await payments.stub.ListRefunds(
        payments_pb2.ListRefundsRequest(), metadata=payments.as_user(paid.buyer)
    )
    assert [(r.id, r.state) for r in own.refunds] == [(asked.id, "SUCCEEDED")]
    other = await payments.stub.ListRefunds(
        payments_pb2.ListRefundsRequest(order_ids=[paid.order_id]),
        metadata=payments.as_user(str(uuid.uuid4())),
    )
    assert list(other.refunds) == []


async def test_a_request_after_the_event_started_is_refused_and_a_declined_one_stays(payments):
    started = await payments.paid_order()
    await payments.event_known(started.event_id, starts_in=-timedelta(hours=1))
    ask = payments_pb2.RequestRefundRequest(order_id=started.order_id, reason="Too late")
    code, error = await error_of(
        payments.stub.RequestRefund(ask, metadata=payments.as_user(started.buyer))
    )
    assert (code, error.code, error.message) == (
        grpc.StatusCode.FAILED_PRECONDITION,
        ErrorCode.CONFLICT,
        EVENT_STARTED,
    )

    paid = await payments.paid_order()
    await payments.event_known(paid.event_id, starts_in=timedelta(days=1))
    ask = payments_pb2.RequestRefundRequest(order_id=paid.order_id, reason="Changed my mind")
    asked = (await payments.stub.RequestRefund(ask, metadata=payments.as_user(paid.buyer))).refund
    decline = payments_pb2.DecideRefundRequestRequest(refund_id=asked.id, approve=False)
    code, error = await error_of(
        payments.stub.DecideRefundRequest(decline, metadata=payments.as_admin())
    )
    assert (code, error.field) == (grpc.StatusCode.INVALID_ARGUMENT, "reason")
    decline.reason = "Not refundable by the seller's terms"
    declined = (
        await payments.stub.DecideRefundRequest(decline, metadata=payments.as_admin())
    ).refund
    assert (declined.state, declined.outcome_reason) == (
        "DECLINED",
        "Not refundable by the seller's terms",
    )
    assert payments.stripe_refunds(paid.intent_id) == []
    assert (await payments.payout(paid.order_id))["status"] == UNPAID


# -- a cancelled event -----------------------------------------------------------------------------


async def test_a_cancelled_events_run_refunds_each_paid_order_once_across_a_restart(env, api_base):
    event_id = str(uuid.uuid4())
    # Short leases (twice the Stripe timeout and 5 s): a refund cut off by the stop is taken
    # up again by the next process once its lease runs out.
    quick = {"STRIPE_TIMEOUT_SECONDS": "1"}
    slow = {"REFUND_RUN_BATCH": "1", "REFUND_RATE_PER_SECOND": "2", **quick}
    async with running_payments(env, api_base, **slow) as payments:
        orders = [await payments.paid_order(event_id) for _ in range(4)]
        elsewhere = await payments.paid_order()  # another event's: untouched
        refunded_before = orders[1]
        await payments.refund_order(refunded_before.order_id, reason="Asked early")
        payments.publish(
            catalogue_pb2.EventStatusChanged(
                id=event_id,
                version=2,
                status="CANCELLED",
                previous_status="SCHEDULED",
                starts_at=timestamp(payments.process.infra.clock.now() + timedelta(days=1)),
            )
        )

        async def one_made():
            return await payments.db.refunds.find_one(
                {"origin": "EVENT_CANCELLED", "state": "SUCCEEDED"}
            )

        await payments.eventually(one_made)
        stopping = await payments.db.refund_runs.find_one({"_id": event_id})
        assert stopping["state"] == "RUNNING" and stopping["total"] == 4
    # Stopped mid-run; started again, it carries on from its cursor.
    async with running_payments(env, api_base, **quick) as payments:

        async def finished():
            run = await payments.db.refund_runs.find_one({"_id": event_id})
            return run if run and run["state"] == "DONE" else None

        run = await payments.eventually(finished, timeout=30)
        assert (run["total"], run["done"], run["skipped"], run["failed"]) == (4, 3, 1, 0)
        for paid in orders:
            [at_stripe] = payments.stripe_refunds(paid.intent_id)
            assert at_stripe["amount"] == TOTAL
            if paid is not refunded_before:
                assert at_stripe["metadata"]["refund_id"] == run_refund_id(paid.order_id, event_id)
            assert at_zero(await payments.ledger_of(paid.order_id))
            assert (await payments.payout(paid.order_id))["status"] == "REVERSED"
        assert payments.stripe_refunds(elsewhere.intent_id) == []

        listed = await payments.stub.ListRefundRuns(
            payments_pb2.ListRefundRunsRequest(), metadata=payments.as_admin()
        )
        assert [(r.event_id, r.state, r.total, r.done, r.skipped) for r in listed.runs] == [
            (event_id, "DONE", 4, 3, 1)
        ]
