"""The delivery service's commands and reads: the seller delivers (files, barcodes, a mobile
transfer's confirmation), the seller, the buyer and admins read. A delivery the caller may not
see is NOT_FOUND, as if it did not exist (docs/security.md); its contents (files, barcodes) are
the buyer's only once the order is paid."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from common.clock import Clock, stored_precision
from common.errors import Forbidden, InvalidInput, NotFound
from common.pagination import Page, page_request
from common.retries import retry_transient
from svc_delivery.domain.deliveries import ALL_SEATS, DeliveredFile, Delivery, SellerRecord
from svc_delivery.domain.files import check_file
from svc_delivery.service_layer.commands import Caller, ListMine, Upload
from svc_delivery.service_layer.passes import issue_passes
from svc_delivery.service_layer.unit_of_work import DeliveryUnitOfWork

MAX_BATCH = 500


@dataclass(frozen=True)
class FileContent:
    file: DeliveredFile
    content: bytes


class DeliveryHandlers:
    def __init__(
        self, uow: Callable[[], DeliveryUnitOfWork], clock: Clock, max_file_bytes: int
    ) -> None:
        self.uow = uow
        self.clock = clock
        self.max_file_bytes = max_file_bytes

    # Reads ---------------------------------------------------------------------------------

    async def get(self, caller: Caller, order_id: str) -> Delivery:
        async with self.uow() as uow:
            delivery = await uow.deliveries.get(order_id)
        return _visible(delivery, caller)

    async def batch_get(self, caller: Caller, order_ids: list[str]) -> list[Delivery]:
        if len(order_ids) > MAX_BATCH:
            raise InvalidInput(f"At most {MAX_BATCH} order ids", field="order_ids")
        async with self.uow() as uow:
            found = await uow.deliveries.many(list(dict.fromkeys(order_ids)))
        return [d for d in found if d.visible_to(caller.user_id, caller.is_admin)]

    async def list_mine(self, query: ListMine) -> Page[Delivery]:
        request = page_request(query.page_size, query.page_token)
        async with self.uow() as uow:
            return await uow.deliveries.page_of(
                query.caller.user_id, query.as_seller, query.statuses, request
            )

    async def get_file(self, caller: Caller, order_id: str, file_id: str) -> FileContent:
        async with self.uow() as uow:
            delivery = await uow.deliveries.get(order_id)
            if delivery is None or not delivery.contents_visible_to(
                caller.user_id, caller.is_admin
            ):
                raise NotFound("Delivery file not found", field="file_id")
            file = next((f for f in delivery.files if f.id == file_id), None)
            content = None if file is None else await uow.files.get(file_id)
        if file is None or content is None:
            raise NotFound("Delivery file not found", field="file_id")
        return FileContent(file, content)

    async def seller_record(self, seller_id: str) -> SellerRecord:
        if not seller_id:
            raise InvalidInput("A seller id is required", field="seller_id")
        async with self.uow() as uow:
            return await uow.sellers.get(seller_id)

    # The seller delivers -------------------------------------------------------------------

    async def deliver_files(self, caller: Caller, order_id: str, uploads: list[Upload]) -> Delivery:
        if not uploads:
            raise InvalidInput("At least one file", field="files")
        checked = [
            (upload, check_file(upload.filename, upload.content, self.max_file_bytes))
            for upload in uploads
        ]
        for upload in uploads:
            if upload.seat < ALL_SEATS:
                raise InvalidInput("A file's seat is -1 (all) or a seat's index", field="files")
        return await self._deliver_files(caller, order_id, checked)

    @retry_transient()
    async def _deliver_files(self, caller: Caller, order_id: str, checked: list) -> Delivery:
        async with self.uow() as uow:
            delivery = await self._own(uow, caller, order_id)
            files = [
                DeliveredFile(
                    id=uuid.uuid4().hex,
                    filename=info.filename,
                    content_type=info.content_type,
                    size=info.size,
                    seat=upload.seat,
                    sha256=hashlib.sha256(upload.content).hexdigest(),
                )
                for upload, info in checked
            ]
            if not delivery.deliver_files(files, self._now()):
                return delivery  # the same files again: delivered already
            for (upload, _), file in zip(checked, files, strict=True):
                await uow.files.put(file.id, file.filename, upload.content, order_id)
            await self._delivered(uow, delivery)
            return delivery

    @retry_transient()
    async def deliver_barcodes(
        self, caller: Caller, order_id: str, barcodes: list[str]
    ) -> Delivery:
        async with self.uow() as uow:
            delivery = await self._own(uow, caller, order_id)
            if delivery.deliver_barcodes(barcodes, self._now()):
                await self._delivered(uow, delivery)
            return delivery

    @retry_transient()
    async def confirm_transfer(self, caller: Caller, order_id: str, note: str) -> Delivery:
        async with self.uow() as uow:
            delivery = await self._own(uow, caller, order_id)
            if delivery.confirm_transfer(note, self._now()):
                await self._delivered(uow, delivery)
            return delivery

    async def _own(self, uow: DeliveryUnitOfWork, caller: Caller, order_id: str) -> Delivery:
        """The delivery the caller must make: NOT_FOUND when they may not see it at all,
        PERMISSION_DENIED when they see it but are not its seller (its buyer, an admin)."""
        delivery = _visible(await uow.deliveries.get(order_id), caller)
        if delivery.seller_id != caller.user_id:
            raise Forbidden("Only the order's seller delivers it", field="order_id")
        return delivery

    async def _delivered(self, uow: DeliveryUnitOfWork, delivery: Delivery) -> None:
        """The delivery is DELIVERED: saved with its seats' passes, in one transaction."""
        await uow.deliveries.save(delivery)
        await issue_passes(uow, delivery, self._now())
        await uow.sellers.count(delivery.seller_id, delivered=1)
        await uow.commit()

    def _now(self) -> datetime:
        return stored_precision(self.clock.now())


def _visible(delivery: Delivery | None, caller: Caller) -> Delivery:
    if delivery is None or not delivery.visible_to(caller.user_id, caller.is_admin):
        raise NotFound("Delivery not found", field="order_id")
    return delivery
