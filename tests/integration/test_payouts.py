"""Payouts against the Stripe stand-in and SecantusDB: an order paid through the payments
service, its event ended (EventChanged through the broker), the sweep run: the stand-in holds one
transfer to the seller's account drawing on the order's charge, the payout is PAID and the
ledger owes the seller nothing for the order. Run again, or after a crash between Stripe's
answer and the commit, the sweep makes no second transfer; an unonboarded seller waits and is
paid once onboarded."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta

import grpc
import httpx
import pytest
from google.protobuf.timestamp_pb2 import Timestamp

from common.clock import FrozenClock, stored_precision
from svc_payments.adapters.stripe_gateway import StripeApi
from svc_payments.adapters.unit_of_work import MongoPaymentsUnitOfWork
from svc_payments.domain import ledger
from svc_payments.domain.payouts import Payout, PayoutStatus
from svc_payments.domain.seller_accounts import ConnectedAccount, SellerAccount
from svc_payments.service_layer.payouts import PayoutSweep, release_waiting_payouts
from tests.integration.test_payments_service import SECRET_KEY, Payments, running_payments
from tests.support import stripe_standin
from ticketing.events.v1 import catalogue_pb2
from ticketing.events.v1 import orders_pb2 as order_events
from ticketing.payments.v1 import payments_pb2

pytestmark = pytest.mark.integration

CLAIM = timedelta(seconds=30)


@pytest.fixture(scope="module")
def standin() -> Iterator[str]:
    with stripe_standin.running() as url:
        yield url


@pytest.fixture
async def payments(env, standin) -> AsyncIterator[Payments]:
    overrides = {
        "PAYOUT_DELAY_AFTER_EVENT_SECONDS": "1",
        # The service's own sweep runs as it starts, then not within the test: the test sweeps.
        "PAYOUT_SWEEP_SECONDS": "3600",
    }
    async with running_payments(env, standin, **overrides) as running:
        yield running


class CrashingOnPaid(MongoPaymentsUnitOfWork):
    """Fails the commit that would record a payout PAID, while `crashes` lasts: the process
    stopping between Stripe's answer and its write."""

    crashes = 0

    async def commit(self) -> None:
        paid = any(isinstance(a, Payout) and a.status is PayoutStatus.PAID for a in self._seen)
        if paid and CrashingOnPaid.crashes:
            CrashingOnPaid.crashes -= 1
            raise RuntimeError("the process stopped before recording the transfer")
        await super().commit()


class AskedTransfers:
    """The Stripe gateway, counting the transfers the sweeps ask for (the stand-in answers a
    repeated idempotency key with the first transfer, so its own count cannot tell)."""

    def __init__(self, stripe: StripeApi) -> None:
        self.stripe = stripe
        self.asked: list[str] = []

    async def transfer(self, request):
        self.asked.append(request.payout_id)
        return await self.stripe.transfer(request)


class Market:
    """What a test does around the payments service: sellers at the stand-in, events, orders."""

    def __init__(self, payments: Payments, standin: str) -> None:
        self.payments = payments
        self.standin = standin
        self.sdk = stripe_standin.client(standin, SECRET_KEY)
        self.clock = FrozenClock(datetime.now(UTC))
        self.stripe = AskedTransfers(StripeApi(SECRET_KEY, standin, timeout=5))

    def uow(self) -> MongoPaymentsUnitOfWork:
        return CrashingOnPaid(self.payments.mongo, self.payments.db, "payouts-test")

    def sweep(self) -> PayoutSweep:
        return PayoutSweep(self.uow, self.stripe, self.clock, CLAIM)

    def express_account(self) -> str:
        return self.sdk.v1.accounts.create({"type": "express", "email": "s@example.com"}).id

    def complete_onboarding(self, account_id: str) -> ConnectedAccount:
        url = f"{self.standin}/_standin/accounts/{account_id}/complete_onboarding"
        httpx.post(url).raise_for_status()
        account = self.sdk.v1.accounts.retrieve(account_id)
        return ConnectedAccount(account.id, account.payouts_enabled, account.details_submitted)

    async def seller(self, onboarded: bool = True) -> tuple[str, str]:
        """A seller with an Express account (onboarded or not), stored as the onboarding will."""
        seller_id, account_id = str(uuid.uuid4()), self.express_account()
        if onboarded:
            connected = self.complete_onboarding(account_id)
        else:
            connected = ConnectedAccount(account_id, False, False)
        async with self.uow() as uow:
            await uow.seller_accounts.add(
                SellerAccount.opened(seller_id, connected, self.clock.now())
            )
            await uow.commit()
        return seller_id, account_id

    async def onboarded(self, seller_id: str, account_id: str) -> None:
        """What SyncSellerAccount will do on account.updated: the account refreshed from Stripe
        and, become payable, the seller's waiting payouts released in the same transaction."""
        connected = self.complete_onboarding(account_id)
        async with self.uow() as uow:
            seller = await uow.seller_accounts.get(seller_id)
            assert seller is not None
            if seller.refresh(connected).became_payable:
                await release_waiting_payouts(uow, seller_id, self.clock.now())
            await uow.seller_accounts.save(seller)
            await uow.commit()

    async def event_ended(self, hours_ago: float = 1) -> str:
        event_id = str(uuid.uuid4())
        ends = Timestamp()
        ends.FromDatetime(self.clock.now() - timedelta(hours=hours_ago))
        self.payments.publish(
            catalogue_pb2.EventChanged(id=event_id, version=0, status="SCHEDULED", ends_at=ends)
        )
        await self.until(lambda: self.payments.db.event_schedules.find_one({"_id": event_id}))
        return event_id

    async def paid_order(self, seller_id: str, event_id: str) -> tuple[str, str]:
        """An order of the seller's listing for the event, paid: its id and its charge's."""
        buyer, order_id = str(uuid.uuid4()), str(uuid.uuid4())
        ticket = order_events.OrderCreated.Ticket(
            id=str(uuid.uuid4()),
            price="25.00",
            currency_code="EUR",
            quantity=2,
            seller_id=seller_id,
            event_id=event_id,
        )
        self.payments.publish(order_events.OrderCreated(id=order_id, user_id=buyer, ticket=ticket))
        await self.payments.order_copy(order_id, "CREATED")
        payment = await self.payments.pay(order_id, buyer)
        assert payment.status == "succeeded"
        intent = self.sdk.v1.payment_intents.retrieve(payment.stripe_id)
        return order_id, intent.latest_charge

    async def payout(self, order_id: str) -> Payout:
        async with self.uow() as uow:
            payout = await uow.payouts.for_order(order_id)
        assert payout is not None
        return payout

    async def owed(self, order_id: str) -> dict:
        async with self.uow() as uow:
            return ledger.balances(await uow.ledger.of_order(order_id))

    def transfers_to(self, account_id: str) -> list:
        """Every transfer the stand-in made to the account (read back through its balance
        transactions, as reconciliation will)."""
        found, after = [], None
        while True:
            params: dict = {"limit": 100, "type": "transfer"}
            if after:
                params["starting_after"] = after
            page = self.sdk.v1.balance_transactions.list(params)
            for entry in page.data:
                transfer = self.sdk.v1.transfers.retrieve(entry.source)
                if transfer.destination == account_id:
                    found.append(transfer)
            if not page.has_more:
                return found
            after = page.data[-1].id

    @staticmethod
    async def until(probe, timeout: float = 10.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if (found := await probe()) is not None:
                return found
            await asyncio.sleep(0.05)
        raise AssertionError("never happened")


@pytest.fixture
def market(payments, standin) -> Market:
    CrashingOnPaid.crashes = 0
    return Market(payments, standin)


async def test_a_due_payout_is_transferred_once_drawing_on_the_orders_charge(market):
    seller_id, account_id = await market.seller()
    event_id = await market.event_ended()
    order_id, charge_id = await market.paid_order(seller_id, event_id)
    assert await market.owed(order_id) == {
        ("stripe_balance", "EUR"): 5000,
        (f"seller_payable:{seller_id}", "EUR"): -5000,
    }

    await market.sweep().pay_due()

    payout = await market.payout(order_id)
    assert payout.status is PayoutStatus.PAID
    [transfer] = market.transfers_to(account_id)
    assert transfer.id == payout.transfer_id
    assert (transfer.amount, transfer.currency) == (5000, "eur")
    assert (transfer.transfer_group, transfer.source_transaction) == (
        f"order_{order_id}",
        charge_id,
    )
    assert transfer.metadata["payout_id"] == payout.id
    # The seller is owed nothing for the order any more; its entries sum to zero.
    assert await market.owed(order_id) == {}
    outbox = await market.payments.db.outbox.find_one({"type": "ticketing.events.v1.PayoutPaid"})
    assert outbox is not None

    await market.sweep().pay_due()
    assert len(market.transfers_to(account_id)) == 1

    # The seller reads it (ListPayouts); another user sees none of it, nor everyone's.
    stub = market.payments.stub
    mine = await stub.ListPayouts(
        payments_pb2.ListPayoutsRequest(page_size=10), metadata=market.payments.as_user(seller_id)
    )
    assert [(p.id, p.status, p.amount, p.currency_code) for p in mine.payouts] == [
        (payout.id, "PAID", "50.00", "EUR")
    ]
    assert mine.payouts[0].paid_time.ToDatetime(tzinfo=UTC) == payout.paid_at
    stranger = market.payments.as_user(str(uuid.uuid4()))
    theirs = await stub.ListPayouts(payments_pb2.ListPayoutsRequest(), metadata=stranger)
    assert list(theirs.payouts) == []
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await stub.ListPayouts(payments_pb2.ListPayoutsRequest(all_sellers=True), metadata=stranger)
    assert refused.value.code() is grpc.StatusCode.PERMISSION_DENIED


async def test_a_crash_between_stripes_answer_and_the_commit_makes_no_second_transfer(market):
    seller_id, account_id = await market.seller()
    order_id, _ = await market.paid_order(seller_id, await market.event_ended())
    CrashingOnPaid.crashes = 1

    await market.sweep().pay_due()  # the transfer is made, its record lost

    assert len(market.transfers_to(account_id)) == 1
    assert (await market.payout(order_id)).status is PayoutStatus.SCHEDULED
    await market.sweep().pay_due()  # still claimed by the one that stopped: left alone
    market.clock.advance(CLAIM.total_seconds())
    await market.sweep().pay_due()  # its claim ran out: Stripe answers the same transfer

    payout = await market.payout(order_id)
    [transfer] = market.transfers_to(account_id)
    assert (payout.status, payout.transfer_id) == (PayoutStatus.PAID, transfer.id)
    assert await market.owed(order_id) == {}


async def test_an_unonboarded_seller_waits_and_is_paid_once_onboarded(market):
    seller_id, account_id = await market.seller(onboarded=False)
    order_id, _ = await market.paid_order(seller_id, await market.event_ended())
    assert (await market.payout(order_id)).status is PayoutStatus.WAITING_FOR_ONBOARDING

    await market.sweep().pay_due()
    assert market.transfers_to(account_id) == []

    await market.onboarded(seller_id, account_id)
    await market.sweep().pay_due()

    assert (await market.payout(order_id)).status is PayoutStatus.PAID
    assert len(market.transfers_to(account_id)) == 1


async def test_sweeps_of_three_replicas_at_once_pay_each_payout_once(market):
    seller_id, account_id = await market.seller()
    event_id = await market.event_ended()
    order_ids = [(await market.paid_order(seller_id, event_id))[0] for _ in range(4)]

    sweeps = [market.sweep() for _ in range(3)]
    await asyncio.gather(*(sweep.pay_due() for sweep in sweeps))

    payouts = [await market.payout(order_id) for order_id in order_ids]
    assert {p.status for p in payouts} == {PayoutStatus.PAID}
    transfers = market.transfers_to(account_id)
    assert sorted(t.metadata["payout_id"] for t in transfers) == sorted(p.id for p in payouts)
    assert {t.id for t in transfers} == {p.transfer_id for p in payouts}
    # Each was asked of Stripe once: a sweep that found one claimed left it alone.
    assert sorted(market.stripe.asked) == sorted(p.id for p in payouts)


async def test_a_rescheduled_event_moves_its_payouts_due_time(market):
    seller_id, account_id = await market.seller()
    event_id = await market.event_ended(hours_ago=-1)  # ends in an hour
    order_id, _ = await market.paid_order(seller_id, event_id)
    first_due = (await market.payout(order_id)).due_at
    assert first_due is not None

    later = Timestamp()
    later.FromDatetime(market.clock.now() + timedelta(days=7))
    market.payments.publish(
        catalogue_pb2.EventStatusChanged(
            id=event_id, version=1, status="RESCHEDULED", previous_status="SCHEDULED", ends_at=later
        )
    )

    async def moved():
        due = (await market.payout(order_id)).due_at
        return due if due != first_due else None

    due = await market.until(moved)
    ends = stored_precision(market.clock.now() + timedelta(days=7))  # as MongoDB keeps it
    assert due == ends + timedelta(seconds=1)  # the new end, and the delay (1 s)
    market.clock.advance(2 * 3600)  # past the first end: not due any more
    await market.sweep().pay_due()
    assert market.transfers_to(account_id) == []
