"""What the handlers need from Stripe, and the ways a Stripe call can fail that they act on
(`adapters.stripe_gateway.StripeApi` implements it with the Stripe SDK), and from the orders
service (`adapters.orders_client`). Unit tests use fakes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from svc_payments.domain.disputes import DisputeFacts
from svc_payments.domain.model import Intent, Order
from svc_payments.domain.seller_accounts import ConnectedAccount


@dataclass(frozen=True)
class ChargeRequest:
    order_id: str
    user_id: str
    amount_minor: int  # in the minor units of currency_code (cents)
    currency_code: str  # ISO 4217, upper case
    payment_method: str
    idempotency_key: str


@dataclass(frozen=True)
class NewConnectedAccount:
    """An Express account for a seller, opened once: `idempotency_key` is the seller's own, so
    a retry after a lost answer gets the account the first request opened."""

    user_id: str
    email: str
    country: str  # ISO 3166-1 alpha-2
    idempotency_key: str


@dataclass(frozen=True)
class RefundRequest:
    """A refund of (part of) a PaymentIntent's charge, with the Stripe idempotency key that makes
    asking again the same refund."""

    payment_intent: str
    amount_minor: int
    reason: str | None  # Stripe's: requested_by_customer, duplicate, fraudulent, or None
    metadata: dict[str, str]
    idempotency_key: str


@dataclass(frozen=True)
class TransferRequest:
    """A payout's transfer to the seller's connected account, drawing on the order's charge."""

    payout_id: str
    order_id: str
    seller_id: str
    amount_minor: int
    currency_code: str  # ISO 4217, upper case
    destination: str  # acct_...
    transfer_group: str  # order_<order id>
    source_transaction: str  # ch_...: funds go out once the charge's have settled; "" for none
    idempotency_key: str  # payout_<id>: the same transfer whenever it is asked again


@dataclass(frozen=True)
class ReversalRequest:
    transfer_id: str
    amount_minor: int
    metadata: dict[str, str]
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


class TransferRefused(StripeFailure):
    """Stripe refused the transfer for good (the account cannot receive it, the charge has
    nothing left...): asking again changes nothing."""


class StripeRefused(StripeFailure):
    """Stripe refused a refund or a transfer reversal for good (nothing left of the charge, the
    transfer reversed already...): asking again changes nothing."""


class StripeGateway(Protocol):
    async def charge(self, request: ChargeRequest) -> Intent:
        """Creates and confirms a PaymentIntent at once."""
        ...

    async def retrieve(self, stripe_id: str) -> Intent | None:
        """None when Stripe knows no such PaymentIntent."""
        ...

    async def refund(self, stripe_id: str) -> str:
        """Refunds a succeeded PaymentIntent in full; refunding it again changes nothing.
        Returns the refund's id (re_...): what the ledger's refund entry is named by, and what
        Stripe's balance transaction for it names as its source."""
        ...

    async def create_account(self, request: NewConnectedAccount) -> ConnectedAccount:
        """Opens an Express account with the transfers capability requested (IdempotencyMismatch
        when the key was used with other details)."""
        ...

    async def create_account_link(self, account_id: str, refresh_url: str, return_url: str) -> str:
        """The URL of Stripe's hosted onboarding for the account (an account_onboarding link)."""
        ...

    async def retrieve_account(self, account_id: str) -> ConnectedAccount | None:
        """What Stripe reports about the account now; None when Stripe knows no such account."""
        ...

    async def transfer(self, request: TransferRequest) -> str:
        """Makes the transfer (or answers the one made before under its idempotency key);
        returns its id (tr_...). Raises StripeUnavailable (unknown outcome: ask again) or
        TransferRefused."""
        ...

    async def refund_part(self, request: RefundRequest) -> str:
        """Makes the refund (or answers the one made before under its idempotency key); returns
        its id (re_...). Raises StripeUnavailable (unknown outcome: ask again) or StripeRefused."""
        ...

    async def reverse_transfer(self, request: ReversalRequest) -> str:
        """Reverses that much of the transfer (the same one again under its key); returns the
        reversal's id (trr_...). Raises StripeUnavailable or StripeRefused."""
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

    async def transfer(self, request: TransferRequest) -> str:
        """Pays a seller (a won dispute's repayment); the same key answers the same transfer.
        Raises StripeUnavailable or TransferRefused."""
        ...


class OrderSource(Protocol):
    async def get_order(self, order_id: str, token: str | None) -> Order | None:
        """The order as the orders service (its authority) has it now, as a fresh copy; None
        when it does not exist or is not the token's user's. `token` is the caller's own: the
        orders service shows a user only their own orders. Raises `Unavailable` when it cannot
        be asked."""
        ...
