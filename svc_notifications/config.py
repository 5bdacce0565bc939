from __future__ import annotations

from email.utils import parseaddr
from typing import Annotated

from pydantic import Field, SecretStr

from common.config import CommonSettings
from common.settings import POSITIVE, Flag, at_least, between, rule


def _an_address(value: str) -> bool:
    return "@" in parseaddr(value)[1]


class NotificationsSettings(CommonSettings):
    """What the notifications service reads: the mail relay (any SMTP server) and its sender's
    pace."""

    smtp_host: str = Field(
        "127.0.0.1",
        description="The SMTP relay notifications hands mail to (a provider's, the cluster's "
        "own; `ticketing run`: its maildev).",
    )
    smtp_port: Annotated[int, between(1, 65535)] = Field(
        25, description="The relay's port (587 for submission with SMTP_STARTTLS)."
    )
    smtp_username: str | None = Field(
        None, description="The relay's login; unset: no authentication (a trusted relay)."
    )
    smtp_password: SecretStr | None = Field(None, description="The relay's password.")
    smtp_password_file: str | None = Field(
        None, description="SMTP_PASSWORD from this file (a mounted Secret)."
    )
    smtp_starttls: Flag = Field(
        False,
        description="Upgrade the connection with STARTTLS (the server's certificate checked) "
        "before logging in: a relay on another host needs it.",
    )
    smtp_timeout_seconds: Annotated[float, POSITIVE] = Field(
        30.0,
        description="How long one conversation with the relay may wait on it before the mail "
        "counts as a temporary failure.",
    )
    mail_from: Annotated[str, rule(_an_address, "must be an e-mail address")] = Field(
        "Ticketing <no-reply@ticketing.localhost>",
        description="The From of every mail; its domain also ends each mail's Message-ID.",
    )
    notifications_send_batch: Annotated[int, between(1, 1000)] = Field(
        20, description="Mails a sender claims at once (each held for NOTIFICATIONS_LEASE_SECONDS)."
    )
    notifications_poll_seconds: Annotated[float, between(0.05, 60)] = Field(
        1.0,
        description="How often the sender looks for due mails when it has none (a new mail "
        "waits at most this long, plus the retries' delays).",
    )
    notifications_lease_seconds: Annotated[float, at_least(5)] = Field(
        120.0,
        description="How long a claimed mail is its sender's: longer than a whole batch's "
        "conversations (SMTP_TIMEOUT_SECONDS each), so no other replica sends it meanwhile; "
        "a sender that died gives its mails back after this long.",
    )
    notifications_max_attempts: Annotated[int, at_least(1)] = Field(
        8,
        description="Tries of one mail before it is given up (FAILED, or NO_ADDRESS when no "
        "address is known for its user): with the delays below, about 40 minutes of a relay "
        "down or refusing for now (4xx).",
    )
    notifications_retry_first_seconds: Annotated[float, POSITIVE] = Field(
        10.0, description="The wait after a mail's first temporary failure, doubled after each."
    )
    notifications_retry_max_seconds: Annotated[float, POSITIVE] = Field(
        900.0, description="The longest wait between two tries of a mail."
    )

    def mail_domain(self) -> str:
        return parseaddr(self.mail_from)[1].rpartition("@")[2]
