"""In-memory stand-ins for the notifications service's unit of work, mail queue and mail server."""

from __future__ import annotations

import copy
import dataclasses
from datetime import datetime

from svc_notifications.domain.mails import Mail, MailStatus
from svc_notifications.domain.receipts import OrderCopy
from svc_notifications.domain.recipients import Recipient
from svc_notifications.service_layer.ports import Outgoing, TemporaryFailure


class Store:
    """What the database would hold: committed state only."""

    def __init__(self) -> None:
        self.recipients: dict[str, Recipient] = {}
        self.orders: dict[str, OrderCopy] = {}
        self.mails: dict[str, Mail] = {}
        self.claimed_until: dict[str, datetime] = {}
        self.inbox: set[str] = set()


class _Dict:
    def __init__(self, items: dict) -> None:
        self.items = items

    async def get(self, key: str):
        return copy.deepcopy(self.items.get(key))

    async def put(self, value) -> None:
        self.items[value.id] = copy.deepcopy(value)


class _Mails:
    def __init__(self, items: dict[str, Mail]) -> None:
        self.items = items

    async def add(self, mail: Mail) -> bool:
        if mail.id in self.items:
            return False
        self.items[mail.id] = copy.deepcopy(mail)
        return True


class FakeUnitOfWork:
    def __init__(self, store: Store) -> None:
        self.store = store

    async def __aenter__(self) -> FakeUnitOfWork:
        self.recipients_ = dict(self.store.recipients)
        self.orders_ = dict(self.store.orders)
        self.mails_ = dict(self.store.mails)
        self.inbox_ = set(self.store.inbox)
        self.recipients = _Dict(self.recipients_)
        self.orders = _Dict(self.orders_)
        self.mails = _Mails(self.mails_)
        return self

    async def __aexit__(self, *exc: object) -> None:
        pass

    async def already_processed(self, event_id: str) -> bool:
        if event_id in self.inbox_:
            return True
        self.inbox_.add(event_id)
        return False

    async def commit(self) -> None:
        self.store.recipients = self.recipients_
        self.store.orders = self.orders_
        self.store.mails = self.mails_
        self.store.inbox = self.inbox_


class FakeQueue:
    def __init__(self, store: Store) -> None:
        self.store = store

    async def claim_due(self, now: datetime, until: datetime, limit: int) -> list[Mail]:
        due = [
            m
            for m in sorted(self.store.mails.values(), key=lambda m: m.next_attempt_at or now)
            if m.status is MailStatus.PENDING
            and (m.next_attempt_at or now) <= now
            and self.store.claimed_until.get(m.id, now) <= now
        ][:limit]
        for mail in due:
            mail.attempts += 1
            self.store.claimed_until[mail.id] = until
        return [copy.deepcopy(m) for m in due]

    def _set(self, mail_id: str, **changes) -> None:
        self.store.mails[mail_id] = dataclasses.replace(self.store.mails[mail_id], **changes)
        self.store.claimed_until.pop(mail_id, None)

    async def mark_sent(self, mail_id: str, at: datetime) -> None:
        self._set(mail_id, status=MailStatus.SENT, sent_at=at, last_error_code=0)

    async def mark_retry(self, mail_id: str, code: int, next_attempt_at: datetime) -> None:
        self._set(mail_id, next_attempt_at=next_attempt_at, last_error_code=code)

    async def mark_given_up(self, mail_id: str, status: MailStatus, code: int) -> None:
        self._set(mail_id, status=status, last_error_code=code)

    async def email_of(self, user_id: str) -> str | None:
        r = self.store.recipients.get(user_id)
        return None if r is None else r.email

    async def for_recipient(self, user_id: str, limit: int) -> list[Mail]:
        mine = [m for m in self.store.mails.values() if m.recipient_id == user_id]
        return sorted(mine, key=lambda m: m.created_at, reverse=True)[:limit]


class FakeMailServer:
    """Accepts mail unless told to be down; keeps what it accepted."""

    def __init__(self) -> None:
        self.received: list[Outgoing] = []
        self.down_with: int | None = None

    async def send(self, mail: Outgoing) -> None:
        if self.down_with is not None:
            raise TemporaryFailure(self.down_with, "try again later")
        self.received.append(mail)
