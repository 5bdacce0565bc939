from __future__ import annotations

import grpc
import pytest
from google.protobuf import any_pb2
from google.rpc import error_details_pb2, status_pb2
from grpc_status import rpc_status

from common.errors import (
    AlreadyExists,
    AppError,
    Conflict,
    ErrorCode,
    Forbidden,
    IdempotencyKeyReused,
    Internal,
    InvalidInput,
    NotFound,
    Overloaded,
    PaymentDeclined,
    RateLimited,
    Unauthenticated,
    Unavailable,
)
from common.grpc_errors import DOMAIN, from_rpc_error, grpc_status_of, to_grpc_status


class FakeRpcError(grpc.RpcError):
    """What a failed call raises, as far as from_rpc_error looks at it."""

    def __init__(
        self,
        code: grpc.StatusCode,
        details: str | None = None,
        trailing_metadata: tuple[tuple[str, bytes | str], ...] | None = (),
    ) -> None:
        super().__init__(details)
        self._code = code
        self._details = details
        self._trailing_metadata = trailing_metadata

    @classmethod
    def of(cls, status: grpc.Status) -> FakeRpcError:
        return cls(status.code, status.details, status.trailing_metadata)

    def code(self) -> grpc.StatusCode:
        return self._code

    def details(self) -> str | None:
        return self._details

    def trailing_metadata(self) -> tuple[tuple[str, bytes | str], ...] | None:
        return self._trailing_metadata


def status_with_info(
    code: grpc.StatusCode, message: str, reason: str, domain: str = DOMAIN
) -> grpc.Status:
    detail = any_pb2.Any()
    detail.Pack(error_details_pb2.ErrorInfo(reason=reason, domain=domain))
    return rpc_status.to_status(
        status_pb2.Status(code=code.value[0], message=message, details=[detail])
    )


EXPECTED_STATUS = [
    (InvalidInput, ErrorCode.BAD_USER_INPUT, grpc.StatusCode.INVALID_ARGUMENT),
    (Unauthenticated, ErrorCode.UNAUTHENTICATED, grpc.StatusCode.UNAUTHENTICATED),
    (Forbidden, ErrorCode.FORBIDDEN, grpc.StatusCode.PERMISSION_DENIED),
    (NotFound, ErrorCode.NOT_FOUND, grpc.StatusCode.NOT_FOUND),
    (Conflict, ErrorCode.CONFLICT, grpc.StatusCode.FAILED_PRECONDITION),
    (AlreadyExists, ErrorCode.CONFLICT, grpc.StatusCode.ALREADY_EXISTS),
    (PaymentDeclined, ErrorCode.PAYMENT_DECLINED, grpc.StatusCode.FAILED_PRECONDITION),
    (
        IdempotencyKeyReused,
        ErrorCode.IDEMPOTENCY_KEY_REUSED,
        grpc.StatusCode.FAILED_PRECONDITION,
    ),
    (Unavailable, ErrorCode.UNAVAILABLE, grpc.StatusCode.UNAVAILABLE),
    (Overloaded, ErrorCode.UNAVAILABLE, grpc.StatusCode.RESOURCE_EXHAUSTED),
    (RateLimited, ErrorCode.RATE_LIMITED, grpc.StatusCode.RESOURCE_EXHAUSTED),
    (Internal, ErrorCode.INTERNAL, grpc.StatusCode.INTERNAL),
]


@pytest.mark.parametrize(("cls", "code", "status"), EXPECTED_STATUS)
def test_each_error_has_its_code_and_grpc_status(
    cls: type[AppError], code: ErrorCode, status: grpc.StatusCode
) -> None:
    error = cls("message")
    assert error.code is code
    assert grpc_status_of(error) is status


def test_every_app_error_subclass_is_covered() -> None:
    def subclasses(cls: type) -> set[type]:
        direct = set(cls.__subclasses__())
        return direct.union(*(subclasses(c) for c in direct))

    ours = {c for c in subclasses(AppError) if c.__module__ == AppError.__module__}
    assert ours == {cls for cls, _, _ in EXPECTED_STATUS}


@pytest.mark.parametrize(("cls", "code", "status"), EXPECTED_STATUS)
def test_to_grpc_status_carries_code_message_and_field(
    cls: type[AppError], code: ErrorCode, status: grpc.StatusCode
) -> None:
    grpc_status = to_grpc_status(cls("Something is off", field="newPassword"))

    assert grpc_status.code is status
    assert grpc_status.details == "Something is off"
    keys = [key for key, _ in grpc_status.trailing_metadata]
    assert keys == ["grpc-status-details-bin"]
    decoded = rpc_status.from_call(FakeRpcError.of(grpc_status))
    assert decoded is not None
    detail, *retry = decoded.details
    assert len(retry) == (1 if cls in (Overloaded, RateLimited) else 0)
    info = error_details_pb2.ErrorInfo()
    assert detail.Unpack(info)
    assert (info.reason, info.domain, dict(info.metadata)) == (
        code.value,
        DOMAIN,
        {"field": "newPassword"},
    )


def test_to_grpc_status_leaves_out_an_absent_field() -> None:
    decoded = rpc_status.from_call(FakeRpcError.of(to_grpc_status(NotFound("No such ticket"))))
    assert decoded is not None
    info = error_details_pb2.ErrorInfo()
    decoded.details[0].Unpack(info)
    assert "field" not in info.metadata


@pytest.mark.parametrize(("cls", "code", "status"), EXPECTED_STATUS)
@pytest.mark.parametrize("field", [None, "email", "new_password"])
def test_round_trip_keeps_code_message_and_field(
    cls: type[AppError], code: ErrorCode, status: grpc.StatusCode, field: str | None
) -> None:
    original = cls("Exactly this message", field=field)

    back = from_rpc_error(FakeRpcError.of(to_grpc_status(original)))

    assert back.code is code
    assert back.message == "Exactly this message"
    assert back.field == field
    assert back == original
    # The class comes back too, except AlreadyExists, whose code is just CONFLICT, and
    # Overloaded, an UNAVAILABLE (with its Retry-After, below).
    expected_cls = {AlreadyExists: Conflict, Overloaded: Unavailable}.get(cls, cls)
    assert type(back) is expected_cls
    assert back.retry_after_seconds == original.retry_after_seconds


@pytest.mark.parametrize("cls", [RateLimited, Overloaded])
def test_when_to_try_again_survives_the_hop(cls: type[AppError]) -> None:
    original = cls("Slow down", retry_after_seconds=42)  # type: ignore[call-arg]

    back = from_rpc_error(FakeRpcError.of(to_grpc_status(original)))

    assert back.retry_after_seconds == 42
    assert back.message == "Slow down"


def test_errors_that_do_not_say_when_to_try_again_carry_no_retry_info() -> None:
    back = from_rpc_error(FakeRpcError.of(to_grpc_status(Unavailable("Down"))))
    assert back.retry_after_seconds is None


def test_payment_declined_is_not_confused_with_conflict() -> None:
    # Both travel as FAILED_PRECONDITION; the ErrorInfo reason tells them apart.
    back = from_rpc_error(FakeRpcError.of(to_grpc_status(PaymentDeclined("Card declined"))))
    assert type(back) is PaymentDeclined
    assert back.code is ErrorCode.PAYMENT_DECLINED


@pytest.mark.parametrize("code", [grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED])
@pytest.mark.parametrize("metadata", [(), None])
def test_bare_transport_failure_becomes_unavailable(
    code: grpc.StatusCode, metadata: tuple[()] | None
) -> None:
    back = from_rpc_error(FakeRpcError(code, "failed to connect to all addresses", metadata))

    assert type(back) is Unavailable
    assert back.code is ErrorCode.UNAVAILABLE
    assert back.message == "A service is unavailable, try again shortly"
    assert back.field is None


@pytest.mark.parametrize(
    "code",
    [
        grpc.StatusCode.INTERNAL,
        grpc.StatusCode.UNKNOWN,
        grpc.StatusCode.DATA_LOSS,
        grpc.StatusCode.UNIMPLEMENTED,
        grpc.StatusCode.RESOURCE_EXHAUSTED,
    ],
)
def test_bare_unknown_failure_becomes_internal_without_leaking(code: grpc.StatusCode) -> None:
    secret = "Exception calling application: KeyError('mongo://user:pw@db')"

    back = from_rpc_error(FakeRpcError(code, secret))

    assert type(back) is Internal
    assert back.message == "Internal server error"
    assert "mongo" not in str(back) and "KeyError" not in repr(back)


@pytest.mark.parametrize(
    ("code", "cls"),
    [
        (grpc.StatusCode.INVALID_ARGUMENT, InvalidInput),
        (grpc.StatusCode.UNAUTHENTICATED, Unauthenticated),
        (grpc.StatusCode.PERMISSION_DENIED, Forbidden),
        (grpc.StatusCode.NOT_FOUND, NotFound),
        (grpc.StatusCode.ALREADY_EXISTS, Conflict),
        (grpc.StatusCode.FAILED_PRECONDITION, Conflict),
        (grpc.StatusCode.ABORTED, Conflict),
    ],
)
def test_bare_status_maps_by_code_and_keeps_details(
    code: grpc.StatusCode, cls: type[AppError]
) -> None:
    back = from_rpc_error(FakeRpcError(code, "what the server said"))
    assert type(back) is cls
    assert back.message == "what the server said"
    assert back.field is None


def test_bare_status_without_details_uses_the_code_as_message() -> None:
    back = from_rpc_error(FakeRpcError(grpc.StatusCode.NOT_FOUND, None))
    assert back == NotFound("NOT_FOUND")


def test_error_info_of_another_domain_is_ignored() -> None:
    status = status_with_info(grpc.StatusCode.INVALID_ARGUMENT, "theirs", "BAD_USER_INPUT", "x.io")
    back = from_rpc_error(FakeRpcError.of(status))
    # Mapped by its status code only: no field, plain InvalidInput with the status message.
    assert back == InvalidInput("theirs")


def test_unknown_reason_of_our_domain_becomes_internal() -> None:
    status = status_with_info(grpc.StatusCode.FAILED_PRECONDITION, "brew", "I_AM_A_TEAPOT")
    back = from_rpc_error(FakeRpcError.of(status))
    assert type(back) is Internal


def test_app_errors_compare_by_code_message_and_field() -> None:
    assert InvalidInput("x", field="email") == InvalidInput("x", field="email")
    assert InvalidInput("x", field="email") != InvalidInput("x", field="password")
    assert InvalidInput("x") != NotFound("x")
    assert AlreadyExists("Email in use") == Conflict("Email in use")
    assert hash(InvalidInput("x", field="f")) == hash(InvalidInput("x", field="f"))
    assert InvalidInput("x") != "x"
    assert repr(InvalidInput("x", field="f")) == "InvalidInput('x', field='f')"
    assert str(NotFound("No such order")) == "No such order"
