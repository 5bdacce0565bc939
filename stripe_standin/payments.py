"""PaymentIntents, their charges and refunds, and the balance transactions they make: one state."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from stripe_standin.events import Events
from stripe_standin.http import StripeError, integer, invalid, missing, new_id, paged, required
from stripe_standin.methods import (
    DECLINED,
    DISPUTED,
    INSUFFICIENT_FUNDS,
    NEEDS_3DS,
    Methods,
)

DECLINE_MESSAGE = "Your card was declined."
AUTHENTICATION_FAILED = (
    "We are unable to authenticate your payment method. Please choose a different payment"
    " method and try again."
)
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
    events: Events = field(default_factory=Events)
    methods: Methods = field(default_factory=Methods)
    # Opens the dispute a `pm_card_createDispute` charge gets (disputes.py sets it).
    on_disputed: Callable[[dict[str, Any]], None] | None = None
    # Whether a disputed charge may not be refunded now, as its dispute stands (disputes.py).
    disputed_unrefundable: Callable[[dict[str, Any]], bool] = lambda charge: True

    def record(
        self,
        kind: str,
        amount: int,
        currency: str,
        source: str,
        fee: int = 0,
        category: str | None = None,
    ) -> str:
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
                        "description": (
                            "Dispute fee" if category == "dispute" else "Stripe processing fees"
                        ),
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
            "reporting_category": category or kind,
        }
        self.balance.append(entry)
        return entry["id"]

    def entry(self, transaction_id: str) -> dict[str, Any]:
        """The balance transaction with this id."""
        return next(e for e in self.balance if e["id"] == transaction_id)

    def create_intent(self, form: dict[str, Any]) -> dict[str, Any]:
        amount = integer(form, "amount")
        currency = required(form, "currency").lower()
        method = form.get("payment_method") or None
        if method is not None:
            self.methods.method(method, "payment_method")
        intent_id = new_id("pi")
        intent = {
            "id": intent_id,
            "object": "payment_intent",
            "amount": amount,
            "amount_received": 0,
            "currency": currency,
            "status": "requires_confirmation" if method else "requires_payment_method",
            "client_secret": f"{intent_id}_secret_{uuid.uuid4().hex[:24]}",
            "confirmation_method": "automatic",
            "capture_method": "automatic",
            "payment_method": method,
            "payment_method_types": form.get("payment_method_types") or ["card"],
            "metadata": form.get("metadata") or {},
            "transfer_group": form.get("transfer_group"),
            "description": form.get("description"),
            "created": int(time.time()),
            "livemode": False,
            "last_payment_error": None,
            "next_action": None,
            "latest_charge": None,
        }
        self.intents[intent_id] = intent
        self.events.emit("payment_intent.created", intent)
        if form.get("confirm") != "true":
            return intent
        if method is None:
            raise invalid(
                "You cannot confirm this PaymentIntent because it's missing a payment method.",
                "payment_method",
                code="payment_intent_unexpected_state",
            )
        behaviour = self.methods.behaviour(method)
        if behaviour in (DECLINED, INSUFFICIENT_FUNDS):
            code = "insufficient_funds" if behaviour == INSUFFICIENT_FUNDS else "generic_decline"
            self._fail(intent, {"code": "card_declined", "decline_code": code})
            raise StripeError(
                402,
                "card_error",
                DECLINE_MESSAGE,
                code="card_declined",
                decline_code=code,
                charge=intent["latest_charge"],
                payment_intent=intent,
            )
        if behaviour == NEEDS_3DS:
            intent["status"] = "requires_action"
            intent["next_action"] = {"type": "use_stripe_sdk", "use_stripe_sdk": {}}
            self.events.emit("payment_intent.requires_action", intent)
            return intent
        self._succeed(intent)
        return intent

    def _succeed(self, intent: dict[str, Any]) -> None:
        charge = self._charge(intent, "succeeded")
        intent.update(
            status="succeeded",
            amount_received=intent["amount"],
            latest_charge=charge["id"],
            next_action=None,
            last_payment_error=None,
        )
        self.events.emit("charge.succeeded", charge)
        self.events.emit("payment_intent.succeeded", intent)
        if self.methods.behaviours.get(intent["payment_method"]) == DISPUTED and self.on_disputed:
            self.on_disputed(charge)

    def _fail(self, intent: dict[str, Any], error: dict[str, Any]) -> None:
        """The charge failed (declined) or the buyer failed 3-D Secure: the intent asks for
        another payment method."""
        failure = {"type": "card_error", "message": DECLINE_MESSAGE, **error}
        if error["code"] == "card_declined":
            charge = self._charge(intent, "failed")
            intent["latest_charge"] = charge["id"]
            failure["charge"] = charge["id"]
            self.events.emit("charge.failed", charge)
        else:
            failure["message"] = AUTHENTICATION_FAILED
        failure["payment_method"] = self.methods.method(intent["payment_method"])
        intent.update(
            status="requires_payment_method", last_payment_error=failure, next_action=None
        )
        self.events.emit("payment_intent.payment_failed", intent)

    def authenticate(self, intent_id: str, form: dict[str, Any]) -> dict[str, Any]:
        """Test only, not Stripe's: the buyer answered their bank's 3-D Secure page (what
        Stripe.js shows): `success` true completes the charge, false fails it."""
        intent = self.intent(intent_id)
        if form.get("client_secret") != intent["client_secret"]:
            raise invalid("The client_secret does not match this PaymentIntent.", "client_secret")
        if intent["status"] != "requires_action":
            raise invalid(
                f"This PaymentIntent's status is {intent['status']}, not requires_action.",
                code="payment_intent_unexpected_state",
            )
        if form.get("success", "true") == "true":
            self._succeed(intent)
        else:
            self._fail(intent, {"code": "payment_intent_authentication_failure"})
        return intent

    def _charge(self, intent: dict[str, Any], status: str) -> dict[str, Any]:
        charge_id = new_id("ch")
        amount, currency = intent["amount"], intent["currency"]
        paid = status == "succeeded"
        charge = {
            "id": charge_id,
            "object": "charge",
            "amount": amount,
            "amount_captured": amount if paid else 0,
            "amount_refunded": 0,
            "refunded": False,
            "captured": paid,
            "paid": paid,
            "status": status,
            "currency": currency,
            "payment_intent": intent["id"],
            "payment_method": intent["payment_method"],
            "transfer_group": intent["transfer_group"],
            "metadata": dict(intent["metadata"]),
            "created": int(time.time()),
            "livemode": False,
            "disputed": False,
            "dispute": None,
            "failure_code": None if paid else "card_declined",
            "failure_message": None if paid else DECLINE_MESSAGE,
            "balance_transaction": (
                self.record("charge", amount, currency, charge_id, card_fee(amount))
                if paid
                else None
            ),
        }
        self.charges[charge_id] = charge
        return charge

    def intent(self, intent_id: str) -> dict[str, Any]:
        if intent_id not in self.intents:
            raise missing("payment_intent", intent_id, "id")
        return self.intents[intent_id]

    def list_intents(self, query: dict[str, Any]) -> tuple[list[dict[str, Any]], bool]:
        return paged(list(reversed(self.intents.values())), query, "payment_intent")

    def list_refunds(self, query: dict[str, Any]) -> tuple[list[dict[str, Any]], bool]:
        """Newest first; `charge`, `payment_intent`, and the list's paging."""
        entries = list(reversed(self.refunds.values()))
        for name in ("charge", "payment_intent"):
            if query.get(name):
                entries = [r for r in entries if r[name] == query[name]]
        return paged(entries, query, "refund")

    def intent_for(
        self, intent_id: str, query: dict[str, Any], publishable: bool
    ) -> dict[str, Any]:
        """An intent as `GET` answers it: a publishable key (Stripe.js) must also give the
        intent's `client_secret`, and sees it without its metadata, as Stripe shows it."""
        intent = self.intent(intent_id)
        if not publishable:
            return intent
        if query.get("client_secret") != intent["client_secret"]:
            raise missing("payment_intent", intent_id, "id")
        return {k: v for k, v in intent.items() if k not in ("metadata", "transfer_group")}

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
        if not charge["paid"]:
            raise invalid(f"Charge {charge['id']} failed, so it cannot be refunded.", "charge")
        if charge["disputed"] and self.disputed_unrefundable(charge):
            raise invalid(
                f"Charge {charge['id']} has been charged back; cannot issue a refund.",
                code="charge_disputed",
            )
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
        self.events.emit("charge.refunded", charge)
        self.events.emit("refund.created", refund)
        return refund

    def balance_transactions(self, query: dict[str, Any]) -> tuple[list[dict[str, Any]], bool]:
        """Newest first, as Stripe lists; `type`, `source`, `currency`, and the list's paging."""
        entries = list(reversed(self.balance))
        for name in ("type", "source", "currency"):
            if query.get(name):
                entries = [e for e in entries if e[name] == query[name]]
        return paged(entries, query, "balance_transaction")
