"""gRPC CatalogueService: requests to commands, events to messages."""

from __future__ import annotations

from common.grpc_server import current_user
from svc_catalogue.entrypoints.proto_mapping import (
    EventMessages,
    event_input,
    event_to_proto,
    facets_to_proto,
    fixed_fees,
    given_time,
    import_result_to_proto,
    import_row,
    search_filter,
    sort_name,
    status_from_proto,
)
from svc_catalogue.service_layer.commands import (
    ChangeEventStatus,
    CreateEvent,
    Operator,
    SearchEvents,
    SetEventFees,
    UpdateEvent,
)
from svc_catalogue.service_layer.handlers import CatalogueHandlers
from svc_catalogue.service_layer.imports import ImportHandlers
from ticketing.catalogue.v1 import catalogue_pb2 as pb
from ticketing.catalogue.v1 import catalogue_pb2_grpc


def _operator() -> Operator:
    claims = current_user()
    return Operator(claims.user_id, claims.is_admin)


class CatalogueServicer(catalogue_pb2_grpc.CatalogueServiceServicer):
    def __init__(self, handlers: CatalogueHandlers, imports: ImportHandlers) -> None:
        self.handlers = handlers
        self.imports = imports
        self.search_pages = EventMessages()

    async def CreateEvent(self, request, context):
        event = await self.handlers.create_event(
            CreateEvent(_operator(), event_input(request.event), request.idempotency_key)
        )
        return pb.CreateEventResponse(event=event_to_proto(event))

    async def UpdateEvent(self, request, context):
        event = await self.handlers.update_event(
            UpdateEvent(
                _operator(), request.id, event_input(request.event), request.expected_version
            )
        )
        return pb.UpdateEventResponse(event=event_to_proto(event))

    async def SetEventFees(self, request, context):
        fees = request.fee_override
        event = await self.handlers.set_fees(
            SetEventFees(
                _operator(),
                request.id,
                fees.buyer_fee_percent,
                fixed_fees(fees),
                fees.seller_commission_percent,
                request.expected_version,
            )
        )
        return pb.SetEventFeesResponse(event=event_to_proto(event))

    async def ChangeEventStatus(self, request, context):
        event = await self.handlers.change_status(
            ChangeEventStatus(
                _operator(),
                request.id,
                status_from_proto(request.status),
                request.expected_version,
                given_time(request, "start_time"),
                given_time(request, "end_time"),
            )
        )
        return pb.ChangeEventStatusResponse(event=event_to_proto(event))

    async def GetEvent(self, request, context):
        event = await self.handlers.get_event(request.id)
        return pb.GetEventResponse(event=event_to_proto(event))

    async def BatchGetEvents(self, request, context):
        events = await self.handlers.batch_get(list(request.ids))
        return pb.BatchGetEventsResponse(events=[event_to_proto(e) for e in events])

    async def SearchEvents(self, request, context):
        events, result, next_token = await self.handlers.search(
            SearchEvents(
                request.query,
                search_filter(request.filter),
                sort_name(request.sort),
                request.page_size,
                request.page_token,
                request.include_cancelled,
                request.offset,
            )
        )
        return pb.SearchEventsResponse(
            events=[self.search_pages.of(e) for e in events],
            total_count=result.total,
            categories=facets_to_proto(result.categories),
            cities=facets_to_proto(result.cities),
            next_page_token=next_token,
        )

    async def ImportEvents(self, request, context):
        results = await self.imports.import_events([import_row(row) for row in request.rows])
        return pb.ImportEventsResponse(results=[import_result_to_proto(r) for r in results])
