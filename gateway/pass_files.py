"""Passes over HTTP (issue 22): the deployment's public ticket keys, and a pass as a PDF for its
holder. The delivery service decides who may read what; the gateway renders.

- `GET /.well-known/ticket-keys.json`: the JWK Set a venue verifies codes with (GetTicketKeys),
  public and cacheable.
- `GET /api/passes/<Pass id>.pdf`: the pass with its QR code, for its holder only, with their
  token as for /graphql (`Authorization: Bearer`, or the session cookie); 404 for a pass the
  caller holds no code of (as for an unknown one), 401 signed out.
"""

from __future__ import annotations

import io
import json
import re
from dataclasses import dataclass
from datetime import UTC
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import segno
from fpdf import FPDF
from google.protobuf.timestamp_pb2 import Timestamp
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from common.errors import AppError, Internal, NotFound, Unauthenticated
from gateway import global_ids
from gateway.accounts import Accounts
from gateway.clients import ServiceClients
from gateway.delivery_files import attachment, error_response
from gateway.session import claims_of, token_of
from gateway.types.passes import PDF_PATH
from ticketing.catalogue.v1 import catalogue_pb2
from ticketing.delivery.v1 import delivery_pb2

KEYS_PATH = "/.well-known/ticket-keys.json"
# How long a venue's device or a cache may keep the key set: a new key is published ahead of
# its use (not_before), so an hour's staleness admits every code.
KEYS_MAX_AGE_SECONDS = 3600
# The QR code: error correction M, quiet zone of 4 modules, each module this many pixels in the
# image embedded (a PDF viewer scales it without smoothing).
QR_ERROR = "m"
QR_BORDER = 4
QR_SCALE = 8
QR_SIZE_MM = 70
_PDF_NAME = re.compile(r"([A-Za-z0-9_-]{1,300})\.pdf")


@dataclass(frozen=True)
class PassSheet:
    """What a pass's PDF shows."""

    event_name: str
    starts_at: str
    venue: str
    seat: str
    serial: int
    code: str


def qr_matrix(code: str) -> list[list[bool]]:
    """The QR code of `code` as rows of dark (True) modules, quiet zone included: what the PDF
    shows, module for module."""
    qr = segno.make_qr(code, error=QR_ERROR, boost_error=False)
    return [[bool(m) for m in row] for row in qr.matrix_iter(scale=1, border=QR_BORDER)]


def _qr_png(code: str) -> bytes:
    out = io.BytesIO()
    qr = segno.make_qr(code, error=QR_ERROR, boost_error=False)
    qr.save(out, kind="png", scale=QR_SCALE, border=QR_BORDER)
    return out.getvalue()


def _latin1(text: str) -> str:
    """Text for the PDF's core font (Latin-1): anything else shown as '?'."""
    return text.encode("latin-1", "replace").decode("latin-1")


def render_pdf(sheet: PassSheet) -> bytes:
    """An A4 page: the event, the seat, what the holder must know, and the QR code."""
    pdf = FPDF(format="A4")
    pdf.set_creator("ticketing")
    pdf.set_title(_latin1(f"Ticket: {sheet.event_name}"))
    pdf.set_auto_page_break(auto=False)
    pdf.add_page()
    width = pdf.w - pdf.l_margin - pdf.r_margin
    pdf.set_font("helvetica", "B", 22)
    pdf.multi_cell(width, 10, _latin1(sheet.event_name), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("helvetica", "", 13)
    for line in (sheet.starts_at, sheet.venue, f"Seat: {sheet.seat}"):
        if line:
            pdf.multi_cell(width, 7, _latin1(line), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(6)
    x = (pdf.w - QR_SIZE_MM) / 2
    pdf.image(io.BytesIO(_qr_png(sheet.code)), x=x, y=pdf.get_y(), w=QR_SIZE_MM, h=QR_SIZE_MM)
    pdf.set_y(pdf.get_y() + QR_SIZE_MM + 6)
    pdf.set_font("helvetica", "", 10)
    notes = (
        "Show this QR code at the doors: it admits one person, once.",
        "It is yours alone: anyone with a copy could enter in your place. Do not post it.",
        "If you transfer this ticket and the recipient accepts it, this code stops working.",
        f"Issue {sheet.serial}.",
    )
    for note in notes:
        pdf.multi_cell(width, 6, _latin1(note), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    pdf.set_font("courier", "", 7)
    pdf.multi_cell(width, 3.5, _latin1(sheet.code), new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def pass_pdf_path(pass_id: str) -> str:
    return f"{PDF_PATH}/{global_ids.encode('Pass', pass_id)}.pdf"


def pass_file_routes(accounts: Accounts, clients: ServiceClients) -> list[Route]:
    async def keys(request: Request) -> Response:
        try:
            reply = await clients.call(
                clients.delivery.GetTicketKeys, delivery_pb2.GetTicketKeysRequest(), None
            )
            try:
                json.loads(reply.jwks_json)
            except ValueError:
                raise Internal(
                    "The delivery service answered a key set that does not parse"
                ) from None
        except AppError as exc:
            return error_response(exc)
        return Response(
            reply.jwks_json,
            media_type="application/jwk-set+json",
            headers={
                "Cache-Control": f"public, max-age={KEYS_MAX_AGE_SECONDS}",
                "Access-Control-Allow-Origin": "*",
            },
        )

    async def pdf(request: Request) -> Response:
        try:
            token = token_of(request)
            if await claims_of(accounts.verifier, token) is None:
                raise Unauthenticated("Sign in first")
            match = _PDF_NAME.fullmatch(request.path_params["name"])
            if match is None:
                raise NotFound("No such pass")
            pass_id = global_ids.decode(match.group(1), "Pass")
            reply = await clients.call(
                clients.delivery.GetPass, delivery_pb2.GetPassRequest(pass_id=pass_id), token
            )
            found = getattr(reply, "pass")
            if not found.code:  # not the holder's (or no longer valid): nothing to show
                raise NotFound("No such pass")
            sheet = await _sheet(clients, found)
        except AppError as exc:
            return error_response(exc)
        return Response(
            render_pdf(sheet),
            media_type="application/pdf",
            headers={
                "Content-Disposition": attachment(
                    f"ticket-{found.seat_label or found.seat + 1}.pdf"
                ),
                "Cache-Control": "private, no-store",
            },
        )

    return [
        Route(KEYS_PATH, keys, methods=["GET"]),
        Route(f"{PDF_PATH}/{{name}}", pdf, methods=["GET"]),
    ]


def _local_time(when: Timestamp, zone: str) -> str:
    """When an event starts, at its venue (its zone's name shown), UTC for a zone unknown here."""
    moment = when.ToDatetime(tzinfo=UTC)
    try:
        moment = moment.astimezone(ZoneInfo(zone))
    except (ValueError, ZoneInfoNotFoundError):
        zone = "UTC"
    return f"{moment:%A %d %B %Y, %H:%M} ({zone})"


async def _sheet(clients: ServiceClients, p: delivery_pb2.Pass) -> PassSheet:
    reply = await clients.call(
        clients.catalogue.BatchGetEvents,
        catalogue_pb2.BatchGetEventsRequest(ids=[p.event_id]),
        None,
    )
    event = next((e for e in reply.events if e.id == p.event_id), None)
    name, starts, venue = "Event", "", ""
    if event is not None:
        name = event.name
        starts = _local_time(event.start_time, event.venue.time_zone)
        venue = ", ".join(x for x in (event.venue.name, event.venue.city) if x)
    return PassSheet(
        event_name=name,
        starts_at=starts,
        venue=venue,
        seat=p.seat_label or f"{p.seat + 1} (unnumbered)",
        serial=p.serial,
        code=p.code,
    )
