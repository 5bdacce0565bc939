"""E-ticket files over HTTP (issue 22): a seller uploads an order's files, the order's seller and
buyer download them. GraphQL carries no bytes; these two routes do, with the caller's token as
for /graphql (`Authorization: Bearer`, or the session cookie), and the delivery service decides
everything else (who may, which types, each file's size).

- `POST /api/deliveries/files`, multipart/form-data: `orderId` (the Order's global id), then the
  files: a part named `file` for one file covering every seat, or `seat-<n>` (n from 0) for
  seat n's. The body is refused past DELIVERY_UPLOAD_MAX_BYTES while it is read (413). 200 with
  `{"delivery": {"status", "files": [...]}}`; a refusal is the REST error shape with its code.
  Guarded against CSRF like /graphql: a multipart POST is one a foreign page could send.
- `GET /api/delivery-files/<file id>`: the bytes, with the file's Content-Type and
  `Content-Disposition: attachment`; 404 for a file the caller may not read (as for an unknown).
"""

from __future__ import annotations

import email.parser
import email.policy
import email.utils
import re
from email.message import Message
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from common.errors import AppError, ErrorCode, InvalidInput, Unauthenticated
from gateway import global_ids
from gateway.accounts import Accounts
from gateway.clients import ServiceClients
from gateway.errors import INTERNAL_MESSAGE, field_name
from gateway.http_errors import rest_error
from gateway.session import claims_of, token_of
from gateway.types.deliveries import (
    ALL_SEATS,
    FILES_PATH,
    UPLOAD_PATH,
    DeliveryFile,
    DeliveryStatus,
    parse_file_ref,
)
from ticketing.delivery.v1 import delivery_pb2

MAX_FILES = 100
_SEAT_PART = re.compile(r"seat-(\d{1,3})")
_STATUS = {
    ErrorCode.BAD_USER_INPUT: 400,
    ErrorCode.UNAUTHENTICATED: 401,
    ErrorCode.FORBIDDEN: 403,
    ErrorCode.NOT_FOUND: 404,
    ErrorCode.CONFLICT: 409,
    ErrorCode.RATE_LIMITED: 429,
    ErrorCode.UNAVAILABLE: 503,
}
# A filename goes into a header: anything but these characters is replaced.
_UNSAFE_FILENAME = re.compile(r"[^A-Za-z0-9._ -]")


class TooLarge(Exception):
    pass


def error_response(exc: AppError) -> JSONResponse:
    status = _STATUS.get(exc.code)
    if status is None:
        return JSONResponse(
            {"errors": [rest_error(INTERNAL_MESSAGE, ErrorCode.INTERNAL.value)]}, status_code=500
        )
    field = field_name(exc.field) if exc.code is ErrorCode.BAD_USER_INPUT else None
    response = JSONResponse(
        {"errors": [rest_error(exc.message, exc.code.value, field)]}, status_code=status
    )
    if exc.retry_after_seconds:
        response.headers["Retry-After"] = str(exc.retry_after_seconds)
    return response


async def read_limited(request: Request, max_bytes: int) -> bytes:
    """The body, refused (TooLarge) as soon as it passes `max_bytes`."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise TooLarge
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > max_bytes:
            raise TooLarge
    return bytes(body)


def parse_upload(content_type: str, body: bytes) -> tuple[str, list[delivery_pb2.UploadedFile]]:
    """(orderId, files) of a multipart/form-data body; BAD_USER_INPUT for anything else."""
    if content_type.split(";", 1)[0].strip().lower() != "multipart/form-data":
        raise InvalidInput("Send the files as multipart/form-data")
    header = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode("latin-1")
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(header + body)
    if not message.is_multipart() or message.defects:
        raise InvalidInput("The multipart body does not parse")
    order_id = ""
    files: list[delivery_pb2.UploadedFile] = []
    for part in message.iter_parts():  # type: ignore[attr-defined]
        name = _param(part, "name")
        if name == "orderId":
            order_id = _text(part)
            continue
        seat = _seat_of(name)
        if seat is None:
            raise InvalidInput(f"Unexpected form field {name!r}: orderId, file or seat-<n>")
        content = part.get_payload(decode=True) or b""
        filename = _param(part, "filename") or "ticket"
        if not content:
            raise InvalidInput(f"The file {filename!r} is empty", field="files")
        files.append(delivery_pb2.UploadedFile(filename=filename[:200], content=content, seat=seat))
        if len(files) > MAX_FILES:
            raise InvalidInput(f"At most {MAX_FILES} files", field="files")
    if not order_id:
        raise InvalidInput("orderId is required", field="orderId")
    if not files:
        raise InvalidInput("No file: send a part named file or seat-<n>", field="files")
    return global_ids.decode(order_id, "Order", field="orderId"), files


def _param(part: Message, name: str) -> str:
    value = part.get_param(name, header="content-disposition")
    if isinstance(value, tuple):  # RFC 2231
        value = email.utils.collapse_rfc2231_value(value)
    return str(value) if value else ""


def _text(part: Message) -> str:
    payload = part.get_payload(decode=True) or b""
    return payload.decode("utf-8", "replace").strip()


def _seat_of(name: str) -> int | None:
    if name == "file":
        return ALL_SEATS
    match = _SEAT_PART.fullmatch(name)
    return int(match.group(1)) if match else None


def _upload_json(delivery: delivery_pb2.Delivery) -> dict[str, Any]:
    status = DeliveryStatus.from_proto(delivery.status)
    files = [DeliveryFile.from_proto(delivery.order_id, f) for f in delivery.files]
    return {
        "delivery": {
            "status": status.value if status else None,
            "files": [
                {
                    "id": f.id,
                    "filename": f.filename,
                    "contentType": f.content_type,
                    "size": f.size,
                    "seat": f.seat,
                    "url": f.url,
                }
                for f in files
            ],
        }
    }


def attachment(filename: str) -> str:
    """A Content-Disposition header that downloads `filename` (made safe for a header)."""
    safe = _UNSAFE_FILENAME.sub("_", filename).strip() or "ticket"
    return f'attachment; filename="{safe[:150]}"'


def delivery_file_routes(
    accounts: Accounts, clients: ServiceClients, max_upload_bytes: int
) -> list[Route]:
    async def signed_in_token(request: Request) -> str:
        token = token_of(request)
        if await claims_of(accounts.verifier, token) is None:
            raise Unauthenticated("Sign in first")
        assert token is not None
        return token

    async def upload(request: Request) -> Response:
        try:
            token = await signed_in_token(request)
            try:
                body = await read_limited(request, max_upload_bytes)
            except TooLarge:
                return JSONResponse(
                    {
                        "errors": [
                            rest_error(
                                f"The files are larger than {max_upload_bytes} bytes together",
                                "PAYLOAD_TOO_LARGE",
                            )
                        ]
                    },
                    status_code=413,
                )
            order_id, files = parse_upload(request.headers.get("content-type", ""), body)
            reply = await clients.call(
                clients.delivery.DeliverFiles,
                delivery_pb2.DeliverFilesRequest(order_id=order_id, files=files),
                token,
                timeout=max(clients.timeout, 30.0),
            )
        except AppError as exc:
            return error_response(exc)
        return JSONResponse(_upload_json(reply.delivery))

    async def download(request: Request) -> Response:
        try:
            token = await signed_in_token(request)
            order_id, file_id = parse_file_ref(request.path_params["ref"])
            reply = await clients.call(
                clients.delivery.GetDeliveryFile,
                delivery_pb2.GetDeliveryFileRequest(order_id=order_id, file_id=file_id),
                token,
            )
        except AppError as exc:
            return error_response(exc)
        return Response(
            reply.content,
            media_type=reply.file.content_type or "application/octet-stream",
            headers={
                "Content-Disposition": attachment(reply.file.filename),
                "Cache-Control": "private, no-store",
            },
        )

    return [
        Route(UPLOAD_PATH, upload, methods=["POST"]),
        Route(f"{FILES_PATH}/{{ref}}", download, methods=["GET"]),
    ]
