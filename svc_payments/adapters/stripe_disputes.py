"""The disputes port over the Stripe SDK: a dispute read (with its balance transactions), its
evidence updated and submitted, a paid seller's transfer reversed and a won dispute's seller
paid back, through the same client,
metrics and failure mapping as the charges (adapters/stripe_gateway.py)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import stripe

from svc_payments.adapters.stripe_gateway import StripeApi, _as_dict, _id_of
from svc_payments.domain.disputes import BalanceMove, DisputeFacts, DisputeStatus
from svc_payments.service_layer.ports import EvidenceRefused, TransferRequest


def facts_of(obj: Any) -> DisputeFacts:
    dispute = _as_dict(obj)
    details = dispute.get("evidence_details") or {}
    due_by = details.get("due_by")
    moves = tuple(
        BalanceMove(str(bt.get("id") or ""), int(bt.get("amount") or 0), int(bt.get("fee") or 0))
        for bt in (dispute.get("balance_transactions") or [])
        if isinstance(bt, dict)
    )
    return DisputeFacts(
        id=dispute["id"],
        payment_intent_id=_id_of(dispute.get("payment_intent")),
        charge_id=_id_of(dispute.get("charge")),
        amount=int(dispute["amount"]),
        currency_code=str(dispute.get("currency") or "").upper(),
        reason=str(dispute.get("reason") or ""),
        status=DisputeStatus(dispute["status"]),
        evidence_due_by=None if not due_by else datetime.fromtimestamp(int(due_by), UTC),
        submission_count=int(details.get("submission_count") or 0),
        balance_moves=moves,
    )


class StripeDisputesApi:
    def __init__(self, api: StripeApi) -> None:
        self.api = api
        self.client = api.client
        _ = (self.client.v1.disputes, self.client.v1.transfers, stripe.Dispute)

    async def retrieve_dispute(self, dispute_id: str) -> DisputeFacts | None:
        try:
            read = self.client.v1.disputes.retrieve_async(dispute_id)
            dispute = await self.api._run("retrieve_dispute", read)
        except stripe.InvalidRequestError as exc:
            if exc.http_status == 404:
                return None
            raise
        return facts_of(dispute)

    async def update_dispute(
        self, dispute_id: str, evidence: dict[str, str], submit: bool
    ) -> DisputeFacts:
        update = self.client.v1.disputes.update_async(
            dispute_id,
            params={"evidence": evidence, "submit": submit},  # type: ignore[typeddict-item]
        )
        try:
            return facts_of(await self.api._run("update_dispute", update))
        except stripe.InvalidRequestError as exc:
            raise EvidenceRefused(exc.user_message or str(exc)) from None

    async def reverse_transfer(self, transfer_id: str, amount: int, idempotency_key: str) -> str:
        create = self.client.v1.transfers.reversals.create_async(
            transfer_id,
            params={"amount": amount},
            options={"idempotency_key": idempotency_key},
        )
        reversal = await self.api._run("reverse_transfer", create)
        return str(_as_dict(reversal)["id"])

    async def transfer(self, request: TransferRequest) -> str:
        return await self.api.transfer(request)
