"""Payments: which order may be paid, by whom and how much; what a Stripe PaymentIntent's state
means for a payment; and the one rule that matters most: an order is paid at most once.

The payments service keeps its own copy of every order (from OrderCreated / OrderCancelled).
A payment is recorded once per order, whatever Stripe reports; any other successful charge for
the order (a late one for a cancelled order, a stray duplicate) is refunded, never kept.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum

from common.errors import Conflict, NotFound
from svc_payments.domain import events
from svc_payments.domain.currency import DEFAULT_CURRENCY, from_minor, to_minor
from svc_payments.domain.fees import FeeQuote

IN_PROGRESS = "A payment for this order is in progress"


class OrderStatus(StrEnum):
    CREATED = "CREATED"
    CANCELLED = "CANCELLED"
    COMPLETE = "COMPLETE"


@dataclass
class Order:
    """The payments service's copy of an order."""

    id: str
    user_id: str
    # The tickets' prices together (price per ticket x quantity), before fees.
    price: Decimal
    status: OrderStatus = OrderStatus.CREATED
    version: int = 0
    # ISO 4217 code of price: the currency the order is charged in.
    currency_code: str = DEFAULT_CURRENCY
    quantity: int = 1
    # The order's fees, fixed when this copy was first stored (domain/fees.py), so a later
    # change of the fee settings never changes an order already placed. None for a copy stored
    # before fees existed: charged its prices, nothing kept (`charges`).
    fees: FeeQuote | None = None
    # The listing's seller (a user id), paid the proceeds, and its catalogue event, whose end
    # makes the payout due; empty for an order copied before they were recorded.
    seller_id: str = ""
    event_id: str = ""
    ticket_id: str = ""  # the listing (or v1 ticket) it holds seats of
    # When and how its seller delivered the seats (delivery.completed, issue 22): a dispute's
    # evidence. None and "" until then.
    delivered_at: datetime | None = None
    delivery_method: str = ""
    events: list[events.Event] = field(default_factory=list, repr=False, compare=False)

    @property
    def unit_price(self) -> Decimal:
        """The price per ticket."""
        return self.price / self.quantity

    @property
    def charges(self) -> FeeQuote:
        """What the order charges and pays out: its fixed fees, or none for an older copy."""
        if self.fees is not None:
            return self.fees
        subtotal = to_minor(self.price, self.currency_code)
        unit, rest = divmod(subtotal, self.quantity)
        if rest:  # not n equal prices: one line of the whole
            return FeeQuote.without_fees(subtotal, self.currency_code, 1)
        return FeeQuote.without_fees(unit, self.currency_code, self.quantity)

    @property
    def amount_minor(self) -> int:
        """What the buyer is charged, fees included, in the currency's minor units (cents)."""
        return self.charges.total

    def check_payable_by(self, user_id: str) -> None:
        if user_id != self.user_id:
            # Another user's order is as good as absent: saying "forbidden" would tell that it
            # exists (the orders service answers the same for it).
            raise NotFound("Order not found", field="orderId")
        if self.status is OrderStatus.CANCELLED:
            raise Conflict("Cannot pay for a cancelled order")
        if self.status is OrderStatus.COMPLETE:
            raise Conflict("Order already paid")

    def complete(self) -> None:
        self.status = OrderStatus.COMPLETE
        self.version += 1

    def cancel(self) -> bool:
        if self.status is OrderStatus.CANCELLED:
            return False
        self.status = OrderStatus.CANCELLED
        self.version += 1
        return True


class PaymentStatus(StrEnum):
    SUCCEEDED = "succeeded"
    PROCESSING = "processing"
    REQUIRES_ACTION = "requires_action"
    FAILED = "failed"
    REFUNDED = "refunded"

    @property
    def final(self) -> bool:
        return self in (PaymentStatus.SUCCEEDED, PaymentStatus.FAILED, PaymentStatus.REFUNDED)

    @classmethod
    def of_intent(cls, stripe_status: str) -> PaymentStatus:
        if stripe_status == "succeeded":
            return cls.SUCCEEDED
        if stripe_status in ("requires_payment_method", "canceled"):
            return cls.FAILED  # declined, or the customer's authentication failed
        if stripe_status == "requires_action":
            return cls.REQUIRES_ACTION
        # processing, and the states a confirmed automatic-capture intent passes through
        return cls.PROCESSING


@dataclass(frozen=True)
class Intent:
    """What Stripe reports about a PaymentIntent (read from Stripe, never from a webhook body)."""

    id: str
    status: str
    amount: int  # in the minor units of the currency it was created in (cents)
    client_secret: str = ""
    order_id: str = ""  # from the metadata we set when creating it
    failure: str = ""  # last_payment_error.message, when there is one
    currency: str = ""  # ISO 4217, upper case, as Stripe reports it
    charge_id: str = ""  # latest_charge: the charge a success made (ch_...), when Stripe names it

    @property
    def payment_status(self) -> PaymentStatus:
        return PaymentStatus.of_intent(self.status)

    @property
    def succeeded(self) -> bool:
        return self.payment_status is PaymentStatus.SUCCEEDED


def declined_message(intent: Intent) -> str:
    """What the buyer is told of a failed PaymentIntent."""
    return intent.failure or "The payment failed"


def must_refund(order: Order, recorded: Payment | None, intent: Intent) -> bool:
    """A successful charge that cannot stand: its order was cancelled meanwhile (it expired, or
    the buyer cancelled it), the order already has a payment of another PaymentIntent, or the
    payment had failed (and the order was cancelled for it) before the customer confirmed the
    same intent again."""
    if not intent.succeeded:
        return False
    if recorded is not None:
        if recorded.stripe_id != intent.id or recorded.status is PaymentStatus.FAILED:
            return True
    return order.status is OrderStatus.CANCELLED


@dataclass
class Payment:
    id: str
    order_id: str
    user_id: str
    amount: Decimal
    status: PaymentStatus
    stripe_id: str
    created_at: datetime
    client_secret: str = ""  # only while the customer must act
    version: int = 0
    currency_code: str = DEFAULT_CURRENCY  # ISO 4217 code of amount: the order's
    events: list[events.Event] = field(default_factory=list, repr=False, compare=False)

    @classmethod
    def of_intent(cls, id: str, order: Order, intent: Intent, now: datetime) -> Payment:
        """The order's payment as Stripe reports it; a success completes the order copy."""
        payment = cls(
            id=id,
            order_id=order.id,
            user_id=order.user_id,
            amount=from_minor(intent.amount, order.currency_code),
            status=PaymentStatus.PROCESSING,
            stripe_id=intent.id,
            created_at=now,
            currency_code=order.currency_code,
        )
        payment._become(intent, order)
        return payment

    @classmethod
    def declined(cls, id: str, order: Order, stripe_id: str, reason: str, now: datetime) -> Payment:
        payment = cls(
            id=id,
            order_id=order.id,
            user_id=order.user_id,
            amount=from_minor(order.amount_minor, order.currency_code),
            status=PaymentStatus.FAILED,
            stripe_id=stripe_id,
            created_at=now,
            currency_code=order.currency_code,
        )
        payment.events.append(events.ChargeFailed(order_id=order.id, reason=reason))
        return payment

    @classmethod
    def refunded(cls, id: str, order: Order, intent: Intent, now: datetime) -> Payment:
        """A charge that succeeded for an order cancelled meanwhile, and was given back. The
        order service hears nothing: the order stays cancelled."""
        return cls(
            id=id,
            order_id=order.id,
            user_id=order.user_id,
            amount=from_minor(intent.amount, order.currency_code),
            status=PaymentStatus.REFUNDED,
            stripe_id=intent.id,
            created_at=now,
            currency_code=order.currency_code,
        )

    @property
    def amount_minor(self) -> int:
        return to_minor(self.amount, self.currency_code)

    def settled_against(self, intent: Intent) -> bool:
        """Nothing Stripe reports about `intent` changes this payment any more; except money
        taken for a payment that had failed, which must still be given back."""
        return self.status.final and not (self.status is PaymentStatus.FAILED and intent.succeeded)

    def settle(self, intent: Intent, order: Order) -> bool:
        """Stripe's later word on a payment in progress; False when nothing changes."""
        if self.status.final or intent.payment_status is self.status:
            return False
        self._become(intent, order)
        self.version += 1
        return True

    def refund(self) -> None:
        """The charge was given back (its order was cancelled before the payment completed)."""
        self.status = PaymentStatus.REFUNDED
        self.client_secret = ""
        self.version += 1

    def _become(self, intent: Intent, order: Order) -> None:
        self.status = intent.payment_status
        self.client_secret = "" if self.status.final else intent.client_secret
        if self.status is PaymentStatus.SUCCEEDED:
            order.complete()
            self.events.append(
                events.ChargeCreated(
                    id=self.id,
                    order_id=self.order_id,
                    stripe_id=self.stripe_id,
                    amount=self.amount,
                    currency_code=self.currency_code,
                    charges=order.charges,
                )
            )
        elif self.status is PaymentStatus.FAILED:
            reason = declined_message(intent)
            self.events.append(events.ChargeFailed(order_id=self.order_id, reason=reason))
        else:
            self.events.append(
                events.ChargePending(
                    id=self.id,
                    order_id=self.order_id,
                    stripe_id=self.stripe_id,
                    amount=self.amount,
                    currency_code=self.currency_code,
                )
            )


@dataclass
class ChargeLease:
    """Who may ask Stripe to charge an order right now: one request at a time, for a while.

    `attempt` names the Stripe idempotency key; it moves on only after an attempt that surely
    charged nothing (an invalid payment method), so a retry after an unknown outcome (Stripe
    unreachable, a timeout) reuses the key and Stripe answers with the first attempt's result.
    """

    order_id: str
    holder: str | None = None
    until: datetime | None = None
    attempt: int = 0

    def held(self, now: datetime) -> bool:
        return self.holder is not None and self.until is not None and self.until > now

    def claim(self, holder: str, now: datetime, lease_for: timedelta) -> None:
        if self.held(now):
            raise Conflict(IN_PROGRESS)
        self.holder, self.until = holder, now + lease_for

    def release(self, holder: str, charged_nothing: bool = False) -> bool:
        """False when the lease is no longer `holder`'s (it ran out and another request took it)."""
        if self.holder != holder:
            return False
        self.holder = self.until = None
        if charged_nothing:
            self.attempt += 1
        return True

    @property
    def idempotency_key(self) -> str:
        return f"order-{self.order_id}-{self.attempt}"
