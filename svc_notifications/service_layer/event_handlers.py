"""The events people are told about, each turned into mails in the outbox, and the copies those
mails are filled from (users' addresses, orders, their charges), all in the consumer's one
transaction with its inbox record: a redelivered event is skipped by its id, and even without
that its mails' ids (event, kind, recipient) are taken already, so it writes nothing new.

Passes changing hands (delivery's pass.transfer_offered, pass.reissued) are mailed without a copy
of the catalogue's events: the mails say "a ticket" / "your ticket", never a code (the holder
sees theirs in the app).

An event that needs a copy not here yet (OrderUpdated COMPLETE before its OrderCreated or
ChargeCreated) waits for it (`NotYet`: the consumer tries it again later)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from google.protobuf.timestamp_pb2 import Timestamp

from common.clock import Clock, SystemClock, stored_precision
from common.delivery import Delivery
from common.errors import NotYet
from common.retries import retry_transient
from svc_notifications.domain.mails import Mail, MailKind
from svc_notifications.domain.receipts import Charges, OrderCopy, format_minor
from svc_notifications.domain.recipients import Recipient
from svc_notifications.service_layer.unit_of_work import NotificationsUnitOfWork
from ticketing.events.v1 import delivery_pb2, orders_pb2, payments_pb2, users_pb2
from ticketing.orders.v1 import orders_pb2 as orders_api

log = logging.getLogger(__name__)

# An OrderCancelled's reason when its payment window ended.
EXPIRED = "EXPIRED"
# A PassReissued's reasons, as its mails' `reason` fact.
REISSUE_REASONS = {"TRANSFER": "transfer", "RESALE": "resale"}


def _when(stamp: Timestamp) -> str:
    """A deadline as a mail states it (UTC; the recipient's zone is not known here)."""
    moment = datetime.fromtimestamp(stamp.seconds, UTC)
    return moment.strftime("%Y-%m-%d %H:%M UTC")


class NotificationHandlers:
    def __init__(
        self, uow: Callable[[], NotificationsUnitOfWork], clock: Clock | None = None
    ) -> None:
        self.uow = uow
        self.clock = clock or SystemClock()

    async def _mail(
        self,
        uow: NotificationsUnitOfWork,
        delivery: Delivery,
        kind: MailKind,
        recipient_id: str,
        facts: dict[str, str],
        order_id: str = "",
    ) -> None:
        if not recipient_id:
            log.warning("an event names no recipient", extra={"kind": kind.value})
            return
        now = stored_precision(self.clock.now())
        mail = Mail.for_event(delivery.event_id, kind, recipient_id, facts, now, order_id)
        if await uow.mails.add(mail):
            log.info("mail queued", extra={"mail_id": mail.id, "kind": kind.value})

    @retry_transient()
    async def _mail_once(
        self, delivery: Delivery, *mails: tuple[MailKind, str, dict[str, str], str]
    ) -> None:
        """The mails an event makes (kind, recipient, facts, order id), once per event: in the
        consumer's transaction, after the check that the event was not processed before."""
        async with self.uow() as uow:
            if await uow.already_processed(delivery.event_id):
                return
            for kind, recipient_id, facts, order_id in mails:
                await self._mail(uow, delivery, kind, recipient_id, facts, order_id)
            await uow.commit()

    # ------------------------------------------------------------ the copies

    @retry_transient()
    async def on_user_created(self, event: users_pb2.UserCreated, delivery: Delivery) -> None:
        async with self.uow() as uow:
            if await uow.already_processed(delivery.event_id):
                return
            if await uow.recipients.get(event.id) is None:
                await uow.recipients.put(Recipient(event.id, event.email, 0))
            await uow.commit()

    @retry_transient()
    async def on_user_updated(self, event: users_pb2.UserUpdated, delivery: Delivery) -> None:
        async with self.uow() as uow:
            if await uow.already_processed(delivery.event_id):
                return
            recipient = await uow.recipients.get(event.id)
            if recipient is None:
                await uow.recipients.put(Recipient(event.id, event.email, event.version))
            elif recipient.update(event.email, event.version):
                await uow.recipients.put(recipient)
            await uow.commit()

    @retry_transient()
    async def on_order_created(self, event: orders_pb2.OrderCreated, delivery: Delivery) -> None:
        async with self.uow() as uow:
            if await uow.already_processed(delivery.event_id):
                return
            copy = await uow.orders.get(event.id)
            placed = OrderCopy(
                event.id,
                event.user_id,
                event.ticket.seller_id,
                event.ticket.quantity or 1,
                event.ticket.price or "0",
                event.ticket.currency_code or "USD",
                charges=copy.charges if copy else None,
            )
            await uow.orders.put(placed)
            await uow.commit()

    @retry_transient()
    async def on_charge_created(
        self, event: payments_pb2.ChargeCreated, delivery: Delivery
    ) -> None:
        async with self.uow() as uow:
            if await uow.already_processed(delivery.event_id):
                return
            copy = await uow.orders.get(event.order_id)
            if copy is None:
                raise NotYet(f"ChargeCreated for order {event.order_id} before its OrderCreated")
            if event.HasField("charges"):
                c = event.charges
                copy.charges = Charges(c.subtotal, c.buyer_fees, c.total)
            else:  # a producer older than fees: the amount is the prices
                copy.charges = Charges(event.amount, 0, event.amount)
            await uow.orders.put(copy)
            await uow.commit()

    # ------------------------------------------------------------ the mails

    @retry_transient()
    async def on_order_updated(self, event: orders_pb2.OrderUpdated, delivery: Delivery) -> None:
        if event.status != orders_api.ORDER_STATUS_COMPLETE:
            return
        async with self.uow() as uow:
            if await uow.already_processed(delivery.event_id):
                return
            copy = await uow.orders.get(event.id)
            if copy is None or copy.charges is None:
                raise NotYet(f"order {event.id} completed before its OrderCreated/ChargeCreated")
            await self._mail(
                uow, delivery, MailKind.ORDER_CONFIRMED, copy.buyer_id, copy.receipt(), copy.id
            )
            await uow.commit()

    @retry_transient()
    async def on_order_cancelled(
        self, event: orders_pb2.OrderCancelled, delivery: Delivery
    ) -> None:
        if event.reason != EXPIRED or event.never_placed:
            return  # only a placed order that ran out of time is told
        async with self.uow() as uow:
            if await uow.already_processed(delivery.event_id):
                return
            copy = await uow.orders.get(event.id)
            if copy is None:
                raise NotYet(f"OrderCancelled for order {event.id} before its OrderCreated")
            facts = {"order_id": copy.id, "quantity": str(copy.quantity)}
            await self._mail(uow, delivery, MailKind.ORDER_EXPIRED, copy.buyer_id, facts, copy.id)
            await uow.commit()

    async def on_refund_issued(self, event: payments_pb2.RefundIssued, delivery: Delivery) -> None:
        facts = {
            "order_id": event.order_id,
            "amount": format_minor(event.amount, event.currency_code),
        }
        await self._mail_once(
            delivery, (MailKind.REFUND_ISSUED, event.buyer_id, facts, event.order_id)
        )

    async def on_payout_paid(self, event: payments_pb2.PayoutPaid, delivery: Delivery) -> None:
        facts = {
            "order_id": event.order_id,
            "amount": format_minor(event.amount, event.currency_code),
        }
        await self._mail_once(
            delivery, (MailKind.PAYOUT_PAID, event.seller_id, facts, event.order_id)
        )

    async def on_delivery_completed(
        self, event: delivery_pb2.DeliveryCompleted, delivery: Delivery
    ) -> None:
        facts = {"order_id": event.order_id, "quantity": str(event.quantity or 1)}
        await self._mail_once(
            delivery, (MailKind.TICKETS_DELIVERED, event.buyer_id, facts, event.order_id)
        )

    async def on_delivery_missed(
        self, event: delivery_pb2.DeliveryMissed, delivery: Delivery
    ) -> None:
        deadline = _when(event.deliver_by)
        await self._mail_once(
            delivery,
            *(
                (
                    MailKind.DELIVERY_MISSED,
                    user_id,
                    {"order_id": event.order_id, "deliver_by": deadline, "role": role},
                    event.order_id,
                )
                for role, user_id in (("buyer", event.buyer_id), ("seller", event.seller_id))
            ),
        )

    async def on_delivery_deadline_approaching(
        self, event: delivery_pb2.DeliveryDeadlineApproaching, delivery: Delivery
    ) -> None:
        facts = {"order_id": event.order_id, "deliver_by": _when(event.deliver_by)}
        await self._mail_once(
            delivery,
            (MailKind.DELIVERY_DEADLINE_APPROACHING, event.seller_id, facts, event.order_id),
        )

    @retry_transient()
    async def on_pass_transfer_offered(
        self, event: delivery_pb2.PassTransferOffered, delivery: Delivery
    ) -> None:
        async with self.uow() as uow:
            if await uow.already_processed(delivery.event_id):
                return
            if "@" not in event.to_email:
                log.warning("a transfer offer names no address", extra={"pass_id": event.pass_id})
            else:
                # The address itself is the recipient: it may have no account yet.
                recipient = Recipient.for_address(event.to_email)
                await uow.recipients.put(recipient)
                await self._mail(uow, delivery, MailKind.TRANSFER_RECEIVED, recipient.id, {})
            await uow.commit()

    async def on_pass_reissued(self, event: delivery_pb2.PassReissued, delivery: Delivery) -> None:
        facts = {"reason": REISSUE_REASONS.get(event.reason, "")}
        await self._mail_once(
            delivery,
            (MailKind.TICKET_READY, event.holder_id, facts, ""),
            (MailKind.TICKET_HANDED_OVER, event.previous_holder_id, facts, ""),
        )

    @property
    def event_handlers(self) -> dict[type, Callable[..., Awaitable[None]]]:
        return {
            users_pb2.UserCreated: self.on_user_created,
            users_pb2.UserUpdated: self.on_user_updated,
            orders_pb2.OrderCreated: self.on_order_created,
            payments_pb2.ChargeCreated: self.on_charge_created,
            orders_pb2.OrderUpdated: self.on_order_updated,
            orders_pb2.OrderCancelled: self.on_order_cancelled,
            payments_pb2.RefundIssued: self.on_refund_issued,
            payments_pb2.PayoutPaid: self.on_payout_paid,
            delivery_pb2.DeliveryCompleted: self.on_delivery_completed,
            delivery_pb2.DeliveryMissed: self.on_delivery_missed,
            delivery_pb2.DeliveryDeadlineApproaching: self.on_delivery_deadline_approaching,
            delivery_pb2.PassTransferOffered: self.on_pass_transfer_offered,
            delivery_pb2.PassReissued: self.on_pass_reissued,
        }
