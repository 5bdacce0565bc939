"""The catalogue domain's events as the integration events consumers receive
(proto/ticketing/events/v1/catalogue.proto): the one place they are mapped, when the unit of work
writes the outbox (`svc_catalogue/adapters/unit_of_work.py`)."""

from __future__ import annotations

from google.protobuf.message import Message

from common.protos import timestamp
from svc_catalogue.domain import events
from svc_catalogue.domain.fees import FeeOverride
from ticketing.events.v1 import catalogue_pb2


def _fees(fees: FeeOverride) -> catalogue_pb2.EventFeeOverride | None:
    if fees.empty:
        return None
    percent, commission = fees.buyer_fee_percent, fees.seller_commission_percent
    return catalogue_pb2.EventFeeOverride(
        buyer_fee_percent="" if percent is None else str(percent),
        buyer_fee_fixed=[
            catalogue_pb2.EventFixedFee(amount=str(a), currency_code=c)
            for c, a in fees.buyer_fee_fixed
        ],
        seller_commission_percent="" if commission is None else str(commission),
    )


def to_integration(event: events.Event) -> Message:
    match event:
        case events.EventChanged():
            venue = event.venue
            return catalogue_pb2.EventChanged(
                id=event.id,
                version=event.version,
                name=event.name,
                performers=[
                    catalogue_pb2.CataloguePerformer(id=p.id, name=p.name) for p in event.performers
                ],
                venue=catalogue_pb2.CatalogueVenue(
                    id=venue.id,
                    name=venue.name,
                    city=venue.city,
                    country=venue.country,
                    time_zone=venue.time_zone,
                ),
                starts_at=timestamp(event.starts_at),
                ends_at=timestamp(event.ends_at),
                category=event.category.value,
                status=event.status.value,
                external_ref=event.external_ref,
                fee_override=_fees(event.fee_override),
            )
        case events.EventStatusChanged():
            return catalogue_pb2.EventStatusChanged(
                id=event.id,
                version=event.version,
                status=event.status.value,
                previous_status=event.previous_status.value,
                starts_at=timestamp(event.starts_at),
                ends_at=timestamp(event.ends_at),
            )
    raise TypeError(f"no integration event for {event!r}")
