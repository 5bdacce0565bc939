"""What the sender depends on besides the database: the mail server, the templates, and the
mails queue it claims from (each an adapter chosen in bootstrap.py; fakes in the unit tests)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from svc_notifications.domain.mails import Mail, MailStatus


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str


@dataclass(frozen=True)
class Outgoing:
    """One mail as the server gets it. `message_id` is the mail's own (the same on every try),
    so a copy that reached a mailbox twice is recognisably one message."""

    mail_id: str
    message_id: str
    to: str
    content: Rendered


class TemporaryFailure(Exception):
    """The server could not take the mail now (a 4xx reply, unreachable, the connection cut):
    tried again later. `code` is its reply code (0 without one)."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(f"{code} {reason}")
        self.code = code


class PermanentFailure(Exception):
    """The server refused the mail for good (a 5xx reply): never tried again."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(f"{code} {reason}")
        self.code = code


class MailTransport(Protocol):
    async def send(self, mail: Outgoing) -> None:
        """Returns once the server accepted the mail (its 250 to the message's data); raises
        TemporaryFailure or PermanentFailure."""
        ...


class Templates(Protocol):
    def render(self, mail: Mail) -> Rendered: ...


class MailQueue(Protocol):
    """The outbox's mails as the sender sees them, outside any transaction: each change one
    single-document update."""

    async def claim_due(self, now: datetime, until: datetime, limit: int) -> list[Mail]:
        """Up to `limit` pending mails due by `now` that no sender holds, each held till
        `until` (its attempts counted)."""
        ...

    async def mark_sent(self, mail_id: str, at: datetime) -> None: ...

    async def mark_retry(self, mail_id: str, code: int, next_attempt_at: datetime) -> None: ...

    async def mark_given_up(self, mail_id: str, status: MailStatus, code: int) -> None: ...

    async def email_of(self, user_id: str) -> str | None: ...

    async def for_recipient(self, user_id: str, limit: int) -> list[Mail]:
        """Newest first."""
        ...
