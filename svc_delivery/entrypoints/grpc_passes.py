"""The passes' RPCs of DeliveryService (a part of `grpc_api.DeliveryServicer`): requests to the
pass handlers, passes to messages as their caller may see them."""

from __future__ import annotations

import json

from common.grpc_server import current_user
from common.protos import timestamp
from svc_delivery.domain.passes import Pass, PassState
from svc_delivery.service_layer.commands import Caller
from svc_delivery.service_layer.passes import PassHandlers, PassView
from ticketing.delivery.v1 import delivery_pb2 as pb

STATES = {
    PassState.ACTIVE: pb.PASS_STATE_ACTIVE,
    PassState.TRANSFER_OFFERED: pb.PASS_STATE_TRANSFER_OFFERED,
    PassState.LISTED_FOR_RESALE: pb.PASS_STATE_LISTED_FOR_RESALE,
    PassState.VOID: pb.PASS_STATE_VOID,
}


def caller_with_email() -> Caller:
    claims = current_user()
    return Caller(claims.user_id, claims.is_admin, claims.email)


def pass_to_proto(view: PassView) -> pb.Pass:
    one = view.pass_
    message = pb.Pass(
        id=one.id,
        event_id=one.event_id,
        order_id=one.order_id,
        seat=one.seat,
        seat_label=one.seat_label,
        holder_id=one.holder_id if view.shows_holder else "",
        serial=one.serial,
        state=STATES[one.state],
        code=view.code,
        offered_to_email=(one.offered_to or "") if view.shows_holder else "",
        issued_at=timestamp(one.issued_at),
        version=one.version,
    )
    if view.entered_at is not None:
        message.entered_at.CopyFrom(timestamp(view.entered_at))
    return message


def incoming_to_proto(one: Pass) -> pb.IncomingTransfer:
    message = pb.IncomingTransfer(pass_id=one.id, event_id=one.event_id, seat_label=one.seat_label)
    if one.offered_at is not None:
        message.offered_at.CopyFrom(timestamp(one.offered_at))
    return message


class PassRpcs:
    passes: PassHandlers

    async def ListMyPasses(self, request, context):
        page = await self.passes.list_mine(
            caller_with_email(), request.event_id, request.page_size, request.page_token
        )
        return pb.ListMyPassesResponse(
            passes=[pass_to_proto(v) for v in page.items], next_page_token=page.next_token
        )

    async def ListOrderPasses(self, request, context):
        views = await self.passes.list_order(caller_with_email(), request.order_id)
        return pb.ListOrderPassesResponse(passes=[pass_to_proto(v) for v in views])

    async def GetPass(self, request, context):
        view = await self.passes.get(caller_with_email(), request.pass_id)
        return pb.GetPassResponse(**{"pass": pass_to_proto(view)})

    async def OfferPassTransfer(self, request, context):
        view = await self.passes.offer(
            caller_with_email(), request.pass_id, request.to_email, request.expected_version
        )
        return pb.OfferPassTransferResponse(**{"pass": pass_to_proto(view)})

    async def WithdrawPassTransfer(self, request, context):
        view = await self.passes.withdraw(caller_with_email(), request.pass_id)
        return pb.WithdrawPassTransferResponse(**{"pass": pass_to_proto(view)})

    async def ListIncomingTransfers(self, request, context):
        offers = await self.passes.incoming(caller_with_email())
        return pb.ListIncomingTransfersResponse(transfers=[incoming_to_proto(p) for p in offers])

    async def AcceptPassTransfer(self, request, context):
        view = await self.passes.accept(caller_with_email(), request.pass_id)
        return pb.AcceptPassTransferResponse(**{"pass": pass_to_proto(view)})

    async def GetTicketKeys(self, request, context):
        return pb.GetTicketKeysResponse(jwks_json=json.dumps(self.passes.ticket_keys()))
