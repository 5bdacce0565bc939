"""PaymentMethods: Stripe's test cards, by number (what Stripe.js sends) or by their test ids
(`pm_card_visa`, ...), each with what happens when it is charged."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from stripe_standin.http import StripeError, integer, invalid, missing, new_id, required

SUCCEEDS = "succeeds"
DECLINED = "declined"
INSUFFICIENT_FUNDS = "insufficient_funds"
NEEDS_3DS = "requires_action"  # the bank asks the buyer (3-D Secure) before the charge
DISPUTED = "disputed"  # succeeds, then the cardholder disputes it (fraudulent)

# Stripe's test card numbers (https://docs.stripe.com/testing) and what each does when charged.
CARDS: dict[str, str] = {
    "4242424242424242": SUCCEEDS,
    "4000056655665556": SUCCEEDS,
    "5555555555554444": SUCCEEDS,
    "378282246310005": SUCCEEDS,
    "4000000000000002": DECLINED,
    "4000000000000341": DECLINED,  # attaches to a customer, declined when charged
    "4000000000009995": INSUFFICIENT_FUNDS,
    "4000002500003155": NEEDS_3DS,
    "4000002760003184": NEEDS_3DS,
    "4000000000003220": NEEDS_3DS,
    "4000000000000259": DISPUTED,
}
# Stripe's test PaymentMethod ids.
TEST_METHODS: dict[str, tuple[str, str]] = {
    "pm_card_visa": (SUCCEEDS, "4242424242424242"),
    "pm_card_mastercard": (SUCCEEDS, "5555555555554444"),
    "pm_card_amex": (SUCCEEDS, "378282246310005"),
    "pm_card_chargeDeclined": (DECLINED, "4000000000000002"),
    "pm_card_visa_chargeDeclined": (DECLINED, "4000000000000002"),
    "pm_card_chargeCustomerFail": (DECLINED, "4000000000000341"),
    "pm_card_visa_chargeDeclinedInsufficientFunds": (INSUFFICIENT_FUNDS, "4000000000009995"),
    "pm_card_threeDSecure2Required": (NEEDS_3DS, "4000000000003220"),
    "pm_card_authenticationRequired": (NEEDS_3DS, "4000002760003184"),
    "pm_card_createDispute": (DISPUTED, "4000000000000259"),
}
BRANDS = {"4": "visa", "5": "mastercard", "3": "amex"}


def luhn_ok(number: str) -> bool:
    digits = [int(d) for d in reversed(number)]
    total = sum(d if i % 2 == 0 else (d * 2 - 9 if d > 4 else d * 2) for i, d in enumerate(digits))
    return total % 10 == 0


def card_error(message: str, code: str, param: str, **fields: Any) -> StripeError:
    return StripeError(402, "card_error", message, code=code, param=param, **fields)


@dataclass
class Methods:
    methods: dict[str, dict[str, Any]] = field(default_factory=dict)
    behaviours: dict[str, str] = field(default_factory=dict)

    def create(self, form: dict[str, Any]) -> dict[str, Any]:
        if required(form, "type") != "card":
            raise invalid("The stand-in makes card PaymentMethods only: type=card.", "type")
        card = form.get("card")
        if not isinstance(card, dict):
            raise invalid("Missing required param: card.", "card", code="parameter_missing")
        number = str(card.get("number", "")).replace(" ", "")
        if not number.isdigit() or not 13 <= len(number) <= 19 or not luhn_ok(number):
            raise card_error("Your card number is incorrect.", "incorrect_number", "card[number]")
        month = integer(card, "exp_month")
        year = integer(card, "exp_year")
        year = year + 2000 if year < 100 else year
        if not 1 <= month <= 12:
            raise card_error(
                "Your card's expiration month is invalid.", "invalid_expiry_month", "exp_month"
            )
        now = time.gmtime()
        if (year, month) < (now.tm_year, now.tm_mon):
            raise card_error(
                "Your card's expiration year is in the past.", "invalid_expiry_year", "exp_year"
            )
        cvc = str(card.get("cvc", ""))
        if cvc and (not cvc.isdigit() or len(cvc) not in (3, 4)):
            raise card_error("Your card's security code is invalid.", "invalid_cvc", "cvc")
        method = self._method(new_id("pm"), number, month, year, form.get("metadata"))
        self.behaviours[method["id"]] = CARDS.get(number, SUCCEEDS)
        return method

    def _method(
        self, method_id: str, number: str, month: int, year: int, metadata: Any = None
    ) -> dict[str, Any]:
        method = {
            "id": method_id,
            "object": "payment_method",
            "type": "card",
            "card": {
                "brand": BRANDS.get(number[0], "unknown"),
                "last4": number[-4:],
                "exp_month": month,
                "exp_year": year,
                "country": "US",
                "funding": "credit",
            },
            "billing_details": {"address": None, "email": None, "name": None, "phone": None},
            "customer": None,
            "metadata": metadata if isinstance(metadata, dict) else {},
            "created": int(time.time()),
            "livemode": False,
        }
        self.methods[method_id] = method
        return method

    def method(self, method_id: str, param: str = "id") -> dict[str, Any]:
        if method_id not in self.methods and method_id in TEST_METHODS:
            behaviour, number = TEST_METHODS[method_id]
            self._method(method_id, number, 12, time.gmtime().tm_year + 3)
            self.behaviours[method_id] = behaviour
        if method_id not in self.methods:
            raise missing("PaymentMethod", method_id, param)
        return self.methods[method_id]

    def behaviour(self, method_id: str) -> str:
        self.method(method_id, "payment_method")
        return self.behaviours[method_id]
