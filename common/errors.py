"""Errors a caller can act on, and their one mapping to gRPC status codes and GraphQL codes.

Services raise `AppError`s; the gRPC server turns them into a status with a google.rpc.ErrorInfo
detail (reason = the GraphQL code, metadata.field = the offending argument); the gateway turns
that back into the same `AppError`, so a code survives the hop unchanged.
"""

from __future__ import annotations

from enum import StrEnum

import grpc
from google.protobuf import any_pb2
from google.rpc import error_details_pb2, status_pb2
from grpc_status import rpc_status

DOMAIN = "ticketing"


class ErrorCode(StrEnum):
    BAD_USER_INPUT = "BAD_USER_INPUT"
    UNAUTHENTICATED = "UNAUTHENTICATED"
    FORBIDDEN = "FORBIDDEN"
    NOT_FOUND = "NOT_FOUND"
    CONFLICT = "CONFLICT"
    PAYMENT_DECLINED = "PAYMENT_DECLINED"
    # An idempotency key this caller used for this call within 24 h with another input.
    IDEMPOTENCY_KEY_REUSED = "IDEMPOTENCY_KEY_REUSED"
    UNAVAILABLE = "UNAVAILABLE"
    RATE_LIMITED = "RATE_LIMITED"
    INTERNAL = "INTERNAL"


_STATUS = {
    ErrorCode.BAD_USER_INPUT: grpc.StatusCode.INVALID_ARGUMENT,
    ErrorCode.UNAUTHENTICATED: grpc.StatusCode.UNAUTHENTICATED,
    ErrorCode.FORBIDDEN: grpc.StatusCode.PERMISSION_DENIED,
    ErrorCode.NOT_FOUND: grpc.StatusCode.NOT_FOUND,
    ErrorCode.CONFLICT: grpc.StatusCode.FAILED_PRECONDITION,
    ErrorCode.PAYMENT_DECLINED: grpc.StatusCode.FAILED_PRECONDITION,
    ErrorCode.IDEMPOTENCY_KEY_REUSED: grpc.StatusCode.FAILED_PRECONDITION,
    ErrorCode.UNAVAILABLE: grpc.StatusCode.UNAVAILABLE,
    ErrorCode.RATE_LIMITED: grpc.StatusCode.RESOURCE_EXHAUSTED,
    ErrorCode.INTERNAL: grpc.StatusCode.INTERNAL,
}
# For statuses that carry no ErrorInfo (a proxy, a deadline, a server that is not ours).
_CODE_OF_STATUS = {
    grpc.StatusCode.INVALID_ARGUMENT: ErrorCode.BAD_USER_INPUT,
    grpc.StatusCode.UNAUTHENTICATED: ErrorCode.UNAUTHENTICATED,
    grpc.StatusCode.PERMISSION_DENIED: ErrorCode.FORBIDDEN,
    grpc.StatusCode.NOT_FOUND: ErrorCode.NOT_FOUND,
    grpc.StatusCode.ALREADY_EXISTS: ErrorCode.CONFLICT,
    grpc.StatusCode.FAILED_PRECONDITION: ErrorCode.CONFLICT,
    grpc.StatusCode.ABORTED: ErrorCode.CONFLICT,
    grpc.StatusCode.UNAVAILABLE: ErrorCode.UNAVAILABLE,
    grpc.StatusCode.DEADLINE_EXCEEDED: ErrorCode.UNAVAILABLE,
}


class AppError(Exception):
    code: ErrorCode = ErrorCode.INTERNAL
    status: grpc.StatusCode | None = None  # a subclass may pick a more precise gRPC status
    # When trying again makes sense, and after how long: carried over gRPC as a
    # google.rpc.RetryInfo detail, shown to HTTP clients as `Retry-After`.
    retry_after_seconds: int | None = None

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field

    @property
    def grpc_status(self) -> grpc.StatusCode:
        return self.status or _STATUS[self.code]

    def __eq__(self, other: object) -> bool:
        return isinstance(other, AppError) and (self.code, self.message, self.field) == (
            other.code,
            other.message,
            other.field,
        )

    def __hash__(self) -> int:
        return hash((self.code, self.message, self.field))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r}, field={self.field!r})"


class InvalidInput(AppError):
    code = ErrorCode.BAD_USER_INPUT


class Unauthenticated(AppError):
    code = ErrorCode.UNAUTHENTICATED


class Forbidden(AppError):
    code = ErrorCode.FORBIDDEN


class NotFound(AppError):
    code = ErrorCode.NOT_FOUND


class Conflict(AppError):
    code = ErrorCode.CONFLICT


class AlreadyExists(Conflict):
    status = grpc.StatusCode.ALREADY_EXISTS


class PaymentDeclined(AppError):
    code = ErrorCode.PAYMENT_DECLINED


class IdempotencyKeyReused(AppError):
    """The caller's idempotency key names an earlier request with another input; nothing done."""

    code = ErrorCode.IDEMPOTENCY_KEY_REUSED

    def __init__(self, message: str, field: str | None = "idempotency_key") -> None:
        super().__init__(message, field)


class Unavailable(AppError):
    code = ErrorCode.UNAVAILABLE


class RateLimited(AppError):
    """The caller went over one of its limits (too many sign-ins, requests...): HTTP 429."""

    code = ErrorCode.RATE_LIMITED

    def __init__(
        self, message: str, field: str | None = None, *, retry_after_seconds: int = 1
    ) -> None:
        super().__init__(message, field)
        self.retry_after_seconds = max(1, retry_after_seconds)


class Overloaded(Unavailable):
    """The server, not the caller, has more work than it can take (e.g. password hashing at
    capacity): UNAVAILABLE with a hint when to come back, HTTP 503."""

    status = grpc.StatusCode.RESOURCE_EXHAUSTED

    def __init__(
        self, message: str, field: str | None = None, *, retry_after_seconds: int = 1
    ) -> None:
        super().__init__(message, field)
        self.retry_after_seconds = max(1, retry_after_seconds)


class Internal(AppError):
    code = ErrorCode.INTERNAL


_CLASS_OF_CODE: dict[ErrorCode, type[AppError]] = {
    cls.code: cls
    for cls in (
        InvalidInput,
        Unauthenticated,
        Forbidden,
        NotFound,
        Conflict,
        PaymentDeclined,
        IdempotencyKeyReused,
        Unavailable,
        RateLimited,
        Internal,
    )
}


def to_grpc_status(error: AppError) -> grpc.Status:
    info = error_details_pb2.ErrorInfo(reason=error.code.value, domain=DOMAIN)
    if error.field:
        info.metadata["field"] = error.field
    detail = any_pb2.Any()
    detail.Pack(info)
    details = [detail]
    if error.retry_after_seconds:
        retry = error_details_pb2.RetryInfo()
        retry.retry_delay.FromSeconds(error.retry_after_seconds)
        details.append(any_pb2.Any())
        details[-1].Pack(retry)
    status = status_pb2.Status(
        code=error.grpc_status.value[0], message=error.message, details=details
    )
    return rpc_status.to_status(status)


def _retry_after(details: list[any_pb2.Any]) -> int | None:
    for detail in details:
        retry = error_details_pb2.RetryInfo()
        if detail.Is(retry.DESCRIPTOR) and detail.Unpack(retry):
            return max(1, retry.retry_delay.seconds)
    return None


def from_rpc_error(exc: grpc.RpcError) -> AppError:
    """The AppError a failed call stands for; transport failures become UNAVAILABLE."""
    status = rpc_status.from_call(exc)  # type: ignore[arg-type]
    if status is not None:
        for detail in status.details:
            info = error_details_pb2.ErrorInfo()
            if detail.Is(info.DESCRIPTOR) and detail.Unpack(info) and info.domain == DOMAIN:
                try:
                    cls = _CLASS_OF_CODE[ErrorCode(info.reason)]
                except ValueError:  # a reason from a newer service: not ours to interpret
                    return Internal("Internal server error")
                error = cls(status.message, field=info.metadata.get("field"))
                if (retry_after := _retry_after(list(status.details))) is not None:
                    error.retry_after_seconds = retry_after
                return error
    code = exc.code()  # type: ignore[attr-defined]
    error_code = _CODE_OF_STATUS.get(code, ErrorCode.INTERNAL)
    if error_code is ErrorCode.UNAVAILABLE:
        return Unavailable("A service is unavailable, try again shortly")
    if error_code is ErrorCode.INTERNAL:
        return Internal("Internal server error")
    return _CLASS_OF_CODE[error_code](exc.details() or error_code.value)  # type: ignore[attr-defined]


class NotYet(Exception):
    """An event that depends on one not applied yet (it arrived out of order). The consumer
    retries it after a delay, and dead-letters it if its predecessor never comes."""
