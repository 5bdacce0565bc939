"""A delivery's transitions (svc_delivery/domain/deliveries.py), without a unit of work: the
order's events in version order, the clock's reminder and deadline, and who sees what."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from svc_delivery.domain import events
from svc_delivery.domain.deliveries import Delivery
from svc_delivery.domain.methods import DeliveryMethod, DeliveryStatus, method_or_default

NOW = datetime(2026, 6, 1, tzinfo=UTC)
REMIND = timedelta(hours=24)


def delivery() -> Delivery:
    return Delivery(
        "o1", "s", "b", "t1", "e1", DeliveryMethod.MOBILE_TRANSFER, NOW + timedelta(days=3), 2, NOW
    )


def test_paid_once_in_version_order() -> None:
    d = delivery()
    assert d.paid(2, REMIND) and d.status is DeliveryStatus.DUE
    assert d.check_at == d.deliver_by - REMIND
    assert not d.paid(2, REMIND)
    assert not d.order_cancelled(1)
    assert d.status is DeliveryStatus.DUE and d.version == 1


def test_the_sweep_reminds_then_misses_and_records_each_once() -> None:
    d = delivery()
    d.paid(2, REMIND)
    assert not d.sweep(NOW, REMIND)  # nothing due yet: only its next check is kept
    assert d.sweep(d.deliver_by - timedelta(hours=1), REMIND)
    assert d.check_at == d.deliver_by
    assert d.sweep(d.deliver_by, REMIND)
    assert not d.sweep(d.deliver_by + timedelta(days=1), REMIND)
    assert [type(e) for e in d.events] == [
        events.DeliveryDeadlineApproaching,
        events.DeliveryMissed,
    ]
    assert d.status is DeliveryStatus.MISSED and d.check_at is None


def test_a_confirmed_transfer_is_delivered_with_its_event() -> None:
    d = delivery()
    d.paid(2, REMIND)
    assert d.confirm_transfer("  to buyer@example.com ", NOW)
    assert not d.confirm_transfer("to buyer@example.com", NOW)  # the same again
    assert d.status is DeliveryStatus.DELIVERED and d.transfer_note == "to buyer@example.com"
    [completed] = d.events
    assert completed == events.DeliveryCompleted(
        "o1", "s", "b", "e1", DeliveryMethod.MOBILE_TRANSFER, NOW, 2
    )


def test_the_buyer_sees_the_contents_only_once_paid() -> None:
    d = delivery()
    assert d.visible_to("b") and not d.contents_visible_to("b")
    assert d.contents_visible_to("s") and d.contents_visible_to("x", admin=True)
    d.paid(2, REMIND)
    assert d.contents_visible_to("b") and not d.visible_to("x")


def test_an_unspecified_method_is_an_e_ticket() -> None:
    assert method_or_default(0) is DeliveryMethod.E_TICKET
    assert method_or_default(2) is DeliveryMethod.BARCODE
