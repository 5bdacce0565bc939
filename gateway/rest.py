"""The seed's REST routes under /api/users, kept for clients that predate GraphQL.

Errors: `{"errors": [{"message": ..., "field": ..., "code": ...}]}`, `field` only for invalid
input, `code` the one GraphQL gives the same failure (gateway/http_errors.py). The HTTP statuses
are the seed's: 400 for a taken email and for wrong credentials too, which `code` tells apart.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from common.errors import AppError, ErrorCode
from gateway.accounts import Accounts
from gateway.errors import INTERNAL_MESSAGE, field_name
from gateway.http_errors import rest_error
from gateway.limits import JsonLimits, JsonRefused, parse_json
from gateway.rate_limits import client_address
from gateway.session import claims_of, device_token_of, token_of

_STATUS = {
    ErrorCode.BAD_USER_INPUT: 400,
    ErrorCode.CONFLICT: 400,  # the seed answers 400 "Email in use"
    ErrorCode.UNAUTHENTICATED: 400,  # the seed answers 400 "Invalid credentials"
    ErrorCode.FORBIDDEN: 403,
    ErrorCode.NOT_FOUND: 404,
    ErrorCode.PAYMENT_DECLINED: 402,
    # No REST route takes a key today; should one, a reused key is a client error like CONFLICT.
    ErrorCode.IDEMPOTENCY_KEY_REUSED: 409,
    ErrorCode.UNAVAILABLE: 503,
    ErrorCode.RATE_LIMITED: 429,
}


def error_response(
    message: str, status: int, code: ErrorCode, field: str | None = None
) -> JSONResponse:
    return JSONResponse({"errors": [rest_error(message, code.value, field)]}, status_code=status)


def app_error_response(exc: AppError) -> JSONResponse:
    status = _STATUS.get(exc.code, 500)
    if status == 500:
        return error_response(INTERNAL_MESSAGE, 500, ErrorCode.INTERNAL)
    field = field_name(exc.field) if exc.code is ErrorCode.BAD_USER_INPUT else None
    response = error_response(exc.message, status, exc.code, field)
    if exc.retry_after_seconds:  # over a rate limit (429), or auth at capacity (503)
        response.headers["Retry-After"] = str(exc.retry_after_seconds)
    return response


async def _credentials(request: Request, limits: JsonLimits) -> tuple[str, str]:
    try:
        body = parse_json(await request.body() or b"null", limits)
    except JsonRefused as exc:
        raise _BadBody(str(exc)) from None
    if not isinstance(body, dict):
        raise _BadBody("Request body must be a JSON object with email and password")
    values = []
    for name in ("email", "password"):
        value = body.get(name)
        if value is None:
            raise _BadBody(f"{name.capitalize()} is required", name)
        if not isinstance(value, str):
            raise _BadBody(f"{name.capitalize()} must be a string", name)
        values.append(value)
    return values[0], values[1]


class _BadBody(Exception):
    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message, self.field = message, field


def _user_json(signed: Any) -> dict[str, str]:
    return {"id": signed.user.id, "email": signed.user.email}


def rest_routes(accounts: Accounts, limits: JsonLimits) -> list[Route]:
    async def signup(request: Request) -> Response:
        response = JSONResponse({}, status_code=201)
        try:
            email, password = await _credentials(request, limits)
            signed = await accounts.sign_up(
                email, password, response, client_address=client_address(request)
            )
        except _BadBody as exc:
            return error_response(exc.message, 400, ErrorCode.BAD_USER_INPUT, exc.field)
        except AppError as exc:
            return app_error_response(exc)
        return _with_body(response, _user_json(signed))

    async def signin(request: Request) -> Response:
        response = JSONResponse({}, status_code=200)
        try:
            email, password = await _credentials(request, limits)
            signed = await accounts.sign_in(
                email,
                password,
                response,
                client_address=client_address(request),
                device_token=device_token_of(request),
            )
        except _BadBody as exc:
            return error_response(exc.message, 400, ErrorCode.BAD_USER_INPUT, exc.field)
        except AppError as exc:
            return app_error_response(exc)
        return _with_body(response, _user_json(signed))

    async def signout(request: Request) -> Response:
        response = JSONResponse({})
        try:
            await accounts.sign_out(token_of(request), response)
        except AppError as exc:
            return app_error_response(exc)
        return response

    async def current_user(request: Request) -> Response:
        try:
            claims = await claims_of(accounts.verifier, token_of(request))
        except AppError as exc:
            return app_error_response(exc)
        if claims is None:
            return JSONResponse({"currentUser": None})
        user = {"id": claims.sub, "email": claims.email, "iat": claims.iat, "exp": claims.exp}
        return JSONResponse({"currentUser": user})

    return [
        Route("/api/users/signup", signup, methods=["POST"]),
        Route("/api/users/signin", signin, methods=["POST"]),
        Route("/api/users/signout", signout, methods=["POST"]),
        Route("/api/users/currentuser", current_user, methods=["GET"]),
    ]


def _with_body(response: JSONResponse, body: dict[str, Any]) -> JSONResponse:
    """Keeps the cookies already set on `response` and replaces its body."""
    response.body = response.render(body)
    response.headers["content-length"] = str(len(response.body))
    return response
