"""Stripe's balance transactions through the official SDK (`GET /v1/balance_transactions`), for
reconciliation: the SDK client of `stripe_gateway.StripeApi`, every page followed
(auto-paging), each listing timed and counted as one Stripe call (`balance_transactions`)."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

import stripe

from common.metrics.series import STRIPE_DURATION, STRIPE_REQUESTS
from svc_payments.adapters.stripe_gateway import failure_outcome
from svc_payments.domain.reconciliation import BalanceTransaction
from svc_payments.service_layer.ports import StripeUnavailable

OPERATION = "balance_transactions"
PAGE = 100  # Stripe's largest page


def transaction_of(obj: Any) -> BalanceTransaction:
    txn = obj.to_dict() if hasattr(obj, "to_dict") else dict(obj)
    source = txn.get("source")
    if isinstance(source, dict):  # expanded
        source = source.get("id")
    return BalanceTransaction(
        id=txn["id"],
        type=txn["type"],
        source=source or "",
        amount=int(txn["amount"]),
        fee=int(txn.get("fee") or 0),
        net=int(txn["net"]),
        currency=str(txn["currency"]).upper(),
        created=datetime.fromtimestamp(int(txn["created"]), UTC),
    )


class StripeBalanceTransactions:
    def __init__(self, client: stripe.StripeClient) -> None:
        self.client = client

    async def created_since(self, since: datetime) -> list[BalanceTransaction]:
        """Every balance transaction created at or after `since` (to the second, as Stripe
        dates them), newest first."""
        return await self._list({"created": {"gte": int(since.timestamp())}})

    async def of_source(self, source: str) -> list[BalanceTransaction]:
        """Those of one Stripe object (a charge, a transfer, ...), whenever created."""
        return await self._list({"source": source})

    async def _list(self, params: dict[str, Any]) -> list[BalanceTransaction]:
        started = time.perf_counter()
        try:
            page = await self.client.v1.balance_transactions.list_async(
                params={**params, "limit": PAGE}  # type: ignore[arg-type]
            )
            found = [transaction_of(txn) async for txn in page.auto_paging_iter()]
        except Exception as exc:
            outcome = failure_outcome(exc)
            self._count(outcome, started)
            if outcome in ("unavailable", "rejected_credentials"):
                raise StripeUnavailable(f"Stripe's balance transactions: {exc}") from None
            raise
        self._count("ok", started)
        return found

    @staticmethod
    def _count(outcome: str, started: float) -> None:
        STRIPE_DURATION.labels(OPERATION).observe(time.perf_counter() - started)
        STRIPE_REQUESTS.labels(OPERATION, outcome).inc()
