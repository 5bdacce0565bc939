"""Deliveries as GraphQL types (issue 22), from the delivery service's messages (the one authority
on how a paid order's seats reach the buyer): the delivery, its files, and a seller's record."""

from __future__ import annotations

import base64
import binascii
import re
from enum import Enum

import strawberry

from common.errors import NotFound
from common.protos import from_timestamp
from gateway import global_ids
from gateway.context import Info
from gateway.cost import Cost
from gateway.types.common import PageInfo, list_size
from gateway.types.events import DeliveryMethod, Listing
from gateway.types.scalars import DateTime
from ticketing.delivery.v1 import delivery_pb2

# Where a delivered file's bytes are downloaded: the web app fetches it with its token.
FILES_PATH = "/api/delivery-files"
# Where a seller uploads e-ticket files (multipart/form-data).
UPLOAD_PATH = "/api/deliveries/files"
# A seat's file, or the one file for every seat.
ALL_SEATS = -1
TYPICAL_SEATS = 10

_RAW = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")
_FILE_PREFIX = "DeliveryFile:"


def file_ref(order_id: str, file_id: str) -> str:
    """A delivered file's opaque id (base64url of its order's and its own ids)."""
    text = f"{_FILE_PREFIX}{order_id}:{file_id}"
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def parse_file_ref(ref: str) -> tuple[str, str]:
    """(order id, file id) of a file id this gateway made; NOT_FOUND for anything else."""
    try:
        text = base64.urlsafe_b64decode(ref + "=" * (-len(ref) % 4)).decode()
    except (binascii.Error, ValueError):
        raise NotFound("No such file") from None
    order_id, sep, file_id = text.removeprefix(_FILE_PREFIX).partition(":")
    if (
        len(ref) > 200
        or not text.startswith(_FILE_PREFIX)
        or not sep
        or not _RAW.fullmatch(order_id)
        or not _RAW.fullmatch(file_id)
    ):
        raise NotFound("No such file")
    return order_id, file_id


@strawberry.enum(
    description="Where a delivery stands; DELIVERED, MISSED and CANCELLED are final. New values "
    "may be added (read as null)."
)
class DeliveryStatus(Enum):
    AWAITING_PAYMENT = strawberry.enum_value(
        "AWAITING_PAYMENT", description="The order is not paid yet: nothing is due."
    )
    DUE = strawberry.enum_value("DUE", description="Paid: the seller must deliver by deliverBy.")
    DELIVERED = strawberry.enum_value("DELIVERED", description="The seller delivered.")
    MISSED = strawberry.enum_value(
        "MISSED",
        description="The deadline passed without a delivery: the order is refunded in full.",
    )
    CANCELLED = strawberry.enum_value(
        "CANCELLED", description="The order ended unpaid: nothing will be delivered."
    )

    @classmethod
    def from_proto(cls, value: int) -> DeliveryStatus | None:
        if value == delivery_pb2.DELIVERY_STATUS_UNSPECIFIED:
            return None
        try:
            name = delivery_pb2.DeliveryStatus.Name(value)
        except ValueError:
            return None
        return cls.__members__.get(name.removeprefix("DELIVERY_STATUS_"))

    def to_proto(self) -> int:
        return delivery_pb2.DeliveryStatus.Value(f"DELIVERY_STATUS_{self.value}")


@strawberry.enum(description="Whose deliveries: the caller's as a seller or as a buyer.")
class DeliveryRole(Enum):
    SELLER = strawberry.enum_value("SELLER", description="What the caller sold and must deliver.")
    BUYER = strawberry.enum_value("BUYER", description="What the caller bought.")

    def to_proto(self) -> int:
        return delivery_pb2.DeliveryRole.Value(f"DELIVERY_ROLE_{self.value}")


@strawberry.type(description="An e-ticket file a seller delivered.")
class DeliveryFile:
    id: strawberry.ID = strawberry.field(description="The file's opaque id.")
    filename: str = strawberry.field(description="Its name, as the seller uploaded it.")
    content_type: str = strawberry.field(
        description="application/pdf or application/vnd.apple.pkpass, read from the content."
    )
    size: int = strawberry.field(description="Its size in bytes.")
    seat: int | None = strawberry.field(
        description="The index (from 0) of the order's seat it is for; null when it covers "
        "every seat."
    )
    url: str = strawberry.field(
        description="Where its bytes are downloaded (GET, with the caller's token as for "
        "/graphql): the order's seller and, once paid, its buyer only (404 for anyone else)."
    )

    @classmethod
    def from_proto(cls, order_id: str, f: delivery_pb2.DeliveryFile) -> DeliveryFile:
        ref = file_ref(order_id, f.id)
        return cls(
            id=strawberry.ID(ref),
            filename=f.filename,
            content_type=f.content_type,
            size=f.size,
            seat=None if f.seat < 0 else f.seat,
            url=f"{FILES_PATH}/{ref}",
        )


@strawberry.type(
    description="How a paid order's seats reach the buyer: the seller delivers them by a "
    "deadline (e-ticket files, barcodes or a transfer in the venue's app), or the order is "
    "refunded. Shown to the order's seller and buyer only."
)
class Delivery:
    status: DeliveryStatus | None = strawberry.field(
        description="Where it stands; null for a status this API does not know yet."
    )
    method: DeliveryMethod = strawberry.field(description="How the seats are delivered.")
    deliver_by: DateTime | None = strawberry.field(
        description="The seller's deadline, fixed when the order was placed; null when none "
        "was set."
    )
    delivered_at: DateTime | None = strawberry.field(
        description="When the seller delivered; null until then."
    )
    quantity: int = strawberry.field(description="Seats to deliver.")
    seats: list[str] = strawberry.field(
        description="The seats' labels; empty when the seats are not numbered.",
        directives=[list_size(assumed_size=TYPICAL_SEATS)],
    )
    files: list[DeliveryFile] = strawberry.field(
        description="E_TICKET: the files delivered (one for every seat, or one per seat); "
        "empty otherwise.",
        directives=[list_size(assumed_size=TYPICAL_SEATS)],
    )
    barcodes: list[str] = strawberry.field(
        description="BARCODE: the values, one per seat in seat order; empty until delivered.",
        directives=[list_size(assumed_size=TYPICAL_SEATS)],
    )
    transfer_note: str | None = strawberry.field(
        description="MOBILE_TRANSFER: the seller's note with the confirmation (e.g. the "
        "account the seats went to); null when none."
    )
    order_ref: strawberry.ID = strawberry.field(
        description="The order's global id (a seller reads deliveries of orders that "
        "order(id:) does not show them)."
    )
    listing_id: strawberry.Private[str]
    seller_id: strawberry.Private[str]

    @strawberry.field(
        description="The listing the seats are of, as it is now; null for an order of a v1 "
        "ticket, or with an UNAVAILABLE error when tickets cannot be reached.",
        directives=[Cost(weight=1)],
    )
    async def listing(self, info: Info) -> Listing | None:
        if not self.listing_id:
            return None
        found = await info.context.tickets.load(self.listing_id)
        return None if found is None else Listing.from_proto(found)

    @classmethod
    def from_proto(cls, d: delivery_pb2.Delivery) -> Delivery:
        return cls(
            status=DeliveryStatus.from_proto(d.status),
            method=DeliveryMethod.from_proto(d.method),
            deliver_by=from_timestamp(d.deliver_by) if d.HasField("deliver_by") else None,  # type: ignore[arg-type]
            delivered_at=(
                from_timestamp(d.delivered_at) if d.HasField("delivered_at") else None  # type: ignore[arg-type]
            ),
            quantity=d.quantity or 1,
            seats=list(d.seat_labels),
            files=[DeliveryFile.from_proto(d.order_id, f) for f in d.files],
            barcodes=list(d.barcodes),
            transfer_note=d.transfer_note or None,
            order_ref=strawberry.ID(global_ids.encode("Order", d.order_id)),
            listing_id=d.listing_id,
            seller_id=d.seller_id,
        )


@strawberry.type(
    description="A page of the caller's deliveries, newest first, forwards only: pass "
    "pageInfo.endCursor as `after` for the next page (the page's items carry no cursor each)."
)
class DeliveryConnection:
    nodes: list[Delivery | None] = strawberry.field(description="The page's deliveries.")
    page_info: PageInfo = strawberry.field(
        description="Where this page stands: endCursor is the next page's `after` (null on the "
        "last page); startCursor is always null."
    )
