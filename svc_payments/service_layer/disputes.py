"""Disputes: SyncDispute (the gateway's webhook for `charge.dispute.*`), and the admins'
ListDisputes and SubmitDisputeEvidence (domain/disputes.py says what a dispute does).

SyncDispute reads the dispute from Stripe, never from the webhook's body, and applies it in one
transaction: the dispute recorded (evidence staged on first sight), the ledger's entries, the
seller's payout held, released or reversed. A paid seller's transfer is reversed at Stripe
outside any transaction, with the idempotency key `dispute_<id>`, then recorded in a second
one; a crash between the two is mended by the next delivery, which asks Stripe again with the
same key and gets the same reversal. A won dispute that had taken a paid seller's proceeds back
pays them back the same way: a transfer with the key `dispute_won_<id>`, then recorded (the
payout PAID by it, the ledger's transfer entry). Every step is idempotent: a repeated webhook
changes nothing and posts nothing twice (ledger entries are named by their cause).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from common.clock import Clock, stored_precision
from common.errors import InvalidInput, NotFound, Unavailable
from common.pagination import Page, PageRequest, decode_token
from common.retries import retry_transient
from svc_payments.domain import dispute_entries as entries
from svc_payments.domain import disputes as domain
from svc_payments.domain.disputes import Dispute, DisputeFacts, DisputeStatus
from svc_payments.domain.payouts import PENDING, Payout, PayoutStatus
from svc_payments.service_layer.ports import (
    EvidenceRefused,
    StripeDisputes,
    StripeUnavailable,
    TransferRefused,
    TransferRequest,
)
from svc_payments.service_layer.unit_of_work import PaymentsUnitOfWork

log = logging.getLogger(__name__)

# A dispute id as Stripe makes them (du_, or dp_ for some payment methods); anything else is not
# looked up at Stripe.
DISPUTE_ID = re.compile(r"(du|dp)_[A-Za-z0-9_]{1,252}")
DEFAULT_PAGE, MAX_PAGE = 20, 100
HOLD_REASON = "disputed"


@dataclass(frozen=True)
class DisputeView:
    """A dispute as the admins' list shows it, with its order's payout: its status and id (""
    for none)."""

    dispute: Dispute
    payout_status: str
    payout_id: str = ""


def _view(dispute: Dispute, payout: Payout | None) -> DisputeView:
    if payout is None:
        return DisputeView(dispute, "")
    return DisputeView(dispute, payout.status.value, payout.id)


@dataclass(frozen=True)
class Recovery:
    """A paid seller's transfer to take back at Stripe."""

    transfer_id: str
    amount: int


@dataclass(frozen=True)
class Repayment:
    """A won dispute's seller to pay back what was recovered from them: a new transfer."""

    payout_id: str
    amount: int
    destination: str  # the seller's connected account (acct_...)


def _check_id(dispute_id: str) -> str:
    if not DISPUTE_ID.fullmatch(dispute_id or ""):
        raise InvalidInput("Not a Stripe dispute id", field="disputeId")
    return dispute_id


T = TypeVar("T")


async def _stripe(call: Awaitable[T]) -> T:
    """A Stripe call; Stripe unreachable (the outcome unknown) is UNAVAILABLE: try again."""
    try:
        return await call
    except StripeUnavailable as exc:
        raise Unavailable(exc.message) from None


class DisputeHandlers:
    def __init__(
        self, uow: Callable[[], PaymentsUnitOfWork], stripe: StripeDisputes, clock: Clock
    ) -> None:
        self.uow = uow
        self.stripe = stripe
        self.clock = clock

    def _now(self) -> datetime:
        return stored_precision(self.clock.now())  # as MongoDB keeps it (milliseconds)

    # -- SyncDispute ----------------------------------------------------------------------------

    async def sync_dispute(self, dispute_id: str) -> DisputeView:
        facts = await _stripe(self.stripe.retrieve_dispute(_check_id(dispute_id)))
        if facts is None:
            raise NotFound("Dispute not found", field="disputeId")
        action = await self._apply(facts)
        if isinstance(action, Recovery):
            reversal_id = await _stripe(
                self.stripe.reverse_transfer(
                    action.transfer_id, action.amount, f"dispute_{facts.id}"
                )
            )
            await self._record_recovery(facts, reversal_id, action.amount)
        elif isinstance(action, Repayment):
            await self._repay(facts, action)
        return await self.get(facts.id)

    async def _repay(self, facts: DisputeFacts, repayment: Repayment) -> None:
        """Pays the won dispute's seller back at Stripe (the key `dispute_won_<id>`: asked again
        after a crash, the same transfer), then records it."""
        dispute = (await self.get(facts.id)).dispute
        request = TransferRequest(
            payout_id=repayment.payout_id,
            order_id=dispute.order_id,
            seller_id=dispute.seller_id,
            amount_minor=repayment.amount,
            currency_code=dispute.currency_code,
            destination=repayment.destination,
            transfer_group=f"order_{dispute.order_id}",
            source_transaction="",
            idempotency_key=dispute.repayment_key,
        )
        try:
            transfer_id = await _stripe(self.stripe.transfer(request))
        except TransferRefused as exc:
            # The seller's account cannot be paid now: the ledger shows them owed, the payout
            # says why, and the next delivery of the dispute asks again.
            log.error(
                "a won dispute's seller could not be paid back",
                extra={"dispute_id": facts.id, "error": exc.message},
            )
            await self._repayment_refused(facts.id, exc.message)
            return
        await self._record_repayment(facts.id, transfer_id, repayment.amount)

    @retry_transient()
    async def _record_repayment(self, dispute_id: str, transfer_id: str, amount: int) -> None:
        async with self.uow() as uow:
            now = self._now()
            dispute = await uow.disputes.get(dispute_id)
            payout = await uow.payouts.for_order(dispute.order_id) if dispute else None
            assert dispute is not None and payout is not None, "recorded before the repayment"
            if not dispute.repaid(transfer_id):
                return  # recorded by another delivery meanwhile
            await uow.disputes.save(dispute)
            if payout.repaid(transfer_id, amount, now):
                await uow.payouts.save(payout)
            await uow.ledger.post(entries.repayment_entry(dispute, transfer_id, amount, now))
            await uow.commit()
        log.info(
            "a won dispute's seller was paid back",
            extra={"dispute_id": dispute_id, "transfer_id": transfer_id},
        )

    @retry_transient()
    async def _repayment_refused(self, dispute_id: str, refusal: str) -> None:
        async with self.uow() as uow:
            dispute = await uow.disputes.get(dispute_id)
            payout = await uow.payouts.for_order(dispute.order_id) if dispute else None
            assert dispute is not None and payout is not None, "recorded before the repayment"
            payout.repayment_refused(
                f"dispute {dispute_id} won; paying the seller back failed: {refusal}"
            )
            await uow.payouts.save(payout)
            await uow.commit()

    @retry_transient()
    async def _apply(self, facts: DisputeFacts) -> Recovery | Repayment | None:
        async with self.uow() as uow:
            now = self._now()
            dispute = await uow.disputes.get(facts.id)
            if dispute is None:
                dispute = await self._first_sight(uow, facts, now)
                await uow.disputes.add(dispute)
            elif dispute.update(facts):
                await uow.disputes.save(dispute)
            if (entry := entries.withdrawal_entry(dispute, facts, now)) is not None:
                await uow.ledger.post(entry)
            payout = await uow.payouts.for_order(dispute.order_id)
            action = await self._payout_follows(uow, dispute, facts, payout, now)
            if (entry := entries.reinstated_entry(dispute, facts, now)) is not None:
                await uow.ledger.post(entry)
            recovering = isinstance(action, Recovery)
            if not recovering and (entry := entries.lost_entry(dispute, facts, now)) is not None:
                await uow.ledger.post(entry)
            await uow.commit()
            return action

    async def _first_sight(
        self, uow: PaymentsUnitOfWork, facts: DisputeFacts, now: datetime
    ) -> Dispute:
        payment = await uow.payments.get_by_stripe_id(facts.payment_intent_id)
        if payment is None:
            raise NotFound("The dispute is of no payment of ours", field="disputeId")
        order = await uow.orders.get(payment.order_id)
        assert order is not None, "an order copy is never deleted"
        disputed = domain.DisputedOrder(
            order_id=order.id,
            payment_id=payment.id,
            buyer_id=order.user_id,
            seller_id=order.seller_id,
            event_id=order.event_id,
            amount_paid=payment.amount_minor,
            currency_code=payment.currency_code,
            purchased_at=payment.created_at,
            payment_intent_id=payment.stripe_id,
            delivered_at=order.delivered_at,
            delivery_method=order.delivery_method,
        )
        dispute = Dispute.opened(facts, disputed, now)
        dispute.closed_on_sight()
        log.warning(
            "an order's payment is disputed",
            extra={"dispute_id": facts.id, "order_id": order.id, "status": facts.status.value},
        )
        return dispute

    async def _payout_follows(
        self,
        uow: PaymentsUnitOfWork,
        dispute: Dispute,
        facts: DisputeFacts,
        payout: Payout | None,
        now: datetime,
    ) -> Recovery | Repayment | None:
        """Holds, releases or reverses the order's payout as the dispute now stands; the
        transfer to take back at Stripe when the seller was paid already, or the seller to pay
        back when a dispute that took their proceeds back is won."""
        if payout is None:
            return None  # an order with no seller to pay (or from before payouts)
        if dispute.status in (DisputeStatus.WON, DisputeStatus.WARNING_CLOSED):
            if payout.release(now):
                await uow.payouts.save(payout)
            if not dispute.owes_repayment:
                return None
            account = await uow.seller_accounts.get(payout.seller_id)
            if account is None or not account.stripe_account_id:
                log.error(
                    "a won dispute's seller has no account to be paid back to",
                    extra={"dispute_id": dispute.id, "seller_id": payout.seller_id},
                )
                return None
            return Repayment(payout.id, dispute.recovered_minor, account.stripe_account_id)
        if payout.status is PayoutStatus.PAID:
            if dispute.recovered_minor or facts.withdrawn <= 0:
                return None  # taken back before; or an inquiry, which takes no money
            return Recovery(payout.transfer_id, min(payout.payable_minor, facts.withdrawn))
        if dispute.status is DisputeStatus.LOST:
            if payout.status is PayoutStatus.REVERSED:
                return None
            left = payout.payable_minor
            payout.reverse(f"dispute {dispute.id} lost")
            await uow.payouts.save(payout)
            if dispute.recovered(min(left, facts.withdrawn)):
                await uow.disputes.save(dispute)
            return None
        if payout.status in (*PENDING, PayoutStatus.FAILED) and payout.hold(HOLD_REASON):
            await uow.payouts.save(payout)
        return None

    @retry_transient()
    async def _record_recovery(self, facts: DisputeFacts, reversal_id: str, amount: int) -> None:
        async with self.uow() as uow:
            now = self._now()
            dispute = await uow.disputes.get(facts.id)
            payout = await uow.payouts.for_order(dispute.order_id) if dispute else None
            assert dispute is not None and payout is not None, "recorded before the reversal"
            if dispute.recovered(amount, reversal_id):
                await uow.disputes.save(dispute)
                if payout.status is PayoutStatus.PAID:
                    payout.reverse(f"dispute {dispute.id}", amount)
                    await uow.payouts.save(payout)
            await uow.ledger.post(entries.reversal_entry(dispute, reversal_id, amount, now))
            if (entry := entries.lost_entry(dispute, facts, now)) is not None:
                await uow.ledger.post(entry)
            await uow.commit()

    # -- reads --------------------------------------------------------------------------------

    @retry_transient()
    async def get(self, dispute_id: str) -> DisputeView:
        async with self.uow() as uow:
            dispute = await uow.disputes.get(dispute_id)
            if dispute is None:
                raise NotFound("Dispute not found", field="disputeId")
            payout = await uow.payouts.for_order(dispute.order_id)
        return _view(dispute, payout)

    @retry_transient()
    async def list_disputes(
        self,
        status: str,
        page_size: int,
        page_token: str,
        before_token: str = "",
        backward: bool = False,
    ) -> Page[DisputeView]:
        try:
            wanted = DisputeStatus(status) if status else None
        except ValueError:
            raise InvalidInput(f"Unknown dispute status {status!r}", field="status") from None
        if not 0 <= page_size <= MAX_PAGE:
            raise InvalidInput(f"pageSize is at most {MAX_PAGE}", field="pageSize")
        cursor = decode_token(before_token, "before") if backward else decode_token(page_token)
        request = PageRequest(page_size or DEFAULT_PAGE, cursor, backward)
        async with self.uow() as uow:
            page = await uow.disputes.page(request, wanted)
            views = []
            for dispute in page.items:
                payout = await uow.payouts.for_order(dispute.order_id)
                views.append(_view(dispute, payout))
        return Page(views, page.next_token, page.has_next, page.has_previous)

    @retry_transient()
    async def dispute_statuses(self, order_ids: Sequence[str]) -> dict[str, DisputeStatus]:
        """Each of `order_ids`' dispute status (the latest dispute's), undisputed ones left out."""
        if not order_ids:
            return {}
        async with self.uow() as uow:
            return await uow.disputes.statuses_of_orders(list(order_ids))

    # -- SubmitDisputeEvidence ----------------------------------------------------------------

    async def submit_evidence(
        self, dispute_id: str, evidence: dict[str, str], submit: bool
    ) -> DisputeView:
        edited = domain.checked_evidence(evidence)
        current = (await self.get(_check_id(dispute_id))).dispute
        current.check_answerable()
        # All the evidence as it stands after the edits: Stripe keeps what it is sent ("" clears).
        sent = {**current.evidence, **edited}
        try:
            facts = await _stripe(self.stripe.update_dispute(dispute_id, sent, submit))
        except EvidenceRefused as exc:
            raise InvalidInput(exc.message, field="evidence") from None
        await self._saved(dispute_id, edited, facts)
        return await self.get(dispute_id)

    @retry_transient()
    async def _saved(self, dispute_id: str, edited: dict[str, str], facts: DisputeFacts) -> None:
        async with self.uow() as uow:
            dispute = await uow.disputes.get(dispute_id)
            assert dispute is not None, "a dispute is never deleted"
            dispute.save_evidence(edited)
            dispute.update(facts)
            await uow.disputes.save(dispute)
            await uow.commit()
