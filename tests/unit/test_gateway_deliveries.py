"""Deliveries through the GraphQL API (issue 22) against a stand-in delivery service: an order's
delivery read in one BatchGetDeliveries per request, the caller's deliveries by role, a seller's
public record, the barcode and mobile-transfer mutations with the service's refusals as
userErrors; and the HTTP routes that carry e-ticket files (upload: type, size, sign-in, errors;
download: bytes, headers, 404)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from types import SimpleNamespace

import httpx
import pytest
from starlette.applications import Starlette

from common.errors import Conflict, InvalidInput, NotFound, Unauthenticated
from common.jwt import Claims
from common.protos import timestamp
from gateway.delivery_files import delivery_file_routes
from gateway.limits import BodyLimit
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


# -- the file routes


class Verifier:
    async def verify(self, token: str) -> Claims:
        if token != "good":
            raise Unauthenticated("Invalid token")
        return Claims(sub=SELLER, email="s@example.com", iat=0, exp=2**31, jti="j")


class RecordingServices(DeliveryServices):
    """Records the token each call carried."""

    def __init__(self) -> None:
        super().__init__()
        self.tokens: list[str | None] = []
        self.timeout = 5.0

    async def call(self, method, request, token=None, timeout=None):
        self.tokens.append(token)
        return await super().call(method, request, token, timeout)


MAX_UPLOAD = 4096
# A multipart body with an orderId and no file.
NO_FILE = b'--b\r\nContent-Disposition: form-data; name="orderId"\r\n\r\nx\r\n--b--\r\n'


@pytest.fixture
async def files_app() -> AsyncIterator[tuple[httpx.AsyncClient, RecordingServices]]:
    services = RecordingServices()
    accounts = SimpleNamespace(verifier=Verifier())
    routes = delivery_file_routes(accounts, services, MAX_UPLOAD)  # type: ignore[arg-type]
    # The gateway's own body limit is far smaller: the upload route has a limit of its own.
    app = BodyLimit(Starlette(routes=routes), max_bytes=64, own_limits=["/api/deliveries/files"])
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
        yield client, services


def upload(client: httpx.AsyncClient, files: dict, *, token: str | None = "good", order=None):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    data = {"orderId": order or gid("Order", oid(0))}
    return client.post("/api/deliveries/files", data=data, files=files, headers=headers)


async def test_a_seller_uploads_one_file_per_seat(files_app):
    client, services = files_app
    files = [
        ("seat-0", ("a1.pdf", PDF, "application/pdf")),
        ("seat-1", ("a2.pkpass", b"PK\x03\x04pass", "application/vnd.apple.pkpass")),
    ]
    response = await upload(client, files)
    assert response.status_code == 200, response.text
    body = response.json()["delivery"]
    assert body["status"] == "DELIVERED"
    assert [(f["filename"], f["seat"], f["size"]) for f in body["files"]] == [
        ("a1.pdf", 0, len(PDF)),
        ("a2.pkpass", 1, 8),
    ]
    [asked] = services.asked("delivery.DeliverFiles")
    assert asked.order_id == oid(0)
    assert [(f.filename, f.content, f.seat) for f in asked.files] == [
        ("a1.pdf", PDF, 0),
        ("a2.pkpass", b"PK\x03\x04pass", 1),
    ]
    assert services.tokens == ["good"]


async def test_one_file_for_every_seat_is_sent_as_seat_minus_one(files_app):
    client, services = files_app
    response = await upload(client, {"file": ("all.pdf", PDF, "application/pdf")})
    assert response.status_code == 200, response.text
    [asked] = services.asked("delivery.DeliverFiles")
    assert [f.seat for f in asked.files] == [-1]


async def test_an_upload_past_the_limit_is_refused_with_413(files_app):
    client, services = files_app
    big = b"%PDF-" + b"x" * MAX_UPLOAD
    response = await upload(client, {"file": ("big.pdf", big, "application/pdf")})
    assert response.status_code == 413
    assert response.json()["errors"][0]["code"] == "PAYLOAD_TOO_LARGE"
    assert services.asked("delivery.DeliverFiles") == []


async def test_an_upload_needs_a_signed_in_caller(files_app):
    client, services = files_app
    for token in (None, "forged"):
        response = await upload(client, {"file": ("a.pdf", PDF, "application/pdf")}, token=token)
        assert response.status_code == 401
        assert response.json()["errors"][0]["code"] == "UNAUTHENTICATED"
    assert services.asked("delivery.DeliverFiles") == []


@pytest.mark.parametrize(
    ("request_kwargs", "field"),
    [
        ({"json": {"orderId": "x"}}, None),  # not multipart
        ({"data": {"orderId": "x"}}, None),  # urlencoded: not multipart either
        (
            {
                "content": NO_FILE,
                "headers": {"Content-Type": "multipart/form-data; boundary=b"},
            },
            "files",
        ),  # no file
        ({"files": {"file": ("a.pdf", PDF, "application/pdf")}}, "orderId"),  # no order
        ({"data": {"orderId": "x"}, "files": {"file": ("a.pdf", b"", "application/pdf")}}, "files"),
        ({"data": {"orderId": "x"}, "files": {"photo": ("a.pdf", PDF, "application/pdf")}}, None),
    ],
)
async def test_bad_uploads_are_400_with_a_clear_error(files_app, request_kwargs, field):
    client, services = files_app
    headers = {"Authorization": "Bearer good", **request_kwargs.pop("headers", {})}
    response = await client.post("/api/deliveries/files", headers=headers, **request_kwargs)
    assert response.status_code == 400, response.text
    [error] = response.json()["errors"]
    assert error["code"] == "BAD_USER_INPUT" and error["message"]
    assert error.get("field") == field
    assert services.asked("delivery.DeliverFiles") == []


@pytest.mark.parametrize(
    ("refusal", "status", "code"),
    [
        (InvalidInput("The file is not a PDF or a PKPass", field="files"), 400, "BAD_USER_INPUT"),
        (Conflict("The deadline has passed", field="order_id"), 409, "CONFLICT"),
        (NotFound("Order not found"), 404, "NOT_FOUND"),
    ],
)
async def test_the_services_refusals_of_an_upload_are_4xx(files_app, refusal, status, code):
    client, services = files_app
    services.fail["DeliverFiles"] = refusal
    response = await upload(client, {"file": ("a.txt", b"hello", "text/plain")})
    assert response.status_code == status
    [error] = response.json()["errors"]
    assert (error["code"], error["message"]) == (code, refusal.message)


async def test_an_unknown_order_id_is_404_without_a_call(files_app):
    client, services = files_app
    response = await upload(
        client, {"file": ("a.pdf", PDF, "application/pdf")}, order=gid("Ticket", oid(0))
    )
    assert response.status_code == 404
    assert services.asked("delivery.DeliverFiles") == []


async def test_a_file_downloads_with_its_type_and_a_safe_attachment_name(files_app):
    client, services = files_app
    response = await client.get(
        f"/api/delivery-files/{file_ref(oid(0), FILE_ID)}",
        headers={"Authorization": "Bearer good"},
    )
    assert response.status_code == 200
    assert response.content == PDF
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["content-disposition"] == 'attachment; filename="tick_ets__.pdf"'
    assert response.headers["cache-control"] == "private, no-store"
    [asked] = services.asked("delivery.GetDeliveryFile")
    assert (asked.order_id, asked.file_id) == (oid(0), FILE_ID)


async def test_a_file_not_the_callers_or_made_up_is_404(files_app):
    client, services = files_app
    for ref in (file_ref(oid(1), FILE_ID), "not-a-file-id", file_ref("../etc", "x")):
        response = await client.get(
            f"/api/delivery-files/{ref}", headers={"Authorization": "Bearer good"}
        )
        assert response.status_code == 404, ref
        assert response.json()["errors"][0]["code"] == "NOT_FOUND"
    assert len(services.asked("delivery.GetDeliveryFile")) == 1  # the well-formed one only
    signed_out = await client.get(f"/api/delivery-files/{file_ref(oid(0), FILE_ID)}")
    assert signed_out.status_code == 401


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
