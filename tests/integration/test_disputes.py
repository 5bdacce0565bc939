"""Disputes over real gRPC with SecantusDB, RabbitMQ and the Stripe stand-in, driven through the
official SDK: an order paid with `pm_card_createDispute` is disputed right after its charge
succeeds; SyncDispute (what the gateway's webhook calls) reads the dispute from Stripe and marks
the order disputed, holds the seller's payout (or reverses a paid one at Stripe), posts the
withdrawal, stages evidence; an admin submits evidence; the stand-in decides the dispute.

The payment's success schedules the seller's payout and posts the charge's ledger entry; fees are
set so the seller's proceeds are 40.00 of the 50.00 charged (SELLER_COMMISSION_PERCENT 20, no
buyer's fee), and the seller has set up payouts (through the stand-in's onboarding), so the
payout is SCHEDULED rather than waiting for onboarding."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta

import grpc
import httpx
import pytest
import stripe

from common.clock import SystemClock, stored_precision
from common.errors import ErrorCode, Unavailable
from common.mongo import OUTBOX
from svc_payments.adapters.stripe_balance import StripeBalanceTransactions
from svc_payments.adapters.stripe_disputes import StripeDisputesApi
from svc_payments.adapters.stripe_gateway import StripeApi
from svc_payments.adapters.unit_of_work import MongoPaymentsUnitOfWork
from svc_payments.domain import ledger
from svc_payments.domain.payouts import EventSchedule, Payout
from svc_payments.domain.reconciliation import ReconciliationPolicy, Window
from svc_payments.domain.refunds import DISPUTED
from svc_payments.service_layer.disputes import DisputeHandlers
from svc_payments.service_layer.ports import StripeUnavailable, TransferRequest
from svc_payments.service_layer.reconciliation import LedgerReconciliation
from tests.integration.test_payments_service import (
    SECRET_KEY,
    Payments,
    error_of,
    running_payments,
)
from tests.support import servers, stripe_standin
from ticketing.events.v1 import catalogue_pb2
from ticketing.events.v1 import orders_pb2 as order_events
from ticketing.payments.v1 import payments_pb2

pytestmark = pytest.mark.integration

DISPUTE_FEE = 1500
SELLER_PART = 4000  # of a 50.00 order
FEES = {"SELLER_COMMISSION_PERCENT": "20"}  # 10.00 of 50.00: the seller's proceeds are 40.00


@pytest.fixture(scope="module")
def api_base() -> Iterator[str]:
    with stripe_standin.running() as url:
        yield url


@pytest.fixture
def sdk(api_base: str) -> stripe.StripeClient:
    return stripe_standin.client(api_base)


@pytest.fixture
async def payments(env, api_base) -> AsyncIterator[Payments]:
    async with running_payments(env, api_base, **FEES) as running:
        yield running


def held_invariants(entries) -> bool:
    """The order's ledger as it must always be: each entry sums to zero, and no seller is owed
    less than nothing (a seller's payable account, credit-side, never has a debit balance)."""
    sellers = {
        k: v for k, v in ledger.balances(entries).items() if k[0].startswith("seller_payable:")
    }
    return all(e.total == 0 for e in entries) and all(v <= 0 for v in sellers.values())


class Market:
    """Orders of a seller, paid, with their payout, and what a test asks of payments."""

    def __init__(self, payments: Payments, sdk: stripe.StripeClient, api_base: str) -> None:
        self.payments = payments
        self.sdk = sdk
        self.api_base = api_base
        self.seller = str(uuid.uuid4())
        token, _ = payments.issuer.issue(str(uuid.uuid4()), "ops@example.com", roles=("admin",))
        self.admin = (("authorization", f"Bearer {token}"),)
        self.seller_payable = False

    async def seller_sets_up_payouts(self) -> None:
        """The seller onboards at Stripe (the stand-in) and payments hears of it (account.updated's
        SyncSellerAccount), as a real seller's would."""
        started = await self.payments.stub.StartSellerOnboarding(
            payments_pb2.StartSellerOnboardingRequest(),
            metadata=self.payments.as_user(self.seller),
        )
        account_id = (await self.payments.db.seller_accounts.find_one({"_id": self.seller}))[
            "stripe_account_id"
        ]
        assert started.onboarding_url
        async with httpx.AsyncClient() as client:
            done = await client.post(
                f"{self.api_base}/_standin/accounts/{account_id}/complete_onboarding"
            )
        done.raise_for_status()
        synced = await self.payments.stub.SyncSellerAccount(
            payments_pb2.SyncSellerAccountRequest(stripe_account_id=account_id)
        )
        assert synced.seller_account.payouts_enabled
        self.seller_payable = True

    async def disputed_order(
        self, event_id: str = "event-1"
    ) -> tuple[str, payments_pb2.Payment, str]:
        """A 50.00 EUR order paid with the card that gets disputed, its payout SCHEDULED and
        its charge in the ledger (both from the payment's success); the order, its payment and
        the dispute's id at Stripe."""
        order_id, payment = await self.paid_order("pm_card_createDispute", event_id)
        [dispute] = self.sdk.v1.disputes.list({"payment_intent": payment.stripe_id}).data
        return order_id, payment, dispute.id

    async def paid_order(
        self, method: str = "pm_card_visa", event_id: str = "event-1"
    ) -> tuple[str, payments_pb2.Payment]:
        """A 50.00 EUR order paid with `method`, its payout SCHEDULED and its charge in the
        ledger (both from the payment's success)."""
        if not self.seller_payable:
            await self.seller_sets_up_payouts()
        buyer, order_id = str(uuid.uuid4()), str(uuid.uuid4())
        ticket = order_events.OrderCreated.Ticket(
            id=str(uuid.uuid4()),
            price="25.00",
            currency_code="EUR",
            quantity=2,
            seller_id=self.seller,
            event_id=event_id,
        )
        self.payments.publish(order_events.OrderCreated(id=order_id, user_id=buyer, ticket=ticket))
        await self.payments.order_copy(order_id, "CREATED")
        payment = await self.payments.pay(order_id, buyer, method)
        assert payment.status == "succeeded"  # paid first, disputed after
        charge = self.sdk.v1.payment_intents.retrieve(payment.stripe_id).latest_charge
        payout = await self.payout(order_id)
        assert (payout.status.value, payout.payable_minor) == ("SCHEDULED", SELLER_PART)
        assert (
            postings((await self.entries(order_id))[f"charge:{charge}"])[
                ledger.seller_payable(self.seller)
            ]
            == -SELLER_PART
        )
        return order_id, payment

    def dispute_now(self, charge_id: str) -> str:
        """Test only, not Stripe's: the cardholder disputes the charge now (what is left of it)."""
        opened = httpx.post(f"{self.api_base}/_standin/charges/{charge_id}/dispute")
        opened.raise_for_status()
        return opened.json()["id"]

    def uow(self) -> MongoPaymentsUnitOfWork:
        return MongoPaymentsUnitOfWork(self.payments.mongo, self.payments.db, "payments-tests")

    async def sync(self, dispute_id: str) -> payments_pb2.Dispute:
        request = payments_pb2.SyncDisputeRequest(dispute_id=dispute_id)
        return (await self.payments.stub.SyncDispute(request)).dispute

    async def payout(self, order_id: str) -> Payout:
        async with self.uow() as uow:
            payout = await uow.payouts.for_order(order_id)
        assert payout is not None
        return payout

    async def entries(self, order_id: str) -> dict[str, ledger.JournalEntry]:
        async with self.uow() as uow:
            entries = await uow.ledger.of_order(order_id)
        assert held_invariants(entries), entries
        return {e.id: e for e in entries}

    async def published(self, routing_key: str, dispute_id: str) -> list[dict]:
        docs = self.payments.db[OUTBOX].find({"routing_key": routing_key})
        bodies = [json.loads(doc["body"]) async for doc in docs]
        return [b for b in bodies if b["id"] == dispute_id]

    def onboarded_seller(self) -> stripe.Account:
        account = self.sdk.v1.accounts.create({"type": "express"})
        httpx.post(
            f"{self.api_base}/_standin/accounts/{account.id}/complete_onboarding"
        ).raise_for_status()
        return account

    def decide(self, dispute_id: str, outcome: str) -> None:
        httpx.post(
            f"{self.api_base}/_standin/disputes/{dispute_id}/decide", data={"status": outcome}
        ).raise_for_status()


@pytest.fixture
def market(payments, sdk, api_base) -> Market:
    return Market(payments, sdk, api_base)


class LosesOneRepayment(StripeDisputesApi):
    """Stripe makes the won dispute's repayment, and its answer is lost on the way back."""

    made = ""

    async def transfer(self, request: TransferRequest) -> str:
        made = await super().transfer(request)
        if not self.made:
            self.made = made
            raise StripeUnavailable("The payment provider is unavailable, try again")
        return made


def transfers_to(sdk: stripe.StripeClient, account_id: str) -> list[str]:
    """The transfers Stripe made to the account, read back from the balance's transactions."""
    found = []
    for txn in sdk.v1.balance_transactions.list(
        {"type": "transfer", "limit": 100}
    ).auto_paging_iter():
        if sdk.v1.transfers.retrieve(txn.source).destination == account_id:
            found.append(txn.source)
    return sorted(found)


def postings(entry: ledger.JournalEntry) -> dict[str, int]:
    return {p.account: p.amount for p in entry.postings}


async def test_a_dispute_holds_the_payout_takes_evidence_and_once_won_releases_it(market, sdk):
    order_id, payment, dispute_id = await market.disputed_order()

    dispute = await market.sync(dispute_id)
    assert (dispute.order_id, dispute.payment_id) == (order_id, payment.id)
    assert (dispute.status, dispute.reason) == ("needs_response", "fraudulent")
    assert dispute.amount == 5000
    assert dispute.payout_status == "HELD"
    assert dispute.facts.buyer_id == payment.user_id and dispute.facts.seller_id == market.seller
    assert (dispute.facts.payment_intent_id, dispute.facts.amount_paid) == (payment.stripe_id, 5000)
    assert dispute.facts.charge_id.startswith("ch_")
    # Not recorded anywhere payments can read: empty, never made up.
    assert (dispute.facts.buyer_email, dispute.facts.delivery_record) == ("", "")
    assert "Ticket delivery: not yet recorded" in dispute.evidence["uncategorized_text"]
    assert dispute.evidence_due_time.seconds > 0

    # The buyer's payment shows the order disputed.
    found = await market.payments.stub.BatchGetPayments(
        payments_pb2.BatchGetPaymentsRequest(order_ids=[order_id]),
        metadata=market.payments.as_user(payment.user_id),
    )
    assert [p.dispute_status for p in found.payments] == ["needs_response"]
    payout = await market.payout(order_id)
    assert (payout.status, payout.reason) == ("HELD", "disputed")
    entries = await market.entries(order_id)
    assert postings(entries[f"dispute:{dispute_id}"]) == {
        ledger.STRIPE_BALANCE: -(5000 + DISPUTE_FEE),
        ledger.DISPUTE_HOLD: 5000,
        ledger.STRIPE_FEES: DISPUTE_FEE,
    }

    # Again (a webhook delivered twice): nothing is posted or announced twice.
    again = await market.sync(dispute_id)
    assert again.status == "needs_response" and again.payout_status == "HELD"
    assert (await market.entries(order_id)).keys() == entries.keys()
    assert len(await market.published("dispute.opened", dispute_id)) == 1

    # The admin edits the staged evidence and submits it.
    code, error = await error_of(
        market.payments.stub.ListDisputes(
            payments_pb2.ListDisputesRequest(),
            metadata=market.payments.as_user(str(uuid.uuid4())),
        )
    )
    assert (code, error.code) == (grpc.StatusCode.PERMISSION_DENIED, ErrorCode.FORBIDDEN)
    listed = await market.payments.stub.ListDisputes(
        payments_pb2.ListDisputesRequest(status="needs_response", page_size=100),
        metadata=market.admin,
    )
    assert dispute_id in [d.id for d in listed.disputes]
    code, error = await error_of(
        market.payments.stub.SubmitDisputeEvidence(
            payments_pb2.SubmitDisputeEvidenceRequest(
                dispute_id=dispute_id, evidence={"favourite_colour": "blue"}, submit=True
            ),
            metadata=market.admin,
        )
    )
    assert (code, error.field) == (grpc.StatusCode.INVALID_ARGUMENT, "evidence.favourite_colour")
    submitted = await market.payments.stub.SubmitDisputeEvidence(
        payments_pb2.SubmitDisputeEvidenceRequest(
            dispute_id=dispute_id,
            evidence={"customer_name": "Ann Buyer", "uncategorized_text": "Seen at the door."},
            submit=True,
        ),
        metadata=market.admin,
    )
    assert (submitted.dispute.status, submitted.dispute.submission_count) == ("under_review", 1)
    assert submitted.dispute.evidence["customer_name"] == "Ann Buyer"
    at_stripe = sdk.v1.disputes.retrieve(dispute_id)
    assert at_stripe.status == "under_review"
    assert at_stripe.evidence.customer_name == "Ann Buyer"
    assert at_stripe.evidence.uncategorized_text == "Seen at the door."
    assert at_stripe.evidence.product_description.startswith("Resale ticket(s) for event event-1")

    # The card network decides for the platform: the funds come back, the payout is released.
    market.decide(dispute_id, "won")
    won = await market.sync(dispute_id)
    assert (won.status, won.payout_status) == ("won", "SCHEDULED")
    entries = await market.entries(order_id)
    assert postings(entries[f"dispute_won:{dispute_id}"]) == {
        ledger.STRIPE_BALANCE: 5000,
        ledger.DISPUTE_HOLD: -5000,
    }
    assert sum(e.total for e in entries.values()) == 0
    assert ledger.balances(entries.values()) == {
        (ledger.STRIPE_BALANCE, "EUR"): 5000 - DISPUTE_FEE,
        (ledger.STRIPE_FEES, "EUR"): DISPUTE_FEE,
        (ledger.seller_payable(market.seller), "EUR"): -SELLER_PART,
        (ledger.PLATFORM_FEES, "EUR"): -(5000 - SELLER_PART),
    }
    [closed] = await market.published("dispute.closed", dispute_id)
    assert (closed["status"], closed["orderId"]) == ("won", order_id)
    await market.sync(dispute_id)
    assert len(await market.published("dispute.closed", dispute_id)) == 1
    code, error = await error_of(
        market.payments.stub.SubmitDisputeEvidence(
            payments_pb2.SubmitDisputeEvidenceRequest(dispute_id=dispute_id, submit=True),
            metadata=market.admin,
        )
    )
    assert (code, error.code) == (grpc.StatusCode.FAILED_PRECONDITION, ErrorCode.CONFLICT)


async def test_a_lost_dispute_reverses_the_held_payout_and_the_seller_bears_it(market):
    order_id, _, dispute_id = await market.disputed_order()
    assert (await market.sync(dispute_id)).payout_status == "HELD"

    market.decide(dispute_id, "lost")
    lost = await market.sync(dispute_id)
    assert (lost.status, lost.payout_status) == ("lost", "REVERSED")
    payout = await market.payout(order_id)
    assert (payout.transfer_id, payout.reversed_minor) == ("", SELLER_PART)  # never paid
    entries = await market.entries(order_id)
    assert postings(entries[f"dispute_lost:{dispute_id}"]) == {
        ledger.DISPUTE_HOLD: -5000,
        ledger.seller_payable(market.seller): SELLER_PART,
        "dispute_losses": 5000 - SELLER_PART,
    }
    assert sum(e.total for e in entries.values()) == 0
    assert ledger.balances(entries.values()) == {
        (ledger.STRIPE_BALANCE, "EUR"): -DISPUTE_FEE,
        (ledger.STRIPE_FEES, "EUR"): DISPUTE_FEE,
        ("dispute_losses", "EUR"): 5000 - SELLER_PART,
        (ledger.PLATFORM_FEES, "EUR"): -(5000 - SELLER_PART),
    }


async def test_a_paid_sellers_transfer_is_reversed_at_stripe_once(market, sdk):
    order_id, payment, dispute_id = await market.disputed_order()
    account = market.onboarded_seller()
    charge = sdk.v1.payment_intents.retrieve(payment.stripe_id).latest_charge
    transfer = sdk.v1.transfers.create(
        {
            "amount": SELLER_PART,
            "currency": "eur",
            "destination": account.id,
            "transfer_group": f"order_{order_id}",
            "source_transaction": charge,
        }
    )
    async with market.uow() as uow:
        payout = await uow.payouts.for_order(order_id)
        assert payout is not None
        payout.paid(transfer.id, datetime.now(UTC))
        await uow.payouts.save(payout)
        await uow.ledger.post(
            ledger.JournalEntry.moving(
                ledger.EntryKind.TRANSFER,
                transfer.id,
                order_id,
                "EUR",
                SELLER_PART,
                debit=ledger.seller_payable(market.seller),
                credit=ledger.STRIPE_BALANCE,
                created_at=datetime.now(UTC),
            )
        )
        await uow.commit()

    # A crash right after Stripe's answer, before payments recorded it: the reversal was made
    # at Stripe under the dispute's key, and the next delivery asks again with that key.
    sdk.v1.transfers.reversals.create(
        transfer.id, {"amount": SELLER_PART}, {"idempotency_key": f"dispute_{dispute_id}"}
    )
    for _ in range(2):  # the second changes nothing: the same reversal, no second entry
        dispute = await market.sync(dispute_id)
        assert dispute.payout_status == "REVERSED"
    reversed_at_stripe = sdk.v1.transfers.retrieve(transfer.id)
    assert reversed_at_stripe.amount_reversed == SELLER_PART
    [reversal] = reversed_at_stripe.reversals.data
    entries = await market.entries(order_id)
    assert postings(entries[f"transfer_reversal:{reversal.id}"]) == {
        ledger.STRIPE_BALANCE: SELLER_PART,
        ledger.seller_payable(market.seller): -SELLER_PART,
    }

    market.decide(dispute_id, "lost")
    assert (await market.sync(dispute_id)).status == "lost"
    entries = await market.entries(order_id)
    assert sum(e.total for e in entries.values()) == 0
    assert ledger.balances(entries.values()) == {
        (ledger.STRIPE_BALANCE, "EUR"): -DISPUTE_FEE,
        (ledger.STRIPE_FEES, "EUR"): DISPUTE_FEE,
        ("dispute_losses", "EUR"): 5000 - SELLER_PART,
        (ledger.PLATFORM_FEES, "EUR"): -(5000 - SELLER_PART),
    }


async def test_a_dispute_stripe_does_not_know_or_not_ours_is_not_found(market, sdk):
    code, error = await error_of(market.sync("du_doesnotexist"))
    assert (code, error.code) == (grpc.StatusCode.NOT_FOUND, ErrorCode.NOT_FOUND)
    code, error = await error_of(market.sync("ch_notadispute"))
    assert (code, error.field) == (grpc.StatusCode.INVALID_ARGUMENT, "disputeId")
    # A dispute of a charge payments never made (another integration's, say).
    intent = sdk.v1.payment_intents.create(
        {
            "amount": 900,
            "currency": "eur",
            "payment_method": "pm_card_createDispute",
            "confirm": True,
        }
    )
    [stranger] = sdk.v1.disputes.list({"payment_intent": intent.id}).data
    code, error = await error_of(market.sync(stranger.id))
    assert (code, error.code) == (grpc.StatusCode.NOT_FOUND, ErrorCode.NOT_FOUND)
    async with market.uow() as uow:
        assert await uow.disputes.get(stranger.id) is None


async def test_stripe_unreachable_is_unavailable_and_records_nothing(env, market):
    _, _, dispute_id = await market.disputed_order()
    closed = f"http://127.0.0.1:{servers.free_port()}"
    async with running_payments(env, closed) as unreachable:
        code, error = await error_of(
            unreachable.stub.SyncDispute(payments_pb2.SyncDisputeRequest(dispute_id=dispute_id))
        )
        assert (code, error.code) == (grpc.StatusCode.UNAVAILABLE, ErrorCode.UNAVAILABLE)
    async with market.uow() as uow:
        assert await uow.disputes.get(dispute_id) is None
    # Stripe is back (the same database): the next delivery records it.
    assert (await market.sync(dispute_id)).status == "needs_response"


async def test_the_admins_list_refuses_an_unknown_status(market):
    code, error = await error_of(
        market.payments.stub.ListDisputes(
            payments_pb2.ListDisputesRequest(status="decided"), metadata=market.admin
        )
    )
    assert (code, error.field) == (grpc.StatusCode.INVALID_ARGUMENT, "status")


async def test_a_won_dispute_pays_back_the_seller_it_took_the_proceeds_from(market, sdk):
    """The seller was paid, the dispute reversed their transfer, the platform won: the seller
    is paid again (a transfer under the dispute's key), and the order's accounts are as if no
    dispute happened, but for Stripe's dispute fee."""
    order_id, payment, dispute_id = await market.disputed_order()
    account_id = (await market.payments.db.seller_accounts.find_one({"_id": market.seller}))[
        "stripe_account_id"
    ]
    charge = sdk.v1.payment_intents.retrieve(payment.stripe_id).latest_charge
    transfer = sdk.v1.transfers.create(
        {
            "amount": SELLER_PART,
            "currency": "eur",
            "destination": account_id,
            "transfer_group": f"order_{order_id}",
            "source_transaction": charge,
        }
    )
    async with market.uow() as uow:
        payout = await uow.payouts.for_order(order_id)
        assert payout is not None
        payout.paid(transfer.id, datetime.now(UTC))
        await uow.payouts.save(payout)
        await uow.ledger.post(
            ledger.JournalEntry.moving(
                ledger.EntryKind.TRANSFER,
                transfer.id,
                order_id,
                "EUR",
                SELLER_PART,
                debit=ledger.seller_payable(market.seller),
                credit=ledger.STRIPE_BALANCE,
                created_at=datetime.now(UTC),
            )
        )
        await uow.commit()
    assert (await market.sync(dispute_id)).payout_status == "REVERSED"
    before = ledger.balances((await market.entries(order_id)).values())
    assert before[(ledger.seller_payable(market.seller), "EUR")] == -SELLER_PART

    # Stripe makes the repayment and its answer is lost (a crash before payments recorded it):
    # the next delivery asks again with the dispute's key and gets the same transfer.
    market.decide(dispute_id, "won")
    lossy = LosesOneRepayment(StripeApi(SECRET_KEY, market.api_base))
    with pytest.raises(Unavailable):
        await DisputeHandlers(market.uow, lossy, SystemClock()).sync_dispute(dispute_id)
    assert (await market.payout(order_id)).status == "REVERSED"
    for _ in range(2):  # the second changes nothing
        won = await market.sync(dispute_id)
        assert (won.status, won.payout_status) == ("won", "PAID")
    payout = await market.payout(order_id)
    assert (payout.transfer_id, payout.payable_minor) == (lossy.made, SELLER_PART)
    assert transfers_to(sdk, account_id) == sorted([transfer.id, lossy.made])
    repaid_first = sdk.v1.transfers.retrieve(lossy.made)
    assert (repaid_first.amount, repaid_first.transfer_group) == (SELLER_PART, f"order_{order_id}")
    entries = await market.entries(order_id)
    assert postings(entries[f"transfer:{repaid_first.id}"]) == {
        ledger.seller_payable(market.seller): SELLER_PART,
        ledger.STRIPE_BALANCE: -SELLER_PART,
    }
    assert ledger.balances(entries.values()) == {
        (ledger.STRIPE_BALANCE, "EUR"): 5000 - SELLER_PART - DISPUTE_FEE,
        (ledger.STRIPE_FEES, "EUR"): DISPUTE_FEE,
        (ledger.PLATFORM_FEES, "EUR"): -(5000 - SELLER_PART),
    }


async def test_an_order_under_dispute_is_not_refunded(market, sdk):
    """Stripe refuses to refund a disputed charge; payments refuses up front, with the reason."""
    order_id, payment, dispute_id = await market.disputed_order()
    await market.sync(dispute_id)
    code, error = await error_of(
        market.payments.stub.RefundOrder(
            payments_pb2.RefundOrderRequest(
                order_id=order_id, reason="Asked", idempotency_key=str(uuid.uuid4())
            ),
            metadata=market.admin,
        )
    )
    assert (code, error.code) == (grpc.StatusCode.FAILED_PRECONDITION, ErrorCode.CONFLICT)
    assert (
        error.message
        == "The payment is disputed; it cannot be refunded until the dispute is decided"
    )
    # Stripe itself refuses it too (the stand-in as Stripe).
    with pytest.raises(stripe.InvalidRequestError) as refused:
        sdk.v1.refunds.create({"payment_intent": payment.stripe_id})
    assert refused.value.code == "charge_disputed"
    assert sdk.v1.refunds.list({"payment_intent": payment.stripe_id}).data == []


async def test_a_dispute_of_a_partly_refunded_charge_takes_what_is_left_and_reconciles(market, sdk):
    """Stripe disputes at most what is left of a charge: the ledger still sums to zero for the
    order, and reconciliation finds nothing of the order's that differs."""
    order_id, payment = await market.paid_order()
    charge_id = sdk.v1.payment_intents.retrieve(payment.stripe_id).latest_charge
    refund = (
        await market.payments.stub.RefundOrder(
            payments_pb2.RefundOrderRequest(
                order_id=order_id,
                amount=1000,
                currency_code="EUR",
                reason="Obstructed view",
                idempotency_key=str(uuid.uuid4()),
            ),
            metadata=market.admin,
        )
    ).refund
    assert (refund.state, refund.seller_amount) == ("SUCCEEDED", 1000)

    dispute_id = market.dispute_now(charge_id)
    dispute = await market.sync(dispute_id)
    assert (dispute.amount, dispute.payout_status) == (4000, "HELD")
    market.decide(dispute_id, "lost")
    assert (await market.sync(dispute_id)).payout_status == "REVERSED"

    entries = await market.entries(order_id)
    assert postings(entries[f"dispute_lost:{dispute_id}"]) == {
        ledger.DISPUTE_HOLD: -4000,
        ledger.seller_payable(market.seller): SELLER_PART - 1000,
        "dispute_losses": 1000,
    }
    assert ledger.balances(entries.values()) == {
        (ledger.STRIPE_BALANCE, "EUR"): -DISPUTE_FEE,
        (ledger.STRIPE_FEES, "EUR"): DISPUTE_FEE,
        ("dispute_losses", "EUR"): 1000,
        (ledger.PLATFORM_FEES, "EUR"): -1000,
    }
    job = LedgerReconciliation(
        uow=market.uow,
        stripe=StripeBalanceTransactions(StripeApi(SECRET_KEY, market.api_base).client),
        clock=SystemClock(),
        policy=ReconciliationPolicy(grace=timedelta(0), overlap=timedelta(minutes=1)),
    )
    now = datetime.now(UTC)
    judged = await job.judge(Window(now - timedelta(minutes=5), now + timedelta(seconds=5)))
    ours = {charge_id, refund.stripe_refund_id, dispute_id}
    assert [d for d in judged.differences if d.order_id == order_id or d.source in ours] == []


async def test_a_cancelled_events_run_counts_a_disputed_order_failed_and_goes_on(
    env, api_base, sdk
):
    async with running_payments(env, api_base, REFUND_RUN_POLL_SECONDS="0.1", **FEES) as payments:
        market = Market(payments, sdk, api_base)
        event_id = str(uuid.uuid4())
        disputed, _, dispute_id = await market.disputed_order(event_id)
        await market.sync(dispute_id)
        refundable, paid = await market.paid_order(event_id=event_id)
        payments.publish(
            catalogue_pb2.EventStatusChanged(
                id=event_id, version=2, status="CANCELLED", previous_status="SCHEDULED"
            )
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            run = await payments.db.refund_runs.find_one({"_id": event_id})
            if run and run["state"] == "DONE":
                break
            await asyncio.sleep(0.1)
        assert (run["total"], run["done"], run["failed"], run["skipped"]) == (2, 1, 1, 0)
        failed = await payments.db.refunds.find_one({"order_id": disputed})
        assert (failed["state"], failed["failure"]) == ("FAILED", DISPUTED)
        assert (await payments.db.refunds.find_one({"order_id": refundable}))[
            "state"
        ] == "SUCCEEDED"
        assert [r.amount for r in sdk.v1.refunds.list({"payment_intent": paid.stripe_id}).data] == [
            5000
        ]
        entries = await market.entries(disputed)
        assert not any(e.startswith("refund:") for e in entries)


async def test_a_buyers_request_waits_for_the_dispute_and_is_made_once_it_is_won(market, sdk):
    order_id, payment = await market.paid_order(event_id=str(uuid.uuid4()))
    buyer = market.payments.as_user(payment.user_id)
    async with market.uow() as uow:
        order = await uow.orders.get(order_id)
        starts = stored_precision(datetime.now(UTC)) + timedelta(days=3)
        await uow.event_schedules.add(
            EventSchedule(order.event_id, 1, "SCHEDULED", starts, starts_at=starts)
        )
        await uow.commit()
    ask = payments_pb2.RequestRefundRequest(order_id=order_id, reason="Cannot come")
    asked = (await market.payments.stub.RequestRefund(ask, metadata=buyer)).refund
    assert asked.state == "REQUESTED"

    charge_id = sdk.v1.payment_intents.retrieve(payment.stripe_id).latest_charge
    dispute_id = market.dispute_now(charge_id)
    await market.sync(dispute_id)
    approve = payments_pb2.DecideRefundRequestRequest(refund_id=asked.id, approve=True)
    code, error = await error_of(
        market.payments.stub.DecideRefundRequest(approve, metadata=market.admin)
    )
    assert (code, error.message) == (grpc.StatusCode.FAILED_PRECONDITION, DISPUTED)
    async with market.uow() as uow:
        assert (await uow.refunds.get(asked.id)).state == "REQUESTED"  # it waits
    assert sdk.v1.refunds.list({"payment_intent": payment.stripe_id}).data == []

    # Won: the money is back at the platform, and the request can be made.
    market.decide(dispute_id, "won")
    await market.sync(dispute_id)
    made = (await market.payments.stub.DecideRefundRequest(approve, metadata=market.admin)).refund
    assert (made.state, made.amount, made.seller_amount) == ("SUCCEEDED", 5000, SELLER_PART)
    assert (await market.payout(order_id)).status == "REVERSED"
    entries = await market.entries(order_id)
    assert ledger.balances(entries.values()) == {
        (ledger.STRIPE_BALANCE, "EUR"): -DISPUTE_FEE,
        (ledger.STRIPE_FEES, "EUR"): DISPUTE_FEE,
    }
