"""Errors a caller can act on: the types the domain and the handlers raise, and their codes.

Only the standard library: domain code raises these without loading the wire. How they cross it
lives at the edges: `common/grpc_errors.py` turns one into a gRPC status with a google.rpc
ErrorInfo detail (reason = the code, metadata.field = the offending argument) and back, and the
gateway shows the code as GraphQL's `extensions.code` (`gateway/errors.py`), so a code survives
every hop unchanged. docs/reference/errors.md lists them all (`tools/reference/errors.py`).
"""

from __future__ import annotations

from enum import StrEnum


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


class AppError(Exception):
    """A failure the caller is told about, by its code, message and (for refused input) field."""

    code: ErrorCode = ErrorCode.INTERNAL
    # When trying again makes sense, and after how long: carried over gRPC as a
    # google.rpc.RetryInfo detail, shown to HTTP clients as `Retry-After`.
    retry_after_seconds: int | None = None

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field

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
    """A value the caller sent is refused (`field` names it): fix the request, do not retry it."""

    code = ErrorCode.BAD_USER_INPUT


class Unauthenticated(AppError):
    """No valid token: none, or expired, revoked or tampered with. Sign in (again), then retry."""

    code = ErrorCode.UNAUTHENTICATED


class Forbidden(AppError):
    """Signed in, but not allowed this (another's object, a role the caller lacks)."""

    code = ErrorCode.FORBIDDEN


class NotFound(AppError):
    """The object does not exist, or is not the caller's to see (shown as gone)."""

    code = ErrorCode.NOT_FOUND


class Conflict(AppError):
    """The object's state refuses the change (reserved, cancelled, changed since read)."""

    code = ErrorCode.CONFLICT


class AlreadyExists(Conflict):
    """A conflict with an object that already exists (an email in use)."""


class PaymentDeclined(AppError):
    """The card was declined or its authentication failed; nothing was charged."""

    code = ErrorCode.PAYMENT_DECLINED


class IdempotencyKeyReused(AppError):
    """The caller's idempotency key names an earlier request with another input; nothing done."""

    code = ErrorCode.IDEMPOTENCY_KEY_REUSED

    def __init__(self, message: str, field: str | None = "idempotency_key") -> None:
        super().__init__(message, field)


class Unavailable(AppError):
    """A service or a dependency did not answer: retry with backoff."""

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

    def __init__(
        self, message: str, field: str | None = None, *, retry_after_seconds: int = 1
    ) -> None:
        super().__init__(message, field)
        self.retry_after_seconds = max(1, retry_after_seconds)


class Internal(AppError):
    """A bug: the caller sees "Internal server error", the details are in the server's log."""

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


class NotYet(Exception):
    """An event that depends on one not applied yet (it arrived out of order). The consumer
    retries it after a delay, and dead-letters it if its predecessor never comes."""
