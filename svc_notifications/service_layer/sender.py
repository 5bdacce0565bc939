"""Sends the outbox's mails: claims the due ones (a lease, so replicas share the work and a
crashed sender's mails come back), renders each, hands it to the mail server, and records the
outcome in one update right after the server's answer.

What "sent once" means (docs/design/notifications.md): an event makes each of its mails once
(their ids); a mail is handed to the server until the server accepts it, and marked SENT by the
very next statement after the 250. A copy goes twice only if this process dies, or the database
stays unreachable for the whole lease, in the moment between the server's 250 and that mark:
the lease then runs out and another try sends it again, under the same Message-ID."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from datetime import timedelta
from typing import Any

from common.clock import Clock, SystemClock, stored_precision
from common.metrics.series import mail_outcome
from common.retries import is_outage
from svc_notifications.domain.mails import Mail, MailStatus, RetryPolicy
from svc_notifications.service_layer.ports import (
    MailQueue,
    MailTransport,
    Outgoing,
    PermanentFailure,
    Templates,
    TemporaryFailure,
)

log = logging.getLogger(__name__)


async def _uncancelled(work: Coroutine[Any, Any, None]) -> None:
    """Runs `work` to its end even when the caller is cancelled (the process stopping), then
    passes the cancellation on: a mail handed to the server is marked before the sender stops,
    so stopping never leaves a sent mail unmarked."""
    task = asyncio.ensure_future(work)
    cancelled = False
    while not task.done():
        try:
            await asyncio.shield(task)
        except asyncio.CancelledError:
            cancelled = True
    if cancelled:
        raise asyncio.CancelledError
    task.result()


class MailSender:
    def __init__(
        self,
        queue: MailQueue,
        transport: MailTransport,
        templates: Templates,
        retry: RetryPolicy,
        message_id: Callable[[str], str],
        lease: timedelta,
        batch: int,
        clock: Clock | None = None,
    ) -> None:
        self.queue = queue
        self.transport = transport
        self.templates = templates
        self.retry = retry
        self.message_id = message_id
        self.lease = lease
        self.batch = batch
        self.clock = clock or SystemClock()

    async def send_due(self) -> int:
        """One round: the mails due now, each sent or rescheduled. How many were claimed."""
        now = stored_precision(self.clock.now())
        mails = await self.queue.claim_due(now, now + self.lease, self.batch)
        for mail in mails:
            await _uncancelled(self._send(mail))
        return len(mails)

    async def _send(self, mail: Mail) -> None:
        # `attempts` counts this try (the claim counted it).
        where = {"mail_id": mail.id, "kind": mail.kind.value, "attempt": mail.attempts}
        address = await self.queue.email_of(mail.recipient_id)
        if address is None:
            # user.created may not have reached us yet: wait for it like a server's 4xx.
            await self._temporary(mail, 0, MailStatus.NO_ADDRESS, where)
            return
        outgoing = Outgoing(mail.id, self.message_id(mail.id), address, self.templates.render(mail))
        try:
            await self.transport.send(outgoing)
        except TemporaryFailure as exc:
            log.warning("mail server could not take a mail now", extra={**where, "code": exc.code})
            await self._temporary(mail, exc.code, MailStatus.FAILED, where)
            return
        except PermanentFailure as exc:
            log.error("mail server refused a mail", extra={**where, "code": exc.code})
            await self.queue.mark_given_up(mail.id, MailStatus.FAILED, exc.code)
            mail_outcome(mail.kind.value, "failed")
            return
        # The server holds the mail: record it before anything else can happen.
        await self._mark_sent(mail)
        mail_outcome(mail.kind.value, "sent")
        log.info("mail sent", extra=where)

    async def _mark_sent(self, mail: Mail) -> None:
        """Retried while the database is unreachable and the lease lasts: while this process
        holds the mail no other sends it, so only the lease's end reopens the window."""
        deadline = self.clock.now() + self.lease
        while True:
            try:
                await self.queue.mark_sent(mail.id, stored_precision(self.clock.now()))
                return
            except Exception as exc:
                if not is_outage(exc) or self.clock.now() >= deadline:
                    raise
                await asyncio.sleep(0.2)

    async def _temporary(
        self, mail: Mail, code: int, final: MailStatus, where: dict[str, object]
    ) -> None:
        if self.retry.gives_up_after(mail.attempts):
            log.error("mail given up after its attempts", extra={**where, "code": code})
            await self.queue.mark_given_up(mail.id, final, code)
            mail_outcome(mail.kind.value, final.value)
            return
        at = stored_precision(self.clock.now()) + self.retry.delay_after(mail.attempts)
        await self.queue.mark_retry(mail.id, code, at)
        mail_outcome(mail.kind.value, "retry")

    async def run(self, poll_seconds: float, wake: asyncio.Event | None = None) -> None:
        """Sends until cancelled: again at once after a full batch, else after `poll_seconds`
        (or when woken: a consumer committed new mails)."""
        wake = wake or asyncio.Event()
        while True:
            try:
                claimed = await self.send_due()
            except Exception as exc:
                if not is_outage(exc):
                    log.exception("mail sender round failed")
                claimed = 0
            if claimed >= self.batch:
                continue
            wake.clear()
            try:
                await asyncio.wait_for(wake.wait(), poll_seconds)
            except TimeoutError:
                pass
