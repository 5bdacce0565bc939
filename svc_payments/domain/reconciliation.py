"""Reconciliation: the ledger's entries held against Stripe's balance transactions, and every
difference between them. Pure: the job (service_layer/reconciliation.py) reads both sides and
stores what this module decides.

A balance transaction and a ledger entry are a *pair* when they name the same movement: the
entry `<kind>:<source>` (domain/ledger.py) and the balance transactions whose `source` is that
Stripe object and whose `type` is that kind's, as Stripe names it:

- `charge`: `charge` or `payment` (source ch_ or py_), positive at Stripe;
- `refund`: `refund` or `payment_refund` (re_ or pyr_), negative;
- `transfer`: `transfer` (tr_), negative;
- `transfer_reversal`: `transfer_refund` (trr_, a reversal), or `transfer_cancel` and
  `transfer_failure` (tr_, the transfer undone), positive;
- `dispute`: `adjustment` with a negative amount (du_ or dp_, the dispute);
- `dispute_won`: `adjustment` with a positive amount (the same dispute).

What must agree is the money on the platform's balance: the entry's postings to
`stripe_balance` plus any it made to `stripe_fees` (what the entry says Stripe took) equal the
balance transaction's `amount`, sign included (a transfer is negative at Stripe and a credit of
`stripe_balance` here). Stripe's fee (`fee`) is Stripe's own business unless the entry recorded
one: then that posting must equal `fee`. Fees the ledger did not record are summed per currency
in the report, not reported as differences. A `stripe_fee`, `stripe_fx_fee` or `tax_fee`
balance transaction (a fee Stripe charged on its own) counts there too; any other type (a
`payout` to the platform's bank, a `refund_failure`, ...) is counted by type, not compared: the
ledger does not model it. An entry that moves nothing on `stripe_balance` (money moved between
our own accounts) has nothing at Stripe to match.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from svc_payments.domain.ledger import STRIPE_BALANCE, STRIPE_FEES, EntryKind, JournalEntry

# Balance transaction type -> the kind of entry that records the same movement.
KIND_OF_TYPE: Mapping[str, EntryKind] = {
    "charge": EntryKind.CHARGE,
    "payment": EntryKind.CHARGE,
    "refund": EntryKind.REFUND,
    "payment_refund": EntryKind.REFUND,
    "transfer": EntryKind.TRANSFER,
    "transfer_refund": EntryKind.TRANSFER_REVERSAL,
    "transfer_cancel": EntryKind.TRANSFER_REVERSAL,
    "transfer_failure": EntryKind.TRANSFER_REVERSAL,
}
DISPUTE_ADJUSTMENT = "adjustment"
# Fees Stripe charges as transactions of their own (not a movement's `fee`).
STRIPE_FEE_TYPES = frozenset({"stripe_fee", "stripe_fx_fee", "tax_fee"})


class DifferenceKind(StrEnum):
    MISSING_IN_LEDGER = "MISSING_IN_LEDGER"  # Stripe moved money that no entry records
    MISSING_AT_STRIPE = "MISSING_AT_STRIPE"  # an entry moved money Stripe never reported
    AMOUNT_MISMATCH = "AMOUNT_MISMATCH"  # both sides, different amounts
    CURRENCY_MISMATCH = "CURRENCY_MISMATCH"  # both sides, different currencies
    FEE_MISMATCH = "FEE_MISMATCH"  # the entry recorded Stripe's fee, not the fee Stripe took


@dataclass(frozen=True)
class BalanceTransaction:
    """What the job reads of one of Stripe's balance transactions. Amounts in the currency's
    minor units, as Stripe gives them; `currency` in upper case, as the ledger writes it."""

    id: str  # txn_...
    type: str  # Stripe's: charge, refund, transfer, transfer_refund, adjustment, payout, ...
    source: str  # the Stripe object that moved the money: ch_, re_, tr_, trr_, du_, po_ ...
    amount: int  # signed: what reached (+) or left (-) the platform's balance, before fees
    fee: int  # what Stripe took for it
    net: int  # amount - fee
    currency: str
    created: datetime


def entry_id_of(txn: BalanceTransaction) -> str | None:
    """The id of the entry that records the same movement, or None for a type the ledger does
    not record."""
    if txn.type == DISPUTE_ADJUSTMENT and txn.amount:
        kind = EntryKind.DISPUTE if txn.amount < 0 else EntryKind.DISPUTE_WON
    elif txn.type in KIND_OF_TYPE:
        kind = KIND_OF_TYPE[txn.type]
    else:
        return None
    return f"{kind.value}:{txn.source}"


def balance_movement(entry: JournalEntry) -> int:
    """What `entry` moved on the platform's Stripe balance, with what it says Stripe took:
    the figure Stripe's `amount` must equal."""
    return sum(p.amount for p in entry.postings if p.account in (STRIPE_BALANCE, STRIPE_FEES))


def recorded_fee(entry: JournalEntry) -> int:
    return sum(p.amount for p in entry.postings if p.account == STRIPE_FEES)


def touches_stripe(entry: JournalEntry) -> bool:
    return any(p.account in (STRIPE_BALANCE, STRIPE_FEES) for p in entry.postings)


@dataclass(frozen=True)
class Difference:
    """One pair that does not agree, with both sides' figures (None: that side has none)."""

    kind: DifferenceKind
    entry_id: str  # the entry's id, or the id the entry would have
    source: str
    order_id: str = ""  # from the entry; "" when there is none
    transaction_ids: tuple[str, ...] = ()
    stripe_amount: int | None = None
    stripe_fee: int | None = None
    stripe_currency: str = ""
    ledger_amount: int | None = None
    ledger_fee: int | None = None
    ledger_currency: str = ""


@dataclass(frozen=True)
class ReconciliationPolicy:
    """`grace`: how long a movement may wait for its other side: nothing younger is judged (a
    charge Stripe made a moment ago whose entry commits now is not a difference). `overlap`:
    each window starts this long before the last one ended, so a balance transaction or an
    entry that appears late, dated before the end of the last window, is still judged."""

    grace: timedelta
    overlap: timedelta


@dataclass(frozen=True)
class Window:
    """From `start` (included) to `end` (excluded): what is judged by when it was created."""

    start: datetime
    end: datetime

    def holds(self, moment: datetime) -> bool:
        return self.start <= moment < self.end


@dataclass(frozen=True)
class Cursor:
    """Where the last report ended, and the pairs judged near that end (with a side created
    within `overlap` of it: pair id -> its newest side's time), which the next window, starting
    `overlap` before that end, leaves out: no pair is reported twice."""

    judged_until: datetime
    recent: Mapping[str, datetime] = field(default_factory=dict)
    version: int = 0


def next_window(
    cursor: Cursor | None, now: datetime, policy: ReconciliationPolicy, first_entry: datetime | None
) -> Window:
    """The window a run at `now` judges: up to `grace` ago, from `overlap` before the last
    window's end; the first from `overlap` before the ledger's first entry (nothing before the
    ledger began is compared), or, with an empty ledger, `overlap` back."""
    end = now - policy.grace
    if cursor is not None:
        start = cursor.judged_until - policy.overlap
    elif first_entry is not None:
        start = first_entry - policy.overlap
    else:
        start = end - policy.overlap
    return Window(min(start, end), end)


@dataclass(frozen=True)
class Reconciliation:
    """What one run found over its window."""

    window: Window
    matched: int  # pairs whose both sides agree
    differences: tuple[Difference, ...]
    stripe_fees: Mapping[str, int]  # currency -> every fee Stripe took for what was judged
    unrecorded_stripe_fees: Mapping[str, int]  # currency -> the part no entry recorded
    not_compared: Mapping[str, int]  # balance transaction type -> how many (payouts, ...)
    internal_entries: int  # entries of the window that moved nothing at Stripe
    judged: Mapping[str, datetime]  # every pair judged -> its newest side's time

    def counts(self) -> dict[DifferenceKind, int]:
        found = Counter(d.kind for d in self.differences)
        return {kind: found[kind] for kind in DifferenceKind}

    def cursor_after(self, previous: Cursor | None, policy: ReconciliationPolicy) -> Cursor:
        """The cursor after this run: its end, and the pairs judged (now or before) that the
        next window, starting `overlap` before that end, could meet again."""
        horizon = self.window.end - policy.overlap
        seen = {**(previous.recent if previous else {}), **self.judged}
        return Cursor(
            judged_until=self.window.end,
            recent={pair: at for pair, at in sorted(seen.items()) if at >= horizon},
            version=(previous.version + 1) if previous else 1,
        )


class CursorMoved(Exception):
    """Another run wrote its report since this one read the cursor: this one's window is
    stale, and writing it would report pairs twice."""


@dataclass(frozen=True)
class ReconciliationReport:
    """One run's findings as written to `reconciliation_reports` and answered on demand."""

    id: str
    created_at: datetime
    trigger: str  # schedule (the payments process's own runs) or on_demand (ReconcileLedger)
    result: Reconciliation


def unmatched_entries(
    window: Window,
    transactions: Iterable[BalanceTransaction],
    window_entries: Iterable[JournalEntry],
    already_judged: Iterable[str] = (),
) -> list[JournalEntry]:
    """The window's entries that move money at Stripe and that none of `transactions` matches:
    the job looks their sources up at Stripe before calling one missing there (its balance
    transaction may be older than the window)."""
    skip = set(already_judged)
    listed = {entry_id_of(t) for t in transactions}
    return [
        e
        for e in window_entries
        if window.holds(e.created_at)
        and touches_stripe(e)
        and e.id not in skip
        and e.id not in listed
    ]


def reconcile(
    window: Window,
    transactions: Iterable[BalanceTransaction],
    window_entries: Iterable[JournalEntry],
    entries_by_id: Mapping[str, JournalEntry],
    already_judged: Iterable[str] = (),
) -> Reconciliation:
    """Judges every pair with a side created in `window` and not judged before.

    `transactions`: Stripe's balance transactions created from the window's start on (later
    ones too: an entry of the window may be matched by one created after it ends), with those
    of the window's entries looked up by source; `window_entries`: the ledger's entries created
    in the window; `entries_by_id`: the entries of the transactions' pairs, whenever created."""
    skip = set(already_judged)
    entries = {e.id: e for e in window_entries}
    in_window = [e for e in entries.values() if window.holds(e.created_at)]
    entries.update(entries_by_id)
    by_pair: dict[str, list[BalanceTransaction]] = defaultdict(list)
    fees: Counter[str] = Counter()
    unrecorded: Counter[str] = Counter()
    not_compared: Counter[str] = Counter()
    judged: set[str] = set()
    for txn in {t.id: t for t in transactions}.values():
        pair = entry_id_of(txn)
        if pair is not None:
            by_pair[pair].append(txn)
            if window.holds(txn.created) and pair not in skip:
                judged.add(pair)
        elif window.holds(txn.created) and txn.type in STRIPE_FEE_TYPES:
            fees[txn.currency] += txn.fee - txn.amount
            unrecorded[txn.currency] += txn.fee - txn.amount
        elif window.holds(txn.created):
            not_compared[txn.type] += 1
    internal = 0
    for entry in in_window:
        if entry.id in skip:
            continue
        if touches_stripe(entry):
            judged.add(entry.id)
        else:
            internal += 1

    matched = 0
    differences: list[Difference] = []
    newest: dict[str, datetime] = {}
    for pair in sorted(judged):
        txns, entry = by_pair.get(pair, []), entries.get(pair)
        times = [t.created for t in txns] + ([entry.created_at] if entry else [])
        newest[pair] = max(times)
        for txn in txns:
            fees[txn.currency] += txn.fee
            if entry is None or not recorded_fee(entry):
                unrecorded[txn.currency] += txn.fee
        difference = _compare(pair, txns, entry)
        if difference is None:
            matched += 1
        else:
            differences.append(difference)
    return Reconciliation(
        window=window,
        matched=matched,
        differences=tuple(differences),
        stripe_fees={c: a for c, a in sorted(fees.items()) if a},
        unrecorded_stripe_fees={c: a for c, a in sorted(unrecorded.items()) if a},
        not_compared=dict(sorted(not_compared.items())),
        internal_entries=internal,
        judged=newest,
    )


def _disagreement(
    txns: Sequence[BalanceTransaction], entry: JournalEntry | None
) -> DifferenceKind | None:
    if entry is None:
        return DifferenceKind.MISSING_IN_LEDGER
    if not txns:
        return DifferenceKind.MISSING_AT_STRIPE
    if any(t.currency != entry.currency_code for t in txns):
        return DifferenceKind.CURRENCY_MISMATCH
    if sum(t.amount for t in txns) != balance_movement(entry):
        return DifferenceKind.AMOUNT_MISMATCH
    fee = recorded_fee(entry)
    if fee and fee != sum(t.fee for t in txns):
        return DifferenceKind.FEE_MISMATCH
    return None


def _compare(
    entry_id: str, txns: Sequence[BalanceTransaction], entry: JournalEntry | None
) -> Difference | None:
    kind = _disagreement(txns, entry)
    if kind is None:
        return None
    return Difference(
        kind,
        entry_id,
        source=entry_id.split(":", 1)[1],
        order_id=entry.order_id if entry else "",
        transaction_ids=tuple(sorted(t.id for t in txns)),
        stripe_amount=sum(t.amount for t in txns) if txns else None,
        stripe_fee=sum(t.fee for t in txns) if txns else None,
        stripe_currency=",".join(sorted({t.currency for t in txns})),
        ledger_amount=balance_movement(entry) if entry else None,
        ledger_fee=recorded_fee(entry) if entry else None,
        ledger_currency=entry.currency_code if entry else "",
    )
