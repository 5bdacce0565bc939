"""gRPC DeliveryService: requests to commands, deliveries to messages (the passes' RPCs:
`grpc_passes.py`)."""

from __future__ import annotations

from common.errors import InvalidInput
from common.grpc_server import current_user
from svc_delivery.entrypoints.grpc_entry import EntryRpcs
from svc_delivery.entrypoints.grpc_passes import PassRpcs
from svc_delivery.entrypoints.proto_mapping import (
    delivery_to_proto,
    file_to_proto,
    statuses_from_proto,
)
from svc_delivery.service_layer.commands import Caller, ListMine, Upload
from svc_delivery.service_layer.entry import EntryHandlers
from svc_delivery.service_layer.handlers import DeliveryHandlers
from svc_delivery.service_layer.passes import PassHandlers
from ticketing.delivery.v1 import delivery_pb2 as pb
from ticketing.delivery.v1 import delivery_pb2_grpc


def _caller() -> Caller:
    claims = current_user()
    return Caller(claims.user_id, claims.is_admin)


class DeliveryServicer(PassRpcs, EntryRpcs, delivery_pb2_grpc.DeliveryServiceServicer):
    def __init__(
        self, handlers: DeliveryHandlers, passes: PassHandlers, entry: EntryHandlers
    ) -> None:
        self.handlers = handlers
        self.passes = passes
        self.entry = entry

    async def GetDelivery(self, request, context):
        caller = _caller()
        delivery = await self.handlers.get(caller, request.order_id)
        return pb.GetDeliveryResponse(delivery=delivery_to_proto(delivery, caller))

    async def BatchGetDeliveries(self, request, context):
        caller = _caller()
        found = await self.handlers.batch_get(caller, list(request.order_ids))
        return pb.BatchGetDeliveriesResponse(
            deliveries=[delivery_to_proto(d, caller) for d in found]
        )

    async def ListMyDeliveries(self, request, context):
        caller = _caller()
        if request.role == pb.DELIVERY_ROLE_UNSPECIFIED:
            raise InvalidInput("Say whether you ask as the seller or the buyer", field="role")
        page = await self.handlers.list_mine(
            ListMine(
                caller,
                as_seller=request.role == pb.DELIVERY_ROLE_SELLER,
                statuses=statuses_from_proto(list(request.statuses)),
                page_size=request.page_size,
                page_token=request.page_token,
            )
        )
        return pb.ListMyDeliveriesResponse(
            deliveries=[delivery_to_proto(d, caller) for d in page.items],
            next_page_token=page.next_token,
        )

    async def DeliverFiles(self, request, context):
        caller = _caller()
        delivery = await self.handlers.deliver_files(
            caller,
            request.order_id,
            [Upload(f.filename, f.content, f.seat) for f in request.files],
        )
        return pb.DeliverFilesResponse(delivery=delivery_to_proto(delivery, caller))

    async def DeliverBarcodes(self, request, context):
        caller = _caller()
        delivery = await self.handlers.deliver_barcodes(
            caller, request.order_id, list(request.barcodes)
        )
        return pb.DeliverBarcodesResponse(delivery=delivery_to_proto(delivery, caller))

    async def ConfirmMobileTransfer(self, request, context):
        caller = _caller()
        delivery = await self.handlers.confirm_transfer(caller, request.order_id, request.note)
        return pb.ConfirmMobileTransferResponse(delivery=delivery_to_proto(delivery, caller))

    async def GetDeliveryFile(self, request, context):
        found = await self.handlers.get_file(_caller(), request.order_id, request.file_id)
        return pb.GetDeliveryFileResponse(file=file_to_proto(found.file), content=found.content)

    async def GetSellerRecord(self, request, context):
        record = await self.handlers.seller_record(request.seller_id)
        return pb.GetSellerRecordResponse(
            seller_id=record.seller_id, delivered=record.delivered, missed=record.missed
        )
