"""Deliveries as DeliveryService's messages."""

from __future__ import annotations

from common.protos import timestamp
from svc_delivery.domain.deliveries import DeliveredFile, Delivery
from svc_delivery.domain.methods import DeliveryStatus
from svc_delivery.service_layer.commands import Caller
from ticketing.delivery.v1 import delivery_pb2 as pb


def file_to_proto(file: DeliveredFile) -> pb.DeliveryFile:
    return pb.DeliveryFile(
        id=file.id,
        filename=file.filename,
        content_type=file.content_type,
        size=file.size,
        seat=file.seat,
    )


def delivery_to_proto(delivery: Delivery, caller: Caller) -> pb.Delivery:
    """The delivery as the caller may see it: its files' descriptions and barcodes only for
    those who may read its contents (the buyer once paid, the seller, an admin)."""
    message = pb.Delivery(
        order_id=delivery.order_id,
        seller_id=delivery.seller_id,
        buyer_id=delivery.buyer_id,
        listing_id=delivery.listing_id,
        event_id=delivery.event_id,
        method=delivery.method.value,
        status=delivery.status.value,
        deliver_by=timestamp(delivery.deliver_by),
        seat_labels=list(delivery.seat_labels),
        quantity=delivery.quantity,
        transfer_note=delivery.transfer_note,
        version=delivery.version,
    )
    if delivery.delivered_at is not None:
        message.delivered_at.CopyFrom(timestamp(delivery.delivered_at))
    if delivery.contents_visible_to(caller.user_id, caller.is_admin):
        message.files.extend(file_to_proto(f) for f in delivery.files)
        message.barcodes.extend(delivery.barcodes)
    return message


def statuses_from_proto(values: list[int]) -> list[DeliveryStatus]:
    known = {s.value for s in DeliveryStatus}
    return [DeliveryStatus(v) for v in values if v in known]
