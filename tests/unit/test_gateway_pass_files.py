"""The HTTP routes of passes (issue 22, gateway/pass_files.py) against a stand-in delivery
service: the public ticket keys (cacheable), and a pass's PDF for its holder: a PDF whose image is
the QR code of the pass's code module for module, 404 for anyone else's or a made-up id, 401
signed out."""

from __future__ import annotations

import io
import json
import re
import struct
import zlib
from collections.abc import AsyncIterator
from types import SimpleNamespace

import httpx
import pytest
from PIL import Image
from starlette.applications import Starlette

from common.errors import Unauthenticated, Unavailable
from common.jwt import Claims
from gateway.pass_files import QR_SCALE, pass_file_routes, qr_matrix
from tests.unit.gateway_v1_world import CALLER, gid, oid
from tests.unit.test_gateway_passes import CODE, PassServices, a_pass, pid
from ticketing.delivery.v1 import delivery_pb2

JWKS = {"keys": [{"kty": "OKP", "crv": "Ed25519", "kid": "k1", "x": "abc"}]}


class Verifier:
    async def verify(self, token: str) -> Claims:
        if token != "good":
            raise Unauthenticated("Invalid token")
        return Claims(sub=CALLER, email="me@example.com", iat=0, exp=2**31, jti="j")


class RecordingServices(PassServices):
    def __init__(self) -> None:
        super().__init__()
        self.tokens: list[str | None] = []

    async def call(self, method, request, token=None, timeout=None):
        self.tokens.append(token)
        return await super().call(method, request, token, timeout)

    def GetTicketKeys(self, r):
        return delivery_pb2.GetTicketKeysResponse(jwks_json=json.dumps(JWKS))


@pytest.fixture
async def passes_app() -> AsyncIterator[tuple[httpx.AsyncClient, RecordingServices]]:
    services = RecordingServices()
    accounts = SimpleNamespace(verifier=Verifier())
    app = Starlette(routes=pass_file_routes(accounts, services))  # type: ignore[arg-type]
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
        yield client, services


def pdf_url(raw: str) -> str:
    return f"/api/passes/{gid('Pass', raw)}.pdf"


def qr_image(pdf: bytes) -> Image.Image:
    """The PDF's one image (1 bit, CCITT G4 as fpdf2 writes it), decoded by Pillow from a TIFF
    made of the same bytes: BlackIsZero, as the PDF's DeviceGray reads them."""
    [head] = re.finditer(
        rb"/Columns (\d+) /K -1 /Rows (\d+)[^>]*>>\n/Filter /CCITTFaxDecode\n/Height \d+\n"
        rb"/Length (\d+)\n/Subtype /Image\n/Type /XObject\n/Width \d+\n>>\nstream\n",
        pdf,
    )
    width, height, size = (int(x) for x in head.groups())
    data = pdf[head.end() : head.end() + size]
    tags = [
        (256, 3, width),
        (257, 3, height),
        (258, 3, 1),  # 1 bit
        (259, 3, 4),  # CCITT group 4 (K -1)
        (262, 3, 1),  # BlackIsZero
        (273, 4, 8),  # the strip right after the header
        (278, 3, height),
        (279, 4, size),
    ]
    ifd = struct.pack("<H", len(tags))
    ifd += b"".join(struct.pack("<HHII", t, kind, 1, v) for t, kind, v in tags) + b"\0" * 4
    image = Image.open(io.BytesIO(b"II*\0" + struct.pack("<I", 8 + size) + data + ifd))
    image.load()
    return image


async def test_the_ticket_keys_are_public_and_cacheable(passes_app):
    client, services = passes_app
    response = await client.get("/.well-known/ticket-keys.json")
    assert response.status_code == 200
    assert response.json() == JWKS
    assert response.headers["content-type"] == "application/jwk-set+json"
    assert response.headers["cache-control"] == "public, max-age=3600"
    assert services.tokens == [None]


async def test_the_ticket_keys_unreachable_are_503(passes_app):
    client, services = passes_app
    services.fail["GetTicketKeys"] = Unavailable("Delivery is unavailable")
    response = await client.get("/.well-known/ticket-keys.json")
    assert response.status_code == 503
    assert response.json()["errors"][0]["code"] == "UNAVAILABLE"


async def test_the_holder_downloads_a_pdf_with_the_qr_of_its_code(passes_app):
    client, services = passes_app
    response = await client.get(pdf_url(pid(0)), headers={"Authorization": "Bearer good"})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["content-disposition"] == 'attachment; filename="ticket-A1.pdf"'
    assert response.headers["cache-control"] == "private, no-store"
    pdf = response.content
    assert pdf.startswith(b"%PDF-")
    assert pdf.rstrip().endswith(b"%%EOF")
    image = qr_image(pdf)
    modules = qr_matrix(f"{CODE}0")
    assert image.size == (len(modules) * QR_SCALE,) * 2
    half = QR_SCALE // 2
    shown = [
        [image.getpixel((x * QR_SCALE + half, y * QR_SCALE + half)) == 0 for x in range(len(row))]
        for y, row in enumerate(modules)
    ]
    assert shown == modules
    assert modules != qr_matrix(f"{CODE}1")  # the comparison tells one code from another
    [asked] = services.asked("delivery.GetPass")
    assert asked.pass_id == pid(0)
    assert services.tokens[0] == "good"


async def test_the_pdf_shows_the_event_the_venue_and_the_seat(passes_app):
    client, _ = passes_app
    response = await client.get(pdf_url(pid(0)), headers={"Authorization": "Bearer good"})
    content = response.content
    text = b"".join(  # fpdf2 compresses the page's content stream
        zlib.decompress(content[found.end() : found.end() + int(found.group(1))])
        for found in re.finditer(rb"/Filter /FlateDecode\n/Length (\d+)\n>>\nstream\n", content)
    )
    assert b"(Concert e0)" in text
    assert b"(Seat: A1)" in text
    assert b"(Hall, Paris)" in text
    assert b"(Sunday 01 November 2026, 01:00 \\(Europe/Paris\\))" in text


@pytest.mark.parametrize(
    "holder",
    [
        "unknown",  # the service does not show the caller the pass: NOT_FOUND
        "no code",  # shown (the order's seller, a previous holder) but not the caller's to enter
    ],
)
async def test_anyone_but_the_holder_gets_404(passes_app, holder):
    client, services = passes_app
    url = pdf_url(pid(9))
    if holder == "no code":
        services.passes[pid(2)] = a_pass(2, code="", order_id=oid(3))
        url = pdf_url(pid(2))
    response = await client.get(url, headers={"Authorization": "Bearer good"})
    assert response.status_code == 404
    assert response.json()["errors"][0]["code"] == "NOT_FOUND"
    assert response.headers["content-type"] == "application/json"


@pytest.mark.parametrize(
    "name",
    [f"{gid('Order', oid(0))}.pdf", f"{gid('Pass', pid(0))}.png", "not%20an%20id.pdf"],
)
async def test_a_name_that_is_no_passs_pdf_is_404_without_a_call(passes_app, name):
    client, services = passes_app
    response = await client.get(f"/api/passes/{name}", headers={"Authorization": "Bearer good"})
    assert response.status_code == 404
    assert services.asked("delivery.GetPass") == []


@pytest.mark.parametrize("token", [None, "forged"])
async def test_the_pdf_needs_a_signed_in_caller(passes_app, token):
    client, services = passes_app
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = await client.get(pdf_url(pid(0)), headers=headers)
    assert response.status_code == 401
    assert response.json()["errors"][0]["code"] == "UNAUTHENTICATED"
    assert services.asked("delivery.GetPass") == []
