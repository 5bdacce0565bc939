"""The HTTP routes that carry e-ticket files (issue 22, gateway/delivery_files.py) against a
stand-in delivery service: the upload (one file per seat or one for all, the route's own size
limit, sign-in, bad bodies, the service's refusals as 4xx) and the download (bytes, type, a safe
attachment name, 404 for another's or a made-up file)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from types import SimpleNamespace

import httpx
import pytest
from starlette.applications import Starlette

from common.errors import Conflict, InvalidInput, NotFound, Unauthenticated
from common.jwt import Claims
from gateway.delivery_files import delivery_file_routes
from gateway.limits import BodyLimit
from gateway.types.deliveries import file_ref
from tests.unit.gateway_v1_world import SELLER, gid, oid
from tests.unit.test_gateway_deliveries import FILE_ID, PDF, DeliveryServices


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
