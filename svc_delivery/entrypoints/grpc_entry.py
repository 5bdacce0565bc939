"""DeliveryService's entry RPCs (scanners, scans, the offline kit and its sync): a mixin of the
servicer (`grpc_api.DeliveryServicer`), requests to `EntryHandlers` calls and answers back."""

from __future__ import annotations

import json

from common.errors import InvalidInput
from common.grpc_server import current_user
from common.protos import from_timestamp, timestamp
from svc_delivery.domain.entry import Admission, DoubleAdmission, ScanOutcome
from svc_delivery.service_layer.commands import Caller
from svc_delivery.service_layer.entry import EntryHandlers, OfflineAdmission
from ticketing.delivery.v1 import delivery_pb2 as pb

OUTCOMES = {
    ScanOutcome.VALID: pb.SCAN_OUTCOME_VALID,
    ScanOutcome.ALREADY_SCANNED: pb.SCAN_OUTCOME_ALREADY_SCANNED,
    ScanOutcome.REVOKED: pb.SCAN_OUTCOME_REVOKED,
    ScanOutcome.WRONG_EVENT: pb.SCAN_OUTCOME_WRONG_EVENT,
    ScanOutcome.INVALID_SIGNATURE: pb.SCAN_OUTCOME_INVALID_SIGNATURE,
}


def _caller() -> Caller:
    claims = current_user()
    return Caller(claims.user_id, claims.is_admin)


def double_to_proto(double: DoubleAdmission) -> pb.DoubleAdmission:
    kept, also = double.kept, double.also
    return pb.DoubleAdmission(
        pass_id=double.pass_id,
        entry_admission_id=kept.id,
        entry_at=timestamp(kept.at),
        entry_gate=kept.gate,
        other_admission_id=also.id,
        other_at=timestamp(also.at),
        other_gate=also.gate,
    )


class EntryRpcs:
    entry: EntryHandlers

    async def GrantScanner(self, request, context):
        await self.entry.grant_scanner(_caller(), request.event_id, request.user_id)
        return pb.GrantScannerResponse()

    async def RevokeScanner(self, request, context):
        await self.entry.revoke_scanner(_caller(), request.event_id, request.user_id)
        return pb.RevokeScannerResponse()

    async def ListScanners(self, request, context):
        users = await self.entry.list_scanners(_caller(), request.event_id)
        return pb.ListScannersResponse(user_ids=users)

    async def ListMyScannerEvents(self, request, context):
        events = await self.entry.my_scanner_events(_caller())
        return pb.ListMyScannerEventsResponse(event_ids=events)

    async def Scan(self, request, context):
        answer = await self.entry.scan(_caller(), request.event_id, request.code, request.gate)
        scan = answer.scan
        reply = pb.ScanResponse(outcome=OUTCOMES[scan.outcome], seat_label=answer.seat_label)
        if scan.code is not None:
            reply.pass_id = scan.code.pass_id
        admission: Admission | None = scan.admission
        if admission is not None:
            reply.admitted_at.CopyFrom(timestamp(admission.at))
            reply.gate = admission.gate
        return reply

    async def GetOfflineKit(self, request, context):
        kit = await self.entry.offline_kit(_caller(), request.event_id)
        return pb.GetOfflineKitResponse(kit_json=json.dumps(kit.to_document()))

    async def SyncAdmissions(self, request, context):
        sent = []
        for index, made in enumerate(request.admissions):
            if not made.HasField("admitted_at"):
                field = f"admissions[{index}].admitted_at"
                raise InvalidInput("An admission says when it was made", field=field)
            sent.append(
                OfflineAdmission(made.id, made.code, from_timestamp(made.admitted_at), made.gate)
            )
        result = await self.entry.sync(_caller(), request.event_id, sent)
        return pb.SyncAdmissionsResponse(
            recorded=result.recorded,
            double_admissions=[double_to_proto(d) for d in result.doubles],
            rejected_ids=result.rejected_ids,
        )

    async def ListDoubleAdmissions(self, request, context):
        found = await self.entry.double_admissions(_caller(), request.event_id)
        return pb.ListDoubleAdmissionsResponse(
            double_admissions=[double_to_proto(d) for d in found]
        )
