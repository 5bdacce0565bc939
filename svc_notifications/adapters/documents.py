"""The notifications service's documents in MongoDB, and their indexes.

- `mails`: the mail outbox. {_id: mail id (sha-256 of event id, kind, recipient: the unique key
  a redelivered event meets), kind, recipient_id (a user id, never an address), event_id,
  order_id, facts (the template's values), status (pending, sent, failed, no_address),
  attempts, next_attempt_at, claimed_until (a sender's lease), created_at, sent_at,
  last_error_code}.
- `recipients`: {_id: user id, email, version}: the copy of auth's users' addresses; and an
  address a ticket was offered to, {_id: `address:` and a hash of it, email, version 0}.
- `orders`: {_id: order id, buyer_id, seller_id, quantity, unit_price, currency, charges:
  {subtotal, buyer_fees, total} or null}: the copy the receipts are filled from.
"""

from __future__ import annotations

from typing import Any

from pymongo import ASCENDING, DESCENDING
from pymongo.asynchronous.database import AsyncDatabase

from common.mongo import UNCLAIMED
from svc_notifications.domain.mails import Mail, MailKind, MailStatus
from svc_notifications.domain.receipts import Charges, OrderCopy
from svc_notifications.domain.recipients import Recipient

MAILS, RECIPIENTS, ORDERS = "mails", "recipients", "orders"


async def ensure_indexes(db: AsyncDatabase) -> None:
    # Due and unclaimed, oldest first: the sender's claim is one range on it.
    await db[MAILS].create_index(
        [("status", ASCENDING), ("next_attempt_at", ASCENDING), ("claimed_until", ASCENDING)]
    )
    # ListNotifications: a user's mails, newest first.
    await db[MAILS].create_index([("recipient_id", ASCENDING), ("created_at", DESCENDING)])


def mail_to_doc(mail: Mail) -> dict[str, Any]:
    return {
        "_id": mail.id,
        "kind": mail.kind.value,
        "recipient_id": mail.recipient_id,
        "event_id": mail.event_id,
        "order_id": mail.order_id,
        "facts": mail.facts,
        "status": mail.status.value,
        "attempts": mail.attempts,
        "next_attempt_at": mail.next_attempt_at,
        "claimed_until": UNCLAIMED,
        "created_at": mail.created_at,
        "sent_at": mail.sent_at,
        "last_error_code": mail.last_error_code,
    }


def mail_from_doc(doc: dict[str, Any]) -> Mail:
    return Mail(
        doc["_id"],
        MailKind(doc["kind"]),
        doc["recipient_id"],
        doc["event_id"],
        dict(doc["facts"]),
        doc["created_at"],
        order_id=doc.get("order_id", ""),
        status=MailStatus(doc["status"]),
        attempts=doc.get("attempts", 0),
        next_attempt_at=doc.get("next_attempt_at"),
        sent_at=doc.get("sent_at"),
        last_error_code=doc.get("last_error_code", 0),
    )


def order_to_doc(order: OrderCopy) -> dict[str, Any]:
    c = order.charges
    return {
        "_id": order.id,
        "buyer_id": order.buyer_id,
        "seller_id": order.seller_id,
        "quantity": order.quantity,
        "unit_price": order.unit_price,
        "currency": order.currency,
        "charges": None
        if c is None
        else {"subtotal": c.subtotal, "buyer_fees": c.buyer_fees, "total": c.total},
    }


def order_from_doc(doc: dict[str, Any]) -> OrderCopy:
    c = doc.get("charges")
    return OrderCopy(
        doc["_id"],
        doc["buyer_id"],
        doc["seller_id"],
        doc["quantity"],
        doc["unit_price"],
        doc["currency"],
        None if c is None else Charges(c["subtotal"], c["buyer_fees"], c["total"]),
    )


def recipient_from_doc(doc: dict[str, Any]) -> Recipient:
    return Recipient(doc["_id"], doc["email"], doc.get("version", 0))
