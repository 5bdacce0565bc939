"""The Stripe port over the Stripe SDK (PaymentIntents, Refunds, Transfer Reversals, Connect
accounts and their onboarding links), or over a Stripe-compatible server such as the project's
stand-in (stripe_standin/) when an API base is given.

The SDK's async methods over its httpx client: a charge waiting on Stripe (~300 ms) holds no
thread, so the service takes as many at once as buyers pay (up to httpx's pool of 100
connections; more wait for one, within the timeout), and never holds up the event loop.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import stripe

from common.metrics.series import STRIPE_DURATION, STRIPE_REQUESTS
from svc_payments.domain.model import Intent
from svc_payments.domain.seller_accounts import ConnectedAccount
from svc_payments.service_layer.ports import (
    CardDeclined,
    ChargeRequest,
    IdempotencyMismatch,
    InvalidPaymentMethod,
    NewConnectedAccount,
    RefundRequest,
    ReversalRequest,
    StripeRefused,
    StripeUnavailable,
    TransferRefused,
    TransferRequest,
)

log = logging.getLogger(__name__)

T = TypeVar("T")

# A PaymentIntent's statuses (Stripe's list): the outcome of a charge that Stripe answered.
INTENT_STATUSES = frozenset(
    {
        "succeeded",
        "requires_action",
        "processing",
        "requires_payment_method",
        "requires_confirmation",
        "requires_capture",
        "canceled",
    }
)


def failure_outcome(exc: BaseException) -> str:
    """A failed Stripe call, as the metrics name its outcome."""
    if isinstance(exc, stripe.CardError):
        return "declined"
    if isinstance(exc, stripe.APIConnectionError | stripe.APIError | stripe.RateLimitError):
        return "unavailable"
    if isinstance(exc, stripe.AuthenticationError | stripe.PermissionError):
        return "rejected_credentials"
    if isinstance(exc, stripe.IdempotencyError):
        return "idempotency_mismatch"
    if isinstance(exc, stripe.InvalidRequestError):
        return "not_found" if exc.http_status == 404 else "invalid_request"
    return "error"


def _as_dict(obj: Any) -> dict[str, Any]:
    """A Stripe object (or a plain mapping, as tests give) as a dict."""
    return obj.to_dict() if hasattr(obj, "to_dict") else dict(obj)


def intent_of(obj: Any) -> Intent:
    pi = _as_dict(obj)
    metadata = pi.get("metadata") or {}
    error = pi.get("last_payment_error") or {}
    return Intent(
        id=pi["id"],
        status=pi["status"],
        amount=int(pi["amount"]),
        client_secret=pi.get("client_secret") or "",
        order_id=metadata.get("order_id", ""),
        failure=error.get("message") or "",
        currency=str(pi.get("currency") or "").upper(),
        charge_id=_id_of(pi.get("latest_charge")),
    )


def connected_account_of(obj: Any) -> ConnectedAccount:
    """A Connect account as the domain keeps it: what is due is what is past due, then what is
    currently due (Stripe lists the past due ones in both)."""
    account = _as_dict(obj)
    requirements = account.get("requirements") or {}
    due = [*(requirements.get("past_due") or []), *(requirements.get("currently_due") or [])]
    return ConnectedAccount(
        id=account["id"],
        payouts_enabled=bool(account.get("payouts_enabled")),
        details_submitted=bool(account.get("details_submitted")),
        requirements_due=tuple(dict.fromkeys(str(d) for d in due)),
        disabled_reason=requirements.get("disabled_reason") or "",
    )


def _id_of(reference: Any) -> str:
    """A Stripe reference to another object: its id, or the object itself when expanded."""
    if isinstance(reference, str):
        return reference
    if isinstance(reference, dict):
        return str(reference.get("id") or "")
    return ""


def _declined_error(exc: stripe.CardError) -> dict[str, Any]:
    body = exc.json_body if isinstance(exc.json_body, dict) else {}
    error = body.get("error")
    return error if isinstance(error, dict) else {}


def _declined_intent_id(exc: stripe.CardError) -> str:
    """Stripe names the PaymentIntent a declined confirmation belongs to (not every
    Stripe-compatible server does)."""
    intent = _declined_error(exc).get("payment_intent") or {}
    return intent.get("id", "") if isinstance(intent, dict) else ""


def _declined_charge_id(exc: stripe.CardError) -> str:
    """The declined charge, which Stripe names."""
    charge = _declined_error(exc).get("charge")
    return charge if isinstance(charge, str) else ""


def _raise_if_unavailable(exc: Exception, outcome: str) -> None:
    """`outcome` is failure_outcome(exc): Stripe unreachable, no answer within the timeout, a 5xx
    or rate limited; or refusing our key."""
    if outcome == "unavailable":
        log.warning("stripe unavailable", extra={"error": str(exc).splitlines()[0]})
        raise StripeUnavailable("The payment provider is unavailable, try again") from None
    if outcome == "rejected_credentials":
        # Our configuration, not the buyer's fault: nothing was charged; say so loudly.
        log.error("stripe rejected our credentials", extra={"error": str(exc)})
        raise StripeUnavailable("The payment provider is unavailable, try again") from None


def _count(operation: str, outcome: str, started: float) -> None:
    STRIPE_DURATION.labels(operation).observe(time.perf_counter() - started)
    STRIPE_REQUESTS.labels(operation, outcome).inc()


class StripeApi:
    def __init__(self, secret_key: str, api_base: str | None = None, timeout: float = 20.0) -> None:
        self.client = stripe.StripeClient(
            secret_key,
            base_addresses={"api": api_base, "connect": api_base} if api_base else None,
            # A retry is the caller's, with the same idempotency key; none hidden in here.
            max_network_retries=0,
            http_client=stripe.HTTPXClient(timeout=timeout),
        )
        # The SDK imports its services and object classes on first use (~0.1 s): here, at
        # start, rather than on the first buyer's time.
        v1 = self.client.v1
        _ = (
            v1.payment_intents,
            v1.refunds,
            v1.charges,
            v1.transfers,
            v1.transfers.reversals,
            v1.accounts,
            v1.account_links,
        )
        _ = (stripe.PaymentIntent, stripe.Refund, stripe.Charge, stripe.Transfer)
        _ = (stripe.Account, stripe.AccountLink)

    async def _run(
        self,
        operation: str,
        call: Awaitable[T],
        outcome_of: Callable[[T], str] = lambda _: "ok",
    ) -> T:
        """The call, timed and counted by `operation` and outcome (`outcome_of` the result, or
        the kind of failure); Stripe unreachable or refusing our key is StripeUnavailable."""
        started = time.perf_counter()
        try:
            result = await call
        except Exception as exc:
            outcome = failure_outcome(exc)
            _count(operation, outcome, started)
            _raise_if_unavailable(exc, outcome)
            raise
        _count(operation, outcome_of(result), started)
        return result

    async def charge(self, request: ChargeRequest) -> Intent:
        create = self.client.v1.payment_intents.create_async(
            params={
                "amount": request.amount_minor,
                # The order's currency (Stripe takes ISO 4217 codes in lower case).
                "currency": request.currency_code.lower(),
                "payment_method": request.payment_method,
                "payment_method_types": ["card"],
                "confirm": True,
                "metadata": {"order_id": request.order_id, "user_id": request.user_id},
            },
            options={"idempotency_key": request.idempotency_key},
        )
        try:
            return intent_of(await self._run("charge", create, _intent_outcome))
        except stripe.CardError as exc:
            message = exc.user_message or "Your card was declined."
            stripe_id = _declined_intent_id(exc) or await self._intent_of_charge(exc)
            raise CardDeclined(message, stripe_id) from None
        except stripe.IdempotencyError as exc:
            raise IdempotencyMismatch(exc.user_message or str(exc)) from None
        except stripe.InvalidRequestError as exc:
            if exc.param not in (None, "payment_method"):
                raise  # a request of ours Stripe cannot take: a bug, not the buyer's input
            raise InvalidPaymentMethod(exc.user_message or "Invalid payment method") from None

    async def _intent_of_charge(self, declined: stripe.CardError) -> str:
        """The PaymentIntent of a declined charge, read from the charge when the error does not
        name it (some Stripe-compatible servers' do not); "" when that cannot be read (the
        decline stands)."""
        charge_id = _declined_charge_id(declined)
        if not charge_id:
            return ""
        read = self.client.v1.charges.retrieve_async(charge_id)
        try:
            charge = await self._run("retrieve_charge", read)
        except (StripeUnavailable, stripe.StripeError) as exc:
            log.warning(
                "the PaymentIntent of a declined charge could not be read",
                extra={"charge_id": charge_id, "error": str(exc).splitlines()[0]},
            )
            return ""
        intent = charge.to_dict().get("payment_intent")
        return intent if isinstance(intent, str) else ""

    async def retrieve(self, stripe_id: str) -> Intent | None:
        try:
            read = self.client.v1.payment_intents.retrieve_async(stripe_id)
            pi = await self._run("retrieve", read)
        except stripe.InvalidRequestError as exc:
            if exc.http_status == 404:
                return None
            raise
        return intent_of(pi)

    async def refund(self, stripe_id: str) -> None:
        create = self.client.v1.refunds.create_async(
            params={"payment_intent": stripe_id},
            options={"idempotency_key": f"refund-{stripe_id}"},
        )
        try:
            await self._run("refund", create)
        except stripe.InvalidRequestError as exc:
            if exc.code != "charge_already_refunded":
                raise
        log.info("refunded", extra={"stripe_id": stripe_id})

    # -- Connect: a seller's Express account -------------------------------------------------

    async def create_account(self, request: NewConnectedAccount) -> ConnectedAccount:
        params: dict[str, Any] = {
            "type": "express",
            "country": request.country,
            "capabilities": {"transfers": {"requested": True}},
            "metadata": {"user_id": request.user_id},
        }
        if request.email:
            params["email"] = request.email
        create = self.client.v1.accounts.create_async(
            params=params, options={"idempotency_key": request.idempotency_key}
        )
        try:
            account = await self._run("create_account", create)
        except stripe.IdempotencyError as exc:
            raise IdempotencyMismatch(exc.user_message or str(exc)) from None
        log.info("seller account opened", extra={"user_id": request.user_id})
        return connected_account_of(account)

    async def create_account_link(self, account_id: str, refresh_url: str, return_url: str) -> str:
        create = self.client.v1.account_links.create_async(
            params={
                "account": account_id,
                "type": "account_onboarding",
                "refresh_url": refresh_url,
                "return_url": return_url,
            }
        )
        link = await self._run("create_account_link", create)
        return str(_as_dict(link)["url"])

    async def retrieve_account(self, account_id: str) -> ConnectedAccount | None:
        try:
            read = self.client.v1.accounts.retrieve_async(account_id)
            account = await self._run("retrieve_account", read)
        except stripe.InvalidRequestError as exc:
            if exc.http_status == 404:
                return None
            raise
        return connected_account_of(account)

    async def transfer(self, request: TransferRequest) -> str:
        params: dict[str, Any] = {
            "amount": request.amount_minor,
            "currency": request.currency_code.lower(),
            "destination": request.destination,
            "transfer_group": request.transfer_group,
            "metadata": {
                "payout_id": request.payout_id,
                "order_id": request.order_id,
                "seller_id": request.seller_id,
            },
        }
        if request.source_transaction:
            params["source_transaction"] = request.source_transaction
        create = self.client.v1.transfers.create_async(
            params=params,  # type: ignore[arg-type]
            options={"idempotency_key": request.idempotency_key},
        )
        try:
            transfer = await self._run("transfer", create)
        except (stripe.InvalidRequestError, stripe.IdempotencyError) as exc:
            # Stripe's refusal stands however often it is asked: the payout fails with it.
            raise TransferRefused(exc.user_message or str(exc).splitlines()[0]) from None
        return str(_as_dict(transfer)["id"])

    async def refund_part(self, request: RefundRequest) -> str:
        params: dict[str, Any] = {
            "payment_intent": request.payment_intent,
            "amount": request.amount_minor,
            "metadata": request.metadata,
        }
        if request.reason:
            params["reason"] = request.reason
        create = self.client.v1.refunds.create_async(
            params=params,  # type: ignore[arg-type]
            options={"idempotency_key": request.idempotency_key},
        )
        try:
            refund = await self._run("refund_part", create)
        except (stripe.InvalidRequestError, stripe.IdempotencyError) as exc:
            raise StripeRefused(exc.user_message or str(exc)) from None
        return refund.id

    async def reverse_transfer(self, request: ReversalRequest) -> str:
        create = self.client.v1.transfers.reversals.create_async(
            request.transfer_id,
            params={"amount": request.amount_minor, "metadata": request.metadata},
            options={"idempotency_key": request.idempotency_key},
        )
        try:
            reversal = await self._run("transfer_reversal", create)
        except (stripe.InvalidRequestError, stripe.IdempotencyError) as exc:
            raise StripeRefused(exc.user_message or str(exc)) from None
        return reversal.id


def _intent_outcome(pi: Any) -> str:
    status = _as_dict(pi).get("status")
    return status if status in INTENT_STATUSES else "other"
