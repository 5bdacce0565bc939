"""Reconciliation's reports and cursor in MongoDB, written in one transaction: a report in
`reconciliation_reports` and the cursor it moves in `reconciliation_cursor`, so the cursor never
moves past a window without its report.

`reconciliation_reports`: {_id, created_at, trigger, window: {start, end}, matched,
counts: {<difference kind>: n}, differences: [{kind, entry_id, source, order_id,
transaction_ids, stripe: {amount, fee, currency}, ledger: {amount, fee, currency}}],
stripe_fees: {<currency>: minor units}, unrecorded_stripe_fees, not_compared: {<type>: n},
internal_entries, pairs_judged} (a side's figures are null when it has none).

`reconciliation_cursor`: one document, {_id: "ledger", judged_until, recent: [{pair, at}],
version}; each report moves it from the version it read to the next, or fails (CursorMoved).
"""

from __future__ import annotations

from typing import Any

from pymongo import DESCENDING
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError, OperationFailure

from common.mongo import UnitOfWork
from svc_payments.domain.reconciliation import (
    Cursor,
    CursorMoved,
    Difference,
    ReconciliationReport,
)

REPORTS = "reconciliation_reports"
CURSOR = "reconciliation_cursor"
CURSOR_ID = "ledger"


async def ensure_reconciliation_indexes(db: AsyncDatabase) -> None:
    await db[REPORTS].create_index([("created_at", DESCENDING)])


def difference_doc(d: Difference) -> dict[str, Any]:
    return {
        "kind": d.kind.value,
        "entry_id": d.entry_id,
        "source": d.source,
        "order_id": d.order_id,
        "transaction_ids": list(d.transaction_ids),
        "stripe": {"amount": d.stripe_amount, "fee": d.stripe_fee, "currency": d.stripe_currency},
        "ledger": {"amount": d.ledger_amount, "fee": d.ledger_fee, "currency": d.ledger_currency},
    }


def report_doc(report: ReconciliationReport) -> dict[str, Any]:
    result = report.result
    return {
        "_id": report.id,
        "created_at": report.created_at,
        "trigger": report.trigger,
        "window": {"start": result.window.start, "end": result.window.end},
        "matched": result.matched,
        "counts": {kind.value: n for kind, n in result.counts().items()},
        "differences": [difference_doc(d) for d in result.differences],
        "stripe_fees": dict(result.stripe_fees),
        "unrecorded_stripe_fees": dict(result.unrecorded_stripe_fees),
        "not_compared": dict(result.not_compared),
        "internal_entries": result.internal_entries,
        "pairs_judged": len(result.judged),
    }


def cursor_of(doc: dict[str, Any]) -> Cursor:
    return Cursor(
        judged_until=doc["judged_until"],
        recent={item["pair"]: item["at"] for item in doc["recent"]},
        version=doc["version"],
    )


class MongoReconciliationReports:
    def __init__(self, db: AsyncDatabase, uow: UnitOfWork) -> None:
        self.reports = db[REPORTS]
        self.cursors = db[CURSOR]
        self.uow = uow

    async def cursor(self) -> Cursor | None:
        doc = await self.cursors.find_one({"_id": CURSOR_ID}, session=self.uow.session)
        return None if doc is None else cursor_of(doc)

    async def add(self, report: ReconciliationReport, cursor: Cursor) -> None:
        fields = {
            "judged_until": cursor.judged_until,
            "recent": [{"pair": pair, "at": at} for pair, at in cursor.recent.items()],
            "version": cursor.version,
        }
        session = self.uow.session
        try:
            await self.reports.insert_one(report_doc(report), session=session)
            if cursor.version == 1:
                await self.cursors.insert_one({"_id": CURSOR_ID, **fields}, session=session)
                return
            moved = await self.cursors.update_one(
                {"_id": CURSOR_ID, "version": cursor.version - 1}, {"$set": fields}, session=session
            )
        except DuplicateKeyError:
            raise CursorMoved("another run wrote the first report") from None
        except OperationFailure as exc:
            if exc.has_error_label("TransientTransactionError"):
                raise CursorMoved("another run is writing its report") from None
            raise
        if moved.matched_count == 0:
            raise CursorMoved(f"the cursor is no longer at version {cursor.version - 1}")
