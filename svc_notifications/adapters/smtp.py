"""The mail server, over SMTP (the standard library's smtplib, in a worker thread so the event
loop never waits on it): any relay, by settings. One connection per mail, closed after it: the
server's 250 to the message's data is the one answer that means "sent", and the caller records it
before anything else. A 4xx reply or a connection failure is temporary, a 5xx permanent."""

from __future__ import annotations

import asyncio
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate

from svc_notifications.service_layer.ports import Outgoing, PermanentFailure, TemporaryFailure


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    username: str | None
    password: str | None
    starttls: bool
    mail_from: str
    timeout_seconds: float


def message_of(mail: Outgoing, mail_from: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = mail_from
    message["To"] = mail.to
    message["Subject"] = mail.content.subject
    message["Message-ID"] = mail.message_id
    message["Date"] = formatdate(usegmt=True)
    # Transactional: auto-replies and vacation notices stay quiet (RFC 3834).
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(mail.content.text)
    message.add_alternative(mail.content.html, subtype="html")
    return message


def _failure(code: int, reason: object) -> Exception:
    text = reason.decode(errors="replace") if isinstance(reason, bytes) else str(reason)
    if 400 <= code < 500:
        return TemporaryFailure(code, text)
    return PermanentFailure(code, text)


class SmtpTransport:
    def __init__(self, settings: SmtpSettings) -> None:
        self.settings = settings

    async def send(self, mail: Outgoing) -> None:
        await asyncio.to_thread(self._send, mail)

    def _send(self, mail: Outgoing) -> None:
        s = self.settings
        message = message_of(mail, s.mail_from)
        server = smtplib.SMTP(timeout=s.timeout_seconds)
        try:
            server.connect(s.host, s.port)
            if s.starttls:
                server.starttls(context=ssl.create_default_context())
            if s.username:
                server.login(s.username, s.password or "")
            # Returns only when the one recipient was accepted and the data got its 250.
            server.send_message(message)
        except smtplib.SMTPAuthenticationError as exc:
            # Our settings are wrong, not the mail: it waits for them to be fixed.
            raise TemporaryFailure(exc.smtp_code, "authentication refused") from None
        except smtplib.SMTPRecipientsRefused as exc:
            code, reason = next(iter(exc.recipients.values()))
            raise _failure(code, reason) from None
        except smtplib.SMTPResponseException as exc:
            raise _failure(exc.smtp_code, exc.smtp_error) from None
        except (smtplib.SMTPException, OSError) as exc:
            # Unreachable, cut off, timed out, or the server's greeting never came.
            raise TemporaryFailure(0, type(exc).__name__) from None
        finally:
            _close(server)


def _close(server: smtplib.SMTP) -> None:
    """QUIT, whatever it answers: after the 250 the mail is sent, and nothing about closing
    may turn that into a failure (which would send it again)."""
    try:
        server.quit()
    except (smtplib.SMTPException, OSError):
        server.close()
