"""Connect: Express accounts, account links, transfers from a charge and their reversals."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from stripe_standin.http import integer, invalid, listing, missing, new_id
from stripe_standin.payments import Payments

# What Stripe asks an Express account for before it can be paid (a US individual's, abridged).
ONBOARDING_DUE = [
    "business_profile.url",
    "business_type",
    "external_account",
    "individual.first_name",
    "individual.last_name",
    "tos_acceptance.date",
    "tos_acceptance.ip",
]
# What Stripe still asks for when the seller's onboarding is not enough (the withholding test).
STILL_DUE = ["individual.verification.document"]
LINK_SECONDS = 300  # an account link expires five minutes after it is made, as Stripe's do


@dataclass
class Connect:
    payments: Payments
    accounts: dict[str, dict[str, Any]] = field(default_factory=dict)
    transfers: dict[str, dict[str, Any]] = field(default_factory=dict)

    def create_account(self, form: dict[str, Any]) -> dict[str, Any]:
        kind = form.get("type", "")
        if kind != "express":
            raise invalid("The stand-in makes Express accounts only: pass type=express.", "type")
        account_id = new_id("acct")
        due = list(ONBOARDING_DUE)
        account = {
            "id": account_id,
            "object": "account",
            "type": kind,
            "country": form.get("country", "US"),
            "default_currency": "usd",
            "email": form.get("email"),
            "metadata": form.get("metadata") or {},
            "created": int(time.time()),
            "charges_enabled": False,
            "payouts_enabled": False,
            "details_submitted": False,
            "capabilities": {"card_payments": "inactive", "transfers": "inactive"},
            "requirements": {
                "currently_due": due,
                "eventually_due": list(due),
                "past_due": [],
                "pending_verification": [],
                "current_deadline": None,
                "disabled_reason": "requirements.past_due",
                "errors": [],
            },
        }
        self.accounts[account_id] = account
        return account

    def account(self, account_id: str, param: str = "id") -> dict[str, Any]:
        if account_id not in self.accounts:
            raise missing("account", account_id, param)
        return self.accounts[account_id]

    def complete_onboarding(self, account_id: str) -> dict[str, Any]:
        """The test endpoint's work: the seller finished Stripe's hosted onboarding."""
        account = self.account(account_id)
        previous = self._previous(account)
        account.update(charges_enabled=True, payouts_enabled=True, details_submitted=True)
        account["capabilities"] = {"card_payments": "active", "transfers": "active"}
        account["requirements"].update(
            currently_due=[], eventually_due=[], past_due=[], disabled_reason=None
        )
        self.payments.events.emit("account.updated", account, previous)
        return account

    def withhold_onboarding(self, account_id: str) -> dict[str, Any]:
        """The test endpoint's work: the seller went through onboarding, but Stripe still needs
        something (an identity document) before the account can be paid."""
        account = self.account(account_id)
        previous = self._previous(account)
        account.update(charges_enabled=False, payouts_enabled=False, details_submitted=True)
        account["capabilities"] = {"card_payments": "inactive", "transfers": "inactive"}
        account["requirements"].update(
            currently_due=list(STILL_DUE),
            eventually_due=list(STILL_DUE),
            past_due=list(STILL_DUE),
            disabled_reason="requirements.past_due",
        )
        self.payments.events.emit("account.updated", account, previous)
        return account

    @staticmethod
    def _previous(account: dict[str, Any]) -> dict[str, Any]:
        """What an `account.updated` event's `previous_attributes` holds."""
        names = ("charges_enabled", "payouts_enabled", "details_submitted")
        return {
            **{name: account[name] for name in names},
            "requirements": dict(account["requirements"]),
        }

    def create_account_link(self, form: dict[str, Any], base_url: str) -> dict[str, Any]:
        account = self.account(form.get("account", ""), param="account")
        for name in ("refresh_url", "return_url"):
            if not form.get(name):
                raise invalid(f"Missing required param: {name}.", name, code="parameter_missing")
        now = int(time.time())
        return {
            "object": "account_link",
            "created": now,
            "expires_at": now + LINK_SECONDS,
            "url": f"{base_url}/_standin/onboarding/{account['id']}",
        }

    def create_transfer(self, form: dict[str, Any], base_url: str) -> dict[str, Any]:
        amount = integer(form, "amount")
        currency = str(form.get("currency", "")).lower()
        if not currency:
            raise invalid("Missing required param: currency.", "currency", code="parameter_missing")
        destination = self.account(form.get("destination", ""), param="destination")
        if destination["capabilities"]["transfers"] != "active":
            raise invalid(
                "Your destination account needs to have at least one of the following"
                " capabilities enabled: transfers, crypto_transfers, legacy_payments",
                "destination",
                code="insufficient_capabilities_for_transfer",
            )
        source_id = form.get("source_transaction")
        if source_id:
            charge = self.payments.charge(source_id, param="source_transaction")
            if charge["currency"] != currency:
                raise invalid(
                    f"The currency of source_transaction's balance transaction"
                    f" ({charge['currency']}) must be the same as the transfer currency"
                    f" ({currency})",
                    "currency",
                )
            left = self.left_of(charge)
            if amount > left:
                raise invalid(
                    f"The transfer amount ({amount}) exceeds what is left of source_transaction"
                    f" {source_id} ({left}).",
                    "amount",
                    code="amount_too_large",
                )
        transfer_id = new_id("tr")
        transfer = {
            "id": transfer_id,
            "object": "transfer",
            "amount": amount,
            "amount_reversed": 0,
            "reversed": False,
            "currency": currency,
            "destination": destination["id"],
            "destination_payment": new_id("py"),
            "source_transaction": source_id or None,
            "source_type": "card",
            "transfer_group": form.get("transfer_group"),
            "description": form.get("description"),
            "metadata": form.get("metadata") or {},
            "created": int(time.time()),
            "livemode": False,
            "reversals": listing(f"/v1/transfers/{transfer_id}/reversals", [], False),
            "balance_transaction": self.payments.record("transfer", -amount, currency, transfer_id),
        }
        self.transfers[transfer_id] = transfer
        self.payments.events.emit("transfer.created", transfer)
        return transfer

    def left_of(self, charge: dict[str, Any]) -> int:
        """What a charge can still fund: its amount less refunds and the transfers drawing on it
        (net of their reversals)."""
        drawn = sum(
            t["amount"] - t["amount_reversed"]
            for t in self.transfers.values()
            if t["source_transaction"] == charge["id"]
        )
        return charge["amount"] - charge["amount_refunded"] - drawn

    def transfer(self, transfer_id: str) -> dict[str, Any]:
        if transfer_id not in self.transfers:
            raise missing("transfer", transfer_id, "id")
        return self.transfers[transfer_id]

    def create_reversal(self, transfer_id: str, form: dict[str, Any]) -> dict[str, Any]:
        transfer = self.transfer(transfer_id)
        left = transfer["amount"] - transfer["amount_reversed"]
        if left == 0:
            raise invalid(
                f"Transfer {transfer_id} has already been fully reversed.",
                code="transfer_already_reversed",
            )
        amount = integer(form, "amount", default=left)
        if amount > left:
            raise invalid(
                f"Reversal amount ({amount}) is greater than the unreversed amount of the"
                f" transfer ({left}).",
                "amount",
            )
        reversal_id = new_id("trr")
        reversal = {
            "id": reversal_id,
            "object": "transfer_reversal",
            "amount": amount,
            "currency": transfer["currency"],
            "transfer": transfer_id,
            "metadata": form.get("metadata") or {},
            "created": int(time.time()),
            "destination_payment_refund": new_id("pyr"),
            "source_refund": None,
            "balance_transaction": self.payments.record(
                "transfer_refund", amount, transfer["currency"], reversal_id
            ),
        }
        transfer["amount_reversed"] += amount
        transfer["reversed"] = transfer["amount_reversed"] == transfer["amount"]
        reversals = transfer["reversals"]
        reversals["data"].insert(0, reversal)
        reversals["total_count"] = len(reversals["data"])
        self.payments.events.emit("transfer.reversed", transfer)
        return reversal
