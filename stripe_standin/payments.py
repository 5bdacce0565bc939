"""PaymentIntents, their charges and refunds, and the balance transactions they make: one state."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from stripe_standin.http import StripeError, integer, invalid, missing, new_id

DECLINED = ("pm_card_chargeCustomerFail", "pm_card_visa_chargeDeclined", "pm_card_chargeDeclined")
NEEDS_ACTION = ("pm_card_threeDSecure2Required", "pm_card_authenticationRequired")
DECLINE_MESSAGE = "Your card was declined."
REFUND_REASONS = ("duplicate", "fraudulent", "requested_by_customer")
# Stripe's standard card pricing (US): 2.9 % + 30 cents per successful charge.
FEE_PERCENT_TENTHS = 29
FEE_FIXED = 30


def card_fee(amount: int) -> int:
    return (amount * FEE_PERCENT_TENTHS + 500) // 1000 + FEE_FIXED


@dataclass
class Payments:
    """Everything that holds money on the platform's account. Connect (`connect.py`) reads the
    charges and writes balance transactions here, so a transfer and the charge it draws on are
    one state."""

    intents: dict[str, dict[str, Any]] = field(default_factory=dict)
    charges: dict[str, dict[str, Any]] = field(default_factory=dict)
    refunds: dict[str, dict[str, Any]] = field(default_factory=dict)
    balance: list[dict[str, Any]] = field(default_factory=list)  # oldest first

    def record(self, kind: str, amount: int, currency: str, source: str, fee: int = 0) -> str:
        """One balance transaction (`type`, `amount`, `fee`, `net`, `source`); its id."""
        now = int(time.time())
        entry = {
            "id": new_id("txn"),
            "object": "balance_transaction",
            "type": kind,
            "amount": amount,
            "fee": fee,
            "net": amount - fee,
            "fee_details": (
                [
                    {
                        "amount": fee,
                        "currency": currency,
                        "type": "stripe_fee",
                        "application": None,
                        "description": "Stripe processing fees",
                    }
                ]
                if fee
                else []
            ),
            "currency": currency,
            "source": source,
            "status": "available",
            "available_on": now,
            "created": now,
            "description": None,
            "exchange_rate": None,
            "reporting_category": kind,
        }
        self.balance.append(entry)
        return entry["id"]

    def create_intent(self, form: dict[str, Any]) -> dict[str, Any]:
        method = form.get("payment_method", "")
        if not method.startswith("pm_"):
            raise missing("PaymentMethod", method, "payment_method")
        amount = integer(form, "amount")
        currency = str(form.get("currency", "usd")).lower()
        intent_id = new_id("pi")
        intent = {
            "id": intent_id,
            "object": "payment_intent",
            "amount": amount,
            "amount_received": 0,
            "currency": currency,
            "status": "requires_confirmation",
            "client_secret": f"{intent_id}_secret_{uuid.uuid4().hex[:24]}",
            "confirmation_method": "automatic",
            "capture_method": "automatic",
            "payment_method": method,
            "payment_method_types": form.get("payment_method_types") or ["card"],
            "metadata": form.get("metadata") or {},
            "transfer_group": form.get("transfer_group"),
            "created": int(time.time()),
            "livemode": False,
            "last_payment_error": None,
            "next_action": None,
            "latest_charge": None,
        }
        self.intents[intent_id] = intent
        if form.get("confirm") != "true":
            return intent
        if method.startswith(DECLINED):
            intent["status"] = "requires_payment_method"
            failure = {"type": "card_error", "code": "card_declined", "message": DECLINE_MESSAGE}
            intent["last_payment_error"] = failure
            raise StripeError(
                402,
                "card_error",
                DECLINE_MESSAGE,
                code="card_declined",
                decline_code="generic_decline",
                payment_intent=intent,
            )
        if method.startswith(NEEDS_ACTION):
            intent["status"] = "requires_action"
            intent["next_action"] = {"type": "use_stripe_sdk", "use_stripe_sdk": {}}
            return intent
        charge = self._charge(intent)
        intent.update(status="succeeded", amount_received=amount, latest_charge=charge["id"])
        return intent

    def _charge(self, intent: dict[str, Any]) -> dict[str, Any]:
        charge_id = new_id("ch")
        amount, currency = intent["amount"], intent["currency"]
        charge = {
            "id": charge_id,
            "object": "charge",
            "amount": amount,
            "amount_captured": amount,
            "amount_refunded": 0,
            "refunded": False,
            "captured": True,
            "paid": True,
            "status": "succeeded",
            "currency": currency,
            "payment_intent": intent["id"],
            "payment_method": intent["payment_method"],
            "transfer_group": intent["transfer_group"],
            "metadata": dict(intent["metadata"]),
            "created": intent["created"],
            "livemode": False,
            "disputed": False,
            "balance_transaction": self.record(
                "charge", amount, currency, charge_id, card_fee(amount)
            ),
        }
        self.charges[charge_id] = charge
        return charge

    def intent(self, intent_id: str) -> dict[str, Any]:
        if intent_id not in self.intents:
            raise missing("payment_intent", intent_id, "id")
        return self.intents[intent_id]

    def charge(self, charge_id: str, param: str = "id") -> dict[str, Any]:
        if charge_id not in self.charges:
            raise missing("charge", charge_id, param)
        return self.charges[charge_id]

    def refund(self, refund_id: str) -> dict[str, Any]:
        if refund_id not in self.refunds:
            raise missing("refund", refund_id, "id")
        return self.refunds[refund_id]

    def create_refund(self, form: dict[str, Any]) -> dict[str, Any]:
        if form.get("charge"):
            charge = self.charge(form["charge"], param="charge")
        else:
            intent = self.intents.get(form.get("payment_intent", ""))
            if intent is None or intent["latest_charge"] is None:
                raise invalid(
                    "This PaymentIntent has no successful charge to refund.", "payment_intent"
                )
            charge = self.charges[intent["latest_charge"]]
        left = charge["amount"] - charge["amount_refunded"]
        if left == 0:
            raise invalid(
                f"Charge {charge['id']} has already been refunded.",
                code="charge_already_refunded",
            )
        amount = integer(form, "amount", default=left)
        if amount > left:
            raise invalid(
                f"Refund amount ({amount}) is greater than unrefunded amount on charge ({left})",
                "amount",
            )
        reason = form.get("reason")
        if reason is not None and reason not in REFUND_REASONS:
            raise invalid(f"Invalid reason: must be one of {', '.join(REFUND_REASONS)}", "reason")
        refund_id = new_id("re")
        charge["amount_refunded"] += amount
        charge["refunded"] = charge["amount_refunded"] == charge["amount"]
        refund = {
            "id": refund_id,
            "object": "refund",
            "amount": amount,
            "currency": charge["currency"],
            "charge": charge["id"],
            "payment_intent": charge["payment_intent"],
            "reason": reason,
            "status": "succeeded",
            "created": int(time.time()),
            "metadata": form.get("metadata") or {},
            "receipt_number": None,
            "source_transfer_reversal": None,
            "transfer_reversal": None,
            "balance_transaction": self.record("refund", -amount, charge["currency"], refund_id),
        }
        self.refunds[refund_id] = refund
        return refund

    def balance_transactions(self, query: dict[str, Any]) -> tuple[list[dict[str, Any]], bool]:
        """Newest first, as Stripe lists; `created[gte|gt|lte|lt]`, `type`, `source`,
        `starting_after`, `limit` (1 to 100, default 10)."""
        limit = integer(query, "limit", default=10)
        if not 1 <= limit <= 100:
            raise invalid("Invalid limit: must be between 1 and 100", "limit")
        entries = list(reversed(self.balance))
        created = query.get("created")
        if isinstance(created, dict):
            bounds = {op: integer(created, op) for op in created}
            tests = {"gte": int.__ge__, "gt": int.__gt__, "lte": int.__le__, "lt": int.__lt__}
            entries = [
                e
                for e in entries
                if all(tests[op](e["created"], b) for op, b in bounds.items() if op in tests)
            ]
        elif created is not None:
            entries = [e for e in entries if e["created"] == integer(query, "created")]
        for name in ("type", "source", "currency"):
            if query.get(name):
                entries = [e for e in entries if e[name] == query[name]]
        after = query.get("starting_after")
        if after:
            ids = [e["id"] for e in entries]
            if after not in ids:
                raise missing("balance_transaction", after, "starting_after")
            entries = entries[ids.index(after) + 1 :]
        return entries[:limit], len(entries) > limit
