"""Deliveries (issue 22): the caller's as a seller or a buyer (`deliveries`), and a seller's
barcodes and mobile transfers (`deliverBarcodes`, `confirmMobileTransfer`), all from the
delivery service. E-ticket files are uploaded over HTTP (gateway/delivery_files.py)."""

from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry import UNSET

from common.errors import InvalidInput
from gateway import global_ids
from gateway.context import Info
from gateway.cost import Cost
from gateway.paging import After, Before, Last, first_argument, window
from gateway.resolvers.shared import CONNECTION, INPUT, MUTATION, user_errors_field
from gateway.types.common import PageInfo, UserError
from gateway.types.deliveries import (
    Delivery,
    DeliveryConnection,
    DeliveryRole,
    DeliveryStatus,
)
from gateway.user_errors import expected_failures
from ticketing.delivery.v1 import delivery_pb2

DEFAULT_PAGE_SIZE = 20
MAX_BARCODES = 100
MAX_NOTE_CHARS = 500
ERRORS = (
    "userErrors: BAD_USER_INPUT, NOT_FOUND (orderId), FORBIDDEN (not the order's seller), "
    "CONFLICT (orderId: not paid, delivered already, past its deadline, or another delivery "
    "method). Top-level UNAUTHENTICATED when signed out."
)


@strawberry.input(description="A seller's barcodes for an order's seats.")
class DeliverBarcodesInput:
    order_id: strawberry.ID = strawberry.field(description="The order sold.")
    barcodes: list[str] = strawberry.field(
        description="One per seat, in seat order: 4 to 64 of [A-Za-z0-9-] each "
        "(BAD_USER_INPUT otherwise, or for another count than the order's seats)."
    )


@strawberry.type(description="The delivery with its barcodes.")
class DeliverBarcodesPayload:
    delivery: Delivery | None = strawberry.field(description="The delivery; null when refused.")
    user_errors: list[UserError] = user_errors_field()


@strawberry.input(description="A seller's word that they moved the seats in the venue's app.")
class ConfirmMobileTransferInput:
    order_id: strawberry.ID = strawberry.field(description="The order sold.")
    note: str = strawberry.field(
        default="",
        description=f"For the buyer, e.g. the account the seats went to; at most "
        f"{MAX_NOTE_CHARS} characters (BAD_USER_INPUT beyond).",
    )


@strawberry.type(description="The delivery, confirmed.")
class ConfirmMobileTransferPayload:
    delivery: Delivery | None = strawberry.field(description="The delivery; null when refused.")
    user_errors: list[UserError] = user_errors_field()


@strawberry.type
class DeliveryQuery:
    @strawberry.field(
        description="The caller's deliveries as a seller (what they must deliver) or as a "
        f"buyer, newest first, forwards only: first 1-100, default {DEFAULT_PAGE_SIZE}; "
        "BAD_USER_INPUT (extensions.field) for a size out of range, last/before, or a cursor "
        "that does not decode. UNAUTHENTICATED when signed out.",
        directives=[Cost(weight=1), CONNECTION],
    )
    async def deliveries(
        self,
        info: Info,
        role: Annotated[DeliveryRole, strawberry.argument(description="Sold or bought.")],
        statuses: Annotated[
            list[DeliveryStatus] | None,
            strawberry.argument(description="Only these statuses; null or empty: all."),
        ] = None,
        first: Annotated[int | None, first_argument(DEFAULT_PAGE_SIZE)] = DEFAULT_PAGE_SIZE,
        after: After = UNSET,
        last: Last = UNSET,
        before: Before = UNSET,
    ) -> DeliveryConnection | None:
        ctx = info.context
        await ctx.require_user()
        asked = window(info, first, after, last, before, default=DEFAULT_PAGE_SIZE)
        if asked.backward:
            raise InvalidInput("Deliveries are paged forwards only (first/after)", field="last")
        request = delivery_pb2.ListMyDeliveriesRequest(
            role=role.to_proto(),  # type: ignore[arg-type]
            statuses=[s.to_proto() for s in statuses or ()],  # type: ignore[misc]
            page_size=asked.size,
            page_token=asked.after,
        )
        reply = await ctx.call(ctx.clients.delivery.ListMyDeliveries, request)
        nodes: list[Delivery | None] = [Delivery.from_proto(d) for d in reply.deliveries]
        return DeliveryConnection(
            nodes=nodes,
            page_info=PageInfo.forwards(asked.after, reply.next_page_token),
        )


@strawberry.type
class DeliveryMutation:
    @strawberry.mutation(
        description="The seller delivers an order's seats as barcodes (a BARCODE listing's "
        f"order, once paid and before its deadline). {ERRORS}",
        directives=MUTATION,
    )
    async def deliver_barcodes(
        self, info: Info, input: Annotated[DeliverBarcodesInput, INPUT]
    ) -> DeliverBarcodesPayload | None:
        ctx = info.context
        await ctx.require_user()
        with expected_failures(subject="orderId") as outcome:
            if len(input.barcodes) > MAX_BARCODES:
                raise InvalidInput(f"At most {MAX_BARCODES} barcodes", field="barcodes")
            request = delivery_pb2.DeliverBarcodesRequest(
                order_id=global_ids.decode(input.order_id, "Order", field="orderId"),
                barcodes=[b.strip() for b in input.barcodes],
            )
            reply = await ctx.call(ctx.clients.delivery.DeliverBarcodes, request)
            return DeliverBarcodesPayload(
                delivery=Delivery.from_proto(reply.delivery), user_errors=[]
            )
        return DeliverBarcodesPayload(delivery=None, user_errors=outcome.user_errors)

    @strawberry.mutation(
        description="The seller confirms they moved an order's seats to the buyer in the "
        "venue's own app (a MOBILE_TRANSFER listing's order, once paid and before its "
        f"deadline). {ERRORS}",
        directives=MUTATION,
    )
    async def confirm_mobile_transfer(
        self, info: Info, input: Annotated[ConfirmMobileTransferInput, INPUT]
    ) -> ConfirmMobileTransferPayload | None:
        ctx = info.context
        await ctx.require_user()
        with expected_failures(subject="orderId") as outcome:
            note = input.note.strip()
            if len(note) > MAX_NOTE_CHARS:
                raise InvalidInput(
                    f"The note is longer than {MAX_NOTE_CHARS} characters", field="note"
                )
            request = delivery_pb2.ConfirmMobileTransferRequest(
                order_id=global_ids.decode(input.order_id, "Order", field="orderId"),
                note=note,
            )
            reply = await ctx.call(ctx.clients.delivery.ConfirmMobileTransfer, request)
            return ConfirmMobileTransferPayload(
                delivery=Delivery.from_proto(reply.delivery), user_errors=[]
            )
        return ConfirmMobileTransferPayload(delivery=None, user_errors=outcome.user_errors)
