"""BatchGetPayments: the caller's payments, by order or by their own ids."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from common.errors import InvalidInput
from common.retries import retry_transient
from svc_payments.domain.model import Payment, PaymentStatus
from svc_payments.service_layer.unit_of_work import PaymentsUnitOfWork

MAX_BATCH = 500


@retry_transient()  # a read: safe to run again on a fresh connection
async def batch_get_payments(
    uow: Callable[[], PaymentsUnitOfWork],
    user_id: str,
    order_ids: Sequence[str],
    ids: Sequence[str] = (),
) -> list[Payment]:
    """The caller's payments of `order_ids` (in their order), then the caller's among `ids`
    (payment ids) not given already; others' and unknown ones are left out."""
    for asked, field in ((order_ids, "orderIds"), (ids, "ids")):
        if len(asked) > MAX_BATCH:
            raise InvalidInput(f"At most {MAX_BATCH} {field} at once", field=field)
    wanted = list(dict.fromkeys(i for i in order_ids if i))
    wanted_ids = list(dict.fromkeys(i for i in ids if i))
    if not wanted and not wanted_ids:
        return []
    async with uow() as reading:
        found = await reading.payments.of_user(user_id, wanted) if wanted else []
        by_id = await reading.payments.by_ids_of_user(user_id, wanted_ids) if wanted_ids else []
    best: dict[str, Payment] = {}
    for payment in found:  # one per order today; a success wins should that ever change
        held = best.get(payment.order_id)
        if held is None or (
            payment.status is PaymentStatus.SUCCEEDED and held.status is not PaymentStatus.SUCCEEDED
        ):
            best[payment.order_id] = payment
    payments = [best[i] for i in wanted if i in best]
    given = {p.id for p in payments}
    of_id = {p.id: p for p in by_id}
    return payments + [of_id[i] for i in wanted_ids if i in of_id and i not in given]
