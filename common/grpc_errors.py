"""The one mapping of `common.errors` types to gRPC statuses, and back.

The server side (`common/grpc_server.py`'s interceptor) turns an `AppError` into a status with a
google.rpc.ErrorInfo detail (reason = the error's code, domain "ticketing", metadata.field = the
offending argument) and a RetryInfo when it says when to come back; a client
(`common/grpc_client.py`, the gateway) turns the status back into the same `AppError`, so a code
survives the hop unchanged. Domain code never sees this module.
"""

from __future__ import annotations

import grpc
from google.protobuf import any_pb2
from google.rpc import error_details_pb2, status_pb2
from grpc_status import rpc_status

from common.errors import (
    _CLASS_OF_CODE,
    AlreadyExists,
    AppError,
    ErrorCode,
    Internal,
    Overloaded,
    Unavailable,
)

DOMAIN = "ticketing"

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
# Types whose status is more precise than their code's (the code, which clients see, is the same).
_STATUS_OF_TYPE: dict[type[AppError], grpc.StatusCode] = {
    AlreadyExists: grpc.StatusCode.ALREADY_EXISTS,
    Overloaded: grpc.StatusCode.RESOURCE_EXHAUSTED,
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


def grpc_status_of(error: AppError) -> grpc.StatusCode:
    """The status code `error` goes over gRPC with: its type's own, else its code's."""
    for cls in type(error).__mro__:
        if cls in _STATUS_OF_TYPE:
            return _STATUS_OF_TYPE[cls]  # type: ignore[index]
    return _STATUS[error.code]


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
        code=grpc_status_of(error).value[0], message=error.message, details=details
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
