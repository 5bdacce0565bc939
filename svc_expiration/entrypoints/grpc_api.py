"""gRPC ExpirationService: an operator's view of the schedule (e.g. with grpcurl).

It asks for no user's token: it reveals only when an order (known by its unguessable id)
expires. Only the operators' tools may call it (`cli`'s service token, entrypoints/access.py);
the gateway does not expose it.
"""

from __future__ import annotations

import grpc

from common.protos import timestamp
from svc_expiration.domain.model import Expiration, ExpirationState
from svc_expiration.service_layer.handlers import ExpirationHandlers
from ticketing.expiration.v1 import expiration_pb2, expiration_pb2_grpc

_STATE = {
    ExpirationState.SCHEDULED: expiration_pb2.EXPIRATION_STATE_SCHEDULED,
    ExpirationState.FIRING: expiration_pb2.EXPIRATION_STATE_FIRING,
}


def expiration_to_proto(expiration: Expiration) -> expiration_pb2.GetExpirationResponse:
    response = expiration_pb2.GetExpirationResponse(
        order_id=expiration.order_id,
        expires_at=timestamp(expiration.expires_at),
        state=_STATE[expiration.state],
    )
    if expiration.lease_until is not None:
        response.lease_until.CopyFrom(timestamp(expiration.lease_until))
    return response


class ExpirationServicer(expiration_pb2_grpc.ExpirationServiceServicer):
    def __init__(self, handlers: ExpirationHandlers) -> None:
        self.handlers = handlers

    async def GetExpiration(
        self, request: expiration_pb2.GetExpirationRequest, context: grpc.aio.ServicerContext
    ):
        return expiration_to_proto(await self.handlers.get_expiration(request.order_id))
