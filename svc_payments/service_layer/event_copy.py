"""Payments' copy of the catalogue's events (the one consumer of EventChanged and
EventStatusChanged in payments): when each starts and ends, whether it still takes place, and
its own fees (EventChanged's fee_override: the fee schedule of its quotes and new orders). A
change moves the due time of the event's payouts not yet paid, in the same transaction:
rescheduled, they fall due the delay after the new end; postponed or cancelled, they have no due
time until the catalogue says more. A cancellation also opens the event's refund run in that
transaction (refund_runs.open_run_in): its orders are refunded, which reverses their payouts."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime

from common.clock import Clock, stored_precision
from common.delivery import Delivery
from common.protos import from_timestamp
from common.retries import retry_transient
from svc_payments.domain.fees import FeeOverride
from svc_payments.domain.payouts import EventSchedule, EventStatus, PayoutPolicy, due_time
from svc_payments.service_layer.payouts import PayoutTerms
from svc_payments.service_layer.refund_runs import open_run_in
from svc_payments.service_layer.unit_of_work import PaymentsUnitOfWork
from ticketing.events.v1 import catalogue_pb2

log = logging.getLogger(__name__)

# An event's unpaid payouts moved in one transaction: every order of a large event. Past it the
# rest keep their old due time (logged); an event has far fewer paid orders than this.
MOVED_PER_CHANGE = 5000


class EventCopy:
    def __init__(
        self, uow: Callable[[], PaymentsUnitOfWork], clock: Clock, terms: PayoutTerms
    ) -> None:
        self.uow = uow
        self.clock = clock
        self.terms = terms

    async def on_event_changed(self, event: catalogue_pb2.EventChanged, delivery: Delivery) -> None:
        fees = _fees(event)
        await self._apply(event.id, event.version, event.status, *_dates(event), delivery, fees)

    async def on_event_status_changed(
        self, event: catalogue_pb2.EventStatusChanged, delivery: Delivery
    ) -> None:
        await self._apply(event.id, event.version, event.status, *_dates(event), delivery)

    @retry_transient()
    async def _apply(
        self,
        event_id: str,
        version: int,
        status: str,
        starts_at: datetime | None,
        ends_at: datetime | None,
        delivery: Delivery,
        fees: tuple[FeeOverride | None] | None = None,  # EventChanged's: (its override,)
    ) -> None:
        async with self.uow() as uow:
            if await uow.already_processed(delivery.event_id):
                return
            ends_at = None if ends_at is None else stored_precision(ends_at)
            starts_at = None if starts_at is None else stored_precision(starts_at)
            schedule = await uow.event_schedules.get(event_id)
            if schedule is None:
                schedule = EventSchedule(event_id, version, status, ends_at, starts_at)
                if fees is not None:
                    schedule.apply_fees(version, fees[0])
                await uow.event_schedules.add(schedule)
            else:
                # The fees apply by a version of their own: an EventStatusChanged of this
                # version may have come first (and carries none).
                fees_moved = fees is not None and schedule.apply_fees(version, fees[0])
                if not schedule.apply(version, status, ends_at, starts_at):
                    if fees_moved:
                        await uow.event_schedules.save(schedule)
                    await uow.commit()  # an older or repeated version: nothing moves
                    return
                await uow.event_schedules.save(schedule)
            due_at = due_time(schedule, self.terms.delay_after_event)
            now = stored_precision(self.clock.now())
            # after_delivery: a payout falls due with its delivery, whatever the event does.
            moves = self.terms.policy is PayoutPolicy.AFTER_EVENT
            payouts = (
                await uow.payouts.pending_of_event(event_id, MOVED_PER_CHANGE) if moves else []
            )
            for payout in payouts:
                if payout.reschedule(due_at, now):
                    await uow.payouts.save(payout)
            if len(payouts) == MOVED_PER_CHANGE:
                log.error(
                    "an event's payouts were moved in part",
                    extra={"event_id": event_id, "moved": len(payouts)},
                )
            if schedule.status == EventStatus.CANCELLED:
                await open_run_in(uow, event_id, now)  # None when the run is open already
            await uow.commit()

    @property
    def event_handlers(self) -> dict[type, Callable[..., Awaitable[None]]]:
        return {
            catalogue_pb2.EventChanged: self.on_event_changed,
            catalogue_pb2.EventStatusChanged: self.on_event_status_changed,
        }


def _dates(
    event: catalogue_pb2.EventChanged | catalogue_pb2.EventStatusChanged,
) -> tuple[datetime | None, datetime | None]:
    """When the event starts and ends, as the message says (None for a field it leaves unset)."""
    starts_at = from_timestamp(event.starts_at) if event.HasField("starts_at") else None
    ends_at = from_timestamp(event.ends_at) if event.HasField("ends_at") else None
    return starts_at, ends_at


def _fees(event: catalogue_pb2.EventChanged) -> tuple[FeeOverride | None]:
    """The event's own fees as the message says ((None,): none). The catalogue checks them; one
    payments cannot read is logged and left out (the settings apply), never retried for ever."""
    if not event.HasField("fee_override"):
        return (None,)
    given = event.fee_override
    try:
        override = FeeOverride.parse(
            given.buyer_fee_percent,
            [(f.currency_code, f.amount) for f in given.buyer_fee_fixed],
            given.seller_commission_percent,
        )
    except ValueError:
        log.error("an event's fees cannot be read", extra={"event_id": event.id})
        return (None,)
    return (None if override.empty else override,)
