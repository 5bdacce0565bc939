"""What the handlers need from Stripe, and the ways a Stripe call can fail that they act on
(`adapters.stripe_gateway.StripeApi` implements it with the Stripe SDK), and from the orders
service (`adapters.orders_client`). Unit tests use fakes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from svc_payments.domain.disputes import DisputeFacts
from svc_payments.domain.model import Intent, Order


@dataclass(frozen=True)
class ChargeRequest:
    order_id: str
    user_id: str
    amount_minor: int  # in the minor units of currency_code (cents)
    currency_code: str  # ISO 4217, upper case
    payment_method: str
    idempotency_key: str


class StripeFailure(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class CardDeclined(StripeFailure):
    """Stripe refused the charge; the PaymentIntent id, when Stripe says which one it was."""

    def __init__(self, message: str, stripe_id: str = "") -> None:
        super().__init__(message)
        self.stripe_id = stripe_id


class InvalidPaymentMethod(StripeFailure):
    """Stripe rejected the request before charging anything (no such payment method)."""


class IdempotencyMismatch(StripeFailure):
    """The idempotency key was used before with other parameters (another payment method),
    and that attempt's outcome is not known here."""


class StripeUnavailable(StripeFailure):
    """Stripe could not be reached or failed: the outcome is unknown; retrying with the same
    idempotency key is safe."""


class StripeGateway(Protocol):
    async def charge(self, request: ChargeRequest) -> Intent:
        """Creates and confirms a PaymentIntent at once."""
        ...

    async def retrieve(self, stripe_id: str) -> Intent | None:
        """None when Stripe knows no such PaymentIntent."""
        ...

    async def refund(self, stripe_id: str) -> None:
        """Refunds a succeeded PaymentIntent in full; refunding it again changes nothing."""
        ...


class EvidenceRefused(StripeFailure):
    """Stripe refused the evidence (a field it does not take, a closed dispute): the admin's to
    change."""


class StripeDisputes(Protocol):
    """Disputes at Stripe (adapters/stripe_disputes.py)."""

    async def retrieve_dispute(self, dispute_id: str) -> DisputeFacts | None:
        """None when Stripe knows no such dispute."""
        ...

    async def update_dispute(
        self, dispute_id: str, evidence: dict[str, str], submit: bool
    ) -> DisputeFacts:
        """Saves `evidence` on the dispute (and submits it); EvidenceRefused, StripeUnavailable."""
        ...

    async def reverse_transfer(self, transfer_id: str, amount: int, idempotency_key: str) -> str:
        """Takes `amount` of a transfer back from the connected account; the reversal's id
        (trr_...). The same key answers the same reversal."""
        ...


class OrderSource(Protocol):
    async def get_order(self, order_id: str, token: str | None) -> Order | None:
        """The order as the orders service (its authority) has it now, as a fresh copy; None
        when it does not exist or is not the token's user's. `token` is the caller's own: the
        orders service shows a user only their own orders. Raises `Unavailable` when it cannot
        be asked."""
        ...
