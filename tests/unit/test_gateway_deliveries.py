"""Deliveries through the GraphQL API (issue 22) against a stand-in delivery service: an order's
delivery read in one BatchGetDeliveries per request, the caller's deliveries by role, a seller's
public record, the barcode and mobile-transfer mutations with the service's refusals as
userErrors, a listing's optional deadline. (The file routes: test_gateway_delivery_files.py.)"""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from common.errors import Conflict, InvalidInput, NotFound
from common.protos import timestamp
from gateway.types.deliveries import file_ref
from tests.unit.gateway_v1_world import (
    CALLER,
    SELLER,
    START,
    Services,
    errors,
    gid,
    oid,
    run,
    tid,
)
from ticketing.delivery.v1 import delivery_pb2
from ticketing.tickets.v1 import tickets_pb2

PDF = b"%PDF-1.7\n" + b"x" * 100
FILE_ID = "f1"


def delivery(i: int, **fields) -> delivery_pb2.Delivery:
    values = {
        "order_id": oid(i),
        "seller_id": SELLER,
        "buyer_id": CALLER,
        "listing_id": "",
        "method": tickets_pb2.DELIVERY_METHOD_E_TICKET,
        "status": delivery_pb2.DELIVERY_STATUS_DUE,
        "deliver_by": timestamp(START),
        "quantity": 2,
        "seat_labels": ["A1", "A2"],
    } | fields
    return delivery_pb2.Delivery(**values)


class DeliveryServices(Services):
    def __init__(self) -> None:
        super().__init__()
        self.deliveries = [
            delivery(
                0,
                status=delivery_pb2.DELIVERY_STATUS_DELIVERED,
                delivered_at=timestamp(START),
                files=[
                    delivery_pb2.DeliveryFile(
                        id=FILE_ID,
                        filename="tickets.pdf",
                        content_type="application/pdf",
                        size=len(PDF),
                        seat=-1,
                    )
                ],
            ),
            delivery(2, method=tickets_pb2.DELIVERY_METHOD_BARCODE),
        ]
        self.delivery = SimpleNamespace(
            **{
                m: f"delivery.{m}"
                for m in (
                    "BatchGetDeliveries",
                    "ListMyDeliveries",
                    "DeliverBarcodes",
                    "ConfirmMobileTransfer",
                    "GetSellerRecord",
                    "DeliverFiles",
                    "GetDeliveryFile",
                )
            }
        )

    def BatchGetDeliveries(self, r):
        found = [d for d in self.deliveries if d.order_id in r.order_ids]
        return delivery_pb2.BatchGetDeliveriesResponse(deliveries=found)

    def ListMyDeliveries(self, r):
        page = self.deliveries[:1] if not r.page_token else self.deliveries[1:]
        token = "next-1" if not r.page_token else ""
        return delivery_pb2.ListMyDeliveriesResponse(deliveries=page, next_page_token=token)

    def DeliverBarcodes(self, r):
        done = delivery(
            2,
            method=tickets_pb2.DELIVERY_METHOD_BARCODE,
            status=delivery_pb2.DELIVERY_STATUS_DELIVERED,
            barcodes=list(r.barcodes),
        )
        return delivery_pb2.DeliverBarcodesResponse(delivery=done)

    def ConfirmMobileTransfer(self, r):
        done = delivery(
            3,
            method=tickets_pb2.DELIVERY_METHOD_MOBILE_TRANSFER,
            status=delivery_pb2.DELIVERY_STATUS_DELIVERED,
            transfer_note=r.note,
        )
        return delivery_pb2.ConfirmMobileTransferResponse(delivery=done)

    def GetSellerRecord(self, r):
        return delivery_pb2.GetSellerRecordResponse(seller_id=r.seller_id, delivered=7, missed=1)

    def DeliverFiles(self, r):
        files = [
            delivery_pb2.DeliveryFile(
                id=f"f{i}",
                filename=f.filename,
                content_type="application/pdf",
                size=len(f.content),
                seat=f.seat,
            )
            for i, f in enumerate(r.files)
        ]
        done = delivery(
            r.order_id and 0, status=delivery_pb2.DELIVERY_STATUS_DELIVERED, files=files
        )
        return delivery_pb2.DeliverFilesResponse(delivery=done)

    def GetDeliveryFile(self, r):
        if (r.order_id, r.file_id) != (oid(0), FILE_ID):
            raise NotFound("No such file")
        return delivery_pb2.GetDeliveryFileResponse(
            file=delivery_pb2.DeliveryFile(
                id=FILE_ID, filename='tick"ets\r\n.pdf', content_type="application/pdf"
            ),
            content=PDF,
        )


ORDERS = """{ orders(first: 3) { nodes { delivery {
  status method deliverBy deliveredAt seats barcodes transferNote
  files { filename contentType size seat url }
} } } }"""


async def test_a_page_of_orders_reads_its_deliveries_in_one_call():
    services = DeliveryServices()
    result = await run(services, ORDERS)
    assert result.errors is None, result.errors
    first, second, third = (n["delivery"] for n in result.data["orders"]["nodes"])
    assert first == {
        "status": "DELIVERED",
        "method": "E_TICKET",
        "deliverBy": "2026-11-01T00:00:00Z",
        "deliveredAt": "2026-11-01T00:00:00Z",
        "seats": ["A1", "A2"],
        "barcodes": [],
        "transferNote": None,
        "files": [
            {
                "filename": "tickets.pdf",
                "contentType": "application/pdf",
                "size": len(PDF),
                "seat": None,
                "url": f"/api/delivery-files/{file_ref(oid(0), FILE_ID)}",
            }
        ],
    }
    assert second is None  # the service has no delivery for it
    assert (third["status"], third["method"], third["deliveredAt"]) == ("DUE", "BARCODE", None)
    [asked] = services.asked("delivery.BatchGetDeliveries")
    assert list(asked.order_ids) == [oid(0), oid(1), oid(2)]


async def test_the_delivery_service_down_costs_the_delivery_field_only():
    services = DeliveryServices()
    services.down.add("delivery")
    result = await run(services, "{ orders(first: 2) { nodes { status delivery { status } } } }")
    assert result.data["orders"]["nodes"] == [
        {"status": "CREATED", "delivery": None},
        {"status": "CREATED", "delivery": None},
    ]
    assert errors(result) == [
        (["orders", "nodes", 0, "delivery"], "UNAVAILABLE"),
        (["orders", "nodes", 1, "delivery"], "UNAVAILABLE"),
    ]


DELIVERIES = """query($after: String) {
  deliveries(role: SELLER, statuses: [DUE], first: 5, after: $after) {
    nodes { orderRef status }
    pageInfo { hasNextPage hasPreviousPage endCursor }
  }
}"""


async def test_a_seller_pages_their_deliveries_by_the_services_token():
    services = DeliveryServices()
    first = await run(services, DELIVERIES)
    assert first.errors is None, first.errors
    assert first.data["deliveries"] == {
        "nodes": [{"orderRef": gid("Order", oid(0)), "status": "DELIVERED"}],
        "pageInfo": {"hasNextPage": True, "hasPreviousPage": False, "endCursor": "next-1"},
    }
    second = await run(services, DELIVERIES, {"after": "next-1"})
    assert second.data["deliveries"]["pageInfo"] == {
        "hasNextPage": False,
        "hasPreviousPage": True,
        "endCursor": None,
    }
    asked = services.asked("delivery.ListMyDeliveries")
    assert [(a.role, list(a.statuses), a.page_size, a.page_token) for a in asked] == [
        (delivery_pb2.DELIVERY_ROLE_SELLER, [delivery_pb2.DELIVERY_STATUS_DUE], 5, ""),
        (delivery_pb2.DELIVERY_ROLE_SELLER, [delivery_pb2.DELIVERY_STATUS_DUE], 5, "next-1"),
    ]


async def test_deliveries_page_forwards_only_and_need_a_signed_in_caller():
    services = DeliveryServices()
    backwards = await run(services, "{ deliveries(role: BUYER, last: 2) { nodes { status } } }")
    assert errors(backwards) == [(["deliveries"], "BAD_USER_INPUT")]
    signed_out = await run(
        services, "{ deliveries(role: BUYER) { nodes { status } } }", signed_in=False
    )
    assert errors(signed_out) == [(["deliveries"], "UNAUTHENTICATED")]
    assert services.asked("delivery.ListMyDeliveries") == []


async def test_a_listings_seller_shows_their_public_delivery_record_read_once():
    services = DeliveryServices()
    result = await run(
        services,
        "{ tickets(first: 3) { nodes { seller { deliveryRecord { delivered missed } } } } }",
        signed_in=False,
    )
    assert result.errors is None, result.errors
    assert result.data["tickets"]["nodes"] == 3 * [
        {"seller": {"deliveryRecord": {"delivered": 7, "missed": 1}}}
    ]
    # Three listings of one seller: their record is read once.
    [asked] = services.asked("delivery.GetSellerRecord")
    assert asked.seller_id == SELLER


BARCODES = """mutation($input: DeliverBarcodesInput!) {
  deliverBarcodes(input: $input) { delivery { status barcodes } userErrors { code field message } }
}"""


async def test_a_seller_delivers_barcodes():
    services = DeliveryServices()
    variables = {"input": {"orderId": gid("Order", oid(2)), "barcodes": [" AB12-34 ", "CD56"]}}
    result = await run(services, BARCODES, variables)
    assert result.errors is None, result.errors
    assert result.data["deliverBarcodes"] == {
        "delivery": {"status": "DELIVERED", "barcodes": ["AB12-34", "CD56"]},
        "userErrors": [],
    }
    [asked] = services.asked("delivery.DeliverBarcodes")
    assert asked.order_id == oid(2)


@pytest.mark.parametrize(
    ("refusal", "code", "field"),
    [
        (InvalidInput("Give one barcode per seat", field="barcodes"), "BAD_USER_INPUT", "barcodes"),
        (Conflict("The order is not paid", field="order_id"), "CONFLICT", "orderId"),
        (NotFound("Order not found"), "NOT_FOUND", "orderId"),
    ],
)
async def test_the_services_refusals_are_user_errors_at_their_input(refusal, code, field):
    services = DeliveryServices()
    services.fail["DeliverBarcodes"] = refusal
    variables = {"input": {"orderId": gid("Order", oid(2)), "barcodes": ["AB12"]}}
    result = await run(services, BARCODES, variables)
    assert result.errors is None, result.errors
    assert result.data["deliverBarcodes"] == {
        "delivery": None,
        "userErrors": [{"code": code, "field": ["input", field], "message": refusal.message}],
    }


async def test_an_order_id_of_another_type_is_not_found_without_a_call():
    services = DeliveryServices()
    variables = {"input": {"orderId": gid("Ticket", oid(2)), "barcodes": ["AB12"]}}
    result = await run(services, BARCODES, variables)
    [user_error] = result.data["deliverBarcodes"]["userErrors"]
    assert (user_error["code"], user_error["field"]) == ("NOT_FOUND", ["input", "orderId"])
    assert services.asked("delivery.DeliverBarcodes") == []


async def test_a_seller_confirms_a_mobile_transfer_with_a_note():
    services = DeliveryServices()
    result = await run(
        services,
        """mutation($input: ConfirmMobileTransferInput!) {
          confirmMobileTransfer(input: $input) {
            delivery { status method transferNote } userErrors { code field }
          }
        }""",
        {"input": {"orderId": gid("Order", oid(3)), "note": " to buyer@example.com "}},
    )
    assert result.errors is None, result.errors
    assert result.data["confirmMobileTransfer"] == {
        "delivery": {
            "status": "DELIVERED",
            "method": "MOBILE_TRANSFER",
            "transferNote": "to buyer@example.com",
        },
        "userErrors": [],
    }


async def test_a_note_too_long_is_refused_before_the_service():
    services = DeliveryServices()
    result = await run(
        services,
        """mutation($input: ConfirmMobileTransferInput!) {
          confirmMobileTransfer(input: $input) { delivery { status } userErrors { code field } }
        }""",
        {"input": {"orderId": gid("Order", oid(3)), "note": "x" * 501}},
    )
    assert result.data["confirmMobileTransfer"] == {
        "delivery": None,
        "userErrors": [{"code": "BAD_USER_INPUT", "field": ["input", "note"]}],
    }
    assert services.asked("delivery.ConfirmMobileTransfer") == []


class ListingServices(DeliveryServices):
    def CreateTicket(self, r):
        ticket = tickets_pb2.Ticket(
            id=tid(99),
            price=r.price,
            currency_code=r.currency_code,
            user_id=CALLER,
            quantity=r.quantity,
            event_id=r.event_id,
            create_time=timestamp(START),
        )
        if r.HasField("deliver_by"):
            ticket.deliver_by.CopyFrom(r.deliver_by)
        return tickets_pb2.CreateTicketResponse(ticket=ticket)


CREATE_LISTING = """mutation($input: CreateListingInput!) {
  createListing(input: $input) { listing { deliverBy } userErrors { code field } }
}"""


@pytest.mark.parametrize("deliver_by", ["2026-11-20T18:00:00Z", None])
async def test_a_listing_takes_an_optional_delivery_deadline(deliver_by):
    services = ListingServices()
    listing = {
        "eventId": gid("Event", "50000000-0000-4000-8000-000000000000"),
        "quantity": 2,
        "price": {"amount": "20", "currencyCode": "EUR"},
        "idempotencyKey": "k1",
    }
    if deliver_by:
        listing["deliverBy"] = deliver_by
    result = await run(services, CREATE_LISTING, {"input": listing})
    assert result.errors is None, result.errors
    assert result.data["createListing"] == {
        "listing": {"deliverBy": deliver_by},
        "userErrors": [],
    }
    [asked] = services.asked("tickets.CreateTicket")
    assert asked.HasField("deliver_by") is bool(deliver_by)
