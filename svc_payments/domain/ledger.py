"""The ledger: every money movement as a double-entry journal entry, in the minor units of one
currency, written in the same transaction as the state change that caused it (a charge
recorded, a transfer made, a refund given, a dispute opened or closed).

An entry's postings sum to zero (debits positive, credits negative), so per order the entries
sum to zero, always; an account's balance is derived from the entries, never stored. Each entry
is named by what caused it (`<kind>:<source>`, the source being the Stripe object: ch_, tr_,
re_, trr_, du_... or our own id where Stripe has none yet), so a retried transaction cannot post
it twice; reconciliation matches entries to Stripe's balance transactions by that source.

Accounts (a name, with the party after a colon where there is one):
- `stripe_balance`: the platform's balance at Stripe;
- `platform_fees`: what the platform keeps (the buyer's fee and the seller's commission);
- `seller_payable:<user id>`: proceeds owed to a seller, not yet transferred;
- `refunds:<user id>`: what is owed back to a buyer: a charge that cannot stand (its order was
  cancelled, or paid by another charge, before it was recorded) credits it, its refund debits
  it back to zero;
- `stripe_fees`: what Stripe took (e.g. a dispute's fee);
- `dispute_hold`: money a dispute took out of the balance until it is decided;
- `dispute_losses`: what the platform lost to disputes beyond what it recovered from the seller
  (domain/disputes.py).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

STRIPE_BALANCE = "stripe_balance"
PLATFORM_FEES = "platform_fees"
STRIPE_FEES = "stripe_fees"
DISPUTE_HOLD = "dispute_hold"


def seller_payable(user_id: str) -> str:
    return f"seller_payable:{user_id}"


def refunds(user_id: str) -> str:
    return f"refunds:{user_id}"


class EntryKind(StrEnum):
    CHARGE = "charge"
    TRANSFER = "transfer"
    TRANSFER_REVERSAL = "transfer_reversal"
    REFUND = "refund"
    DISPUTE = "dispute"
    DISPUTE_WON = "dispute_won"
    DISPUTE_LOST = "dispute_lost"


class UnbalancedEntry(ValueError):
    """A journal entry whose postings do not sum to zero (a bug, never a user's input)."""


@dataclass(frozen=True)
class Posting:
    account: str
    amount: int  # minor units; debit > 0, credit < 0


@dataclass(frozen=True)
class JournalEntry:
    kind: EntryKind
    source: str  # what caused it: a Stripe object id, or our own id where Stripe has none
    order_id: str
    currency_code: str
    postings: tuple[Posting, ...]
    created_at: datetime
    memo: str = ""

    def __post_init__(self) -> None:
        if len(self.postings) < 2:
            raise UnbalancedEntry(f"{self.id}: an entry moves money between two accounts at least")
        if any(p.amount == 0 for p in self.postings):
            raise UnbalancedEntry(f"{self.id}: a posting of nothing")
        if sum(p.amount for p in self.postings) != 0:
            raise UnbalancedEntry(f"{self.id}: postings sum to {self.total}, not 0")

    @property
    def id(self) -> str:
        return f"{self.kind.value}:{self.source}"

    @property
    def total(self) -> int:
        return sum(p.amount for p in self.postings)

    @classmethod
    def moving(
        cls,
        kind: EntryKind,
        source: str,
        order_id: str,
        currency_code: str,
        amount: int,
        debit: str,
        credit: str,
        created_at: datetime,
        memo: str = "",
    ) -> JournalEntry:
        """`amount` from `credit` to `debit`: the two-posting entry."""
        return cls(
            kind,
            source,
            order_id,
            currency_code,
            (Posting(debit, amount), Posting(credit, -amount)),
            created_at,
            memo,
        )


def charge(
    source: str,
    order_id: str,
    currency_code: str,
    seller_id: str,
    total: int,
    proceeds: int,
    created_at: datetime,
) -> JournalEntry:
    """A buyer's charge reached the platform's balance: the seller is owed `proceeds`, the
    platform keeps the rest (buyer's fee and seller's commission)."""
    if not 0 <= proceeds <= total:
        raise UnbalancedEntry(f"charge {source}: proceeds {proceeds} outside 0..{total}")
    postings = [Posting(STRIPE_BALANCE, total), Posting(seller_payable(seller_id), -proceeds)]
    if total - proceeds:
        postings.append(Posting(PLATFORM_FEES, -(total - proceeds)))
    return JournalEntry(
        EntryKind.CHARGE, source, order_id, currency_code, tuple(postings), created_at
    )


def refused_charge(
    source: str,
    refund_source: str,
    order_id: str,
    currency_code: str,
    user_id: str,
    amount: int,
    created_at: datetime,
) -> tuple[JournalEntry, JournalEntry]:
    """A charge that could not stand, refunded in full before it was ever the order's payment:
    the charge reached the platform's balance owed back to the buyer, and the refund gave it
    back. Two entries, each the pair of one of Stripe's balance transactions."""
    memo = "a charge that could not stand, refunded"
    owed = refunds(user_id)
    return (
        JournalEntry.moving(
            EntryKind.CHARGE,
            source,
            order_id,
            currency_code,
            amount,
            debit=STRIPE_BALANCE,
            credit=owed,
            created_at=created_at,
            memo=memo,
        ),
        JournalEntry.moving(
            EntryKind.REFUND,
            refund_source,
            order_id,
            currency_code,
            amount,
            debit=owed,
            credit=STRIPE_BALANCE,
            created_at=created_at,
            memo=memo,
        ),
    )


def owes_seller(entry: JournalEntry) -> bool:
    """Whether `entry` credits a seller's proceeds (the charge of an order's payment)."""
    return any(p.account.startswith("seller_payable:") and p.amount < 0 for p in entry.postings)


def balances(entries: Iterable[JournalEntry]) -> dict[tuple[str, str], int]:
    """Each (account, currency)'s balance over `entries` (debits positive), zero ones left out."""
    totals: dict[tuple[str, str], int] = defaultdict(int)
    for entry in entries:
        for posting in entry.postings:
            totals[(posting.account, entry.currency_code)] += posting.amount
    return {key: amount for key, amount in totals.items() if amount}
