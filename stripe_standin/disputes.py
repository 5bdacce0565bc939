"""Disputes: a charge paid with `pm_card_createDispute` (card 4000000000000259) is disputed as
fraudulent right after it succeeds, as Stripe's test card is. The disputed amount and Stripe's
dispute fee leave the balance at once; evidence can be updated and submitted; closing the
dispute accepts it as lost; the test endpoint decides it, and a won dispute brings the amount
back (the fee stays with Stripe)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from stripe_standin.http import invalid, missing, new_id, paged
from stripe_standin.payments import Payments

DISPUTE_FEE = 1500  # Stripe's dispute fee (US: $15.00), in the charge's minor units
RESPONSE_DAYS = 7  # the time to answer before the card network decides without evidence
EVIDENCE_FIELDS = (
    "access_activity_log",
    "billing_address",
    "cancellation_policy",
    "cancellation_policy_disclosure",
    "cancellation_rebuttal",
    "customer_communication",
    "customer_email_address",
    "customer_name",
    "customer_purchase_ip",
    "customer_signature",
    "duplicate_charge_documentation",
    "duplicate_charge_explanation",
    "duplicate_charge_id",
    "product_description",
    "receipt",
    "refund_policy",
    "refund_policy_disclosure",
    "refund_refusal_explanation",
    "service_date",
    "service_documentation",
    "shipping_address",
    "shipping_carrier",
    "shipping_date",
    "shipping_documentation",
    "shipping_tracking_number",
    "uncategorized_file",
    "uncategorized_text",
)
OPEN = ("needs_response", "under_review", "warning_needs_response", "warning_under_review")
DECISIONS = ("won", "lost")


@dataclass
class Disputes:
    payments: Payments
    disputes: dict[str, dict[str, Any]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.payments.on_disputed = self.open
        self.payments.disputed_unrefundable = self.unrefundable

    def unrefundable(self, charge: dict[str, Any]) -> bool:
        """Stripe refuses to refund a charge under a chargeback (`charge_disputed`), open or
        lost; an inquiry or a won dispute leaves it refundable (`is_charge_refundable`)."""
        dispute = self.disputes.get(charge.get("dispute") or "")
        return dispute is not None and not dispute["is_charge_refundable"]

    def dispute_charge(self, charge_id: str) -> dict[str, Any]:
        """Test only, not Stripe's: the cardholder disputes a charge now (`pm_card_createDispute`
        does it at once): what is left of it once refunded, as Stripe disputes at most that."""
        charge = self.payments.charge(charge_id)
        if not charge["paid"] or charge["refunded"]:
            raise invalid(f"Charge {charge_id} has nothing left to dispute.", "charge")
        if charge["disputed"]:
            raise invalid(f"Charge {charge_id} is disputed already.", "charge")
        return self.open(charge)

    def open(self, charge: dict[str, Any]) -> dict[str, Any]:
        """The cardholder disputes `charge` with their bank: the amount (what is left of it
        once refunded) and the fee are taken."""
        now = int(time.time())
        dispute_id = new_id("du")
        amount, currency = charge["amount"] - charge["amount_refunded"], charge["currency"]
        withdrawn = self.payments.record(
            "adjustment", -amount, currency, dispute_id, DISPUTE_FEE, category="dispute"
        )
        dispute = {
            "id": dispute_id,
            "object": "dispute",
            "amount": amount,
            "currency": currency,
            "charge": charge["id"],
            "payment_intent": charge["payment_intent"],
            "reason": "fraudulent",
            "status": "needs_response",
            "evidence": {name: None for name in EVIDENCE_FIELDS},
            "evidence_details": {
                "due_by": now + RESPONSE_DAYS * 86400,
                "has_evidence": False,
                "past_due": False,
                "submission_count": 0,
            },
            "balance_transactions": [self.payments.entry(withdrawn)],
            "is_charge_refundable": False,
            "metadata": {},
            "created": now,
            "livemode": False,
        }
        self.disputes[dispute_id] = dispute
        charge.update(disputed=True, dispute=dispute_id)
        self.payments.events.emit("charge.dispute.created", dispute)
        self.payments.events.emit("charge.dispute.funds_withdrawn", dispute)
        return dispute

    def dispute(self, dispute_id: str) -> dict[str, Any]:
        if dispute_id not in self.disputes:
            raise missing("dispute", dispute_id, "id")
        return self.disputes[dispute_id]

    def list(self, query: dict[str, Any]) -> tuple[list[dict[str, Any]], bool]:
        """Newest first; `charge`, `payment_intent`, and the list's paging."""
        entries = list(reversed(self.disputes.values()))
        for name in ("charge", "payment_intent"):
            if query.get(name):
                entries = [d for d in entries if d[name] == query[name]]
        return paged(entries, query, "dispute")

    def update(self, dispute_id: str, form: dict[str, Any]) -> dict[str, Any]:
        """Evidence (each field a string, or a file id), `metadata`, and `submit` (default
        true, as Stripe's): submitted evidence puts the dispute under review."""
        dispute = self.dispute(dispute_id)
        if dispute["status"] not in OPEN:
            raise invalid(f"This dispute is already closed ({dispute['status']}).")
        previous = {"status": dispute["status"], "evidence": dict(dispute["evidence"])}
        evidence = form.get("evidence")
        if evidence is not None:
            if not isinstance(evidence, dict):
                raise invalid("Invalid hash", "evidence")
            for name, value in evidence.items():
                if name not in EVIDENCE_FIELDS:
                    raise invalid(
                        f"Received unknown parameter: evidence[{name}]", f"evidence[{name}]"
                    )
                dispute["evidence"][name] = value or None
            dispute["evidence_details"]["has_evidence"] = any(dispute["evidence"].values())
        if isinstance(form.get("metadata"), dict):
            dispute["metadata"].update(form["metadata"])
        submit = form.get("submit", "true")
        if submit not in ("true", "false"):
            raise invalid("Invalid boolean: " + str(submit), "submit")
        if submit == "true":
            dispute["evidence_details"]["submission_count"] += 1
            dispute["status"] = "under_review"
        self.payments.events.emit("charge.dispute.updated", dispute, previous)
        return dispute

    def close(self, dispute_id: str) -> dict[str, Any]:
        """The platform accepts the dispute: it is lost, the money stays with the cardholder."""
        dispute = self.dispute(dispute_id)
        if dispute["status"] not in OPEN:
            raise invalid(f"This dispute is already closed ({dispute['status']}).")
        return self._decide(dispute, "lost")

    def decide(self, dispute_id: str, outcome: str) -> dict[str, Any]:
        """Test only, not Stripe's: the card network decides the dispute."""
        if outcome not in DECISIONS:
            raise invalid("status must be won or lost", "status")
        dispute = self.dispute(dispute_id)
        if dispute["status"] not in OPEN:
            raise invalid(f"This dispute is already closed ({dispute['status']}).")
        return self._decide(dispute, outcome)

    def _decide(self, dispute: dict[str, Any], outcome: str) -> dict[str, Any]:
        previous = {"status": dispute["status"]}
        dispute["status"] = outcome
        if outcome == "won":
            dispute["is_charge_refundable"] = True
            returned = self.payments.record(
                "adjustment",
                dispute["amount"],
                dispute["currency"],
                dispute["id"],
                category="dispute_reversal",
            )
            dispute["balance_transactions"].append(self.payments.entry(returned))
            self.payments.events.emit("charge.dispute.funds_reinstated", dispute)
        self.payments.events.emit("charge.dispute.closed", dispute, previous)
        return dispute
