"""Reading payouts: a seller their own, an operator (admin role) anyone's."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from common.errors import Forbidden, InvalidInput
from common.pagination import Page, PageRequest
from common.retries import retry_transient
from svc_payments.domain.payouts import Payout, PayoutStatus
from svc_payments.service_layer.unit_of_work import PaymentsUnitOfWork

MAX_IDS = 100


@dataclass(frozen=True)
class PayoutReader:
    user_id: str
    is_admin: bool = False

    def may_read(self, payout: Payout) -> bool:
        return self.is_admin or payout.seller_id == self.user_id


def status_filter(status: str) -> PayoutStatus | None:
    if not status:
        return None
    try:
        return PayoutStatus(status)
    except ValueError:
        names = ", ".join(s.value for s in PayoutStatus)
        raise InvalidInput(f"status must be one of {names}", field="status") from None


@retry_transient()  # a read: safe to run again on a fresh connection
async def list_payouts(
    uow: Callable[[], PaymentsUnitOfWork],
    reader: PayoutReader,
    request: PageRequest,
    all_sellers: bool = False,
    status: PayoutStatus | None = None,
) -> Page[Payout]:
    if all_sellers and not reader.is_admin:
        raise Forbidden("Every seller's payouts are for operators only")
    async with uow() as tx:
        return await tx.payouts.page(request, None if all_sellers else reader.user_id, status)


@retry_transient()
async def batch_get_payouts(
    uow: Callable[[], PaymentsUnitOfWork], reader: PayoutReader, ids: Sequence[str]
) -> list[Payout]:
    if len(ids) > MAX_IDS:
        raise InvalidInput(f"At most {MAX_IDS} ids at once", field="ids")
    if not ids:
        return []
    async with uow() as tx:
        found = await tx.payouts.many(list(dict.fromkeys(ids)))
    return [p for p in found if reader.may_read(p)]
