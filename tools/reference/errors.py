"""docs/reference/errors.md: every error type of `common/errors.py`, as each surface shows it.

Nothing here is typed by hand: each error is raised through the code that maps it (the gateway's
`ErrorCodes` for GraphQL's `extensions.code`, `expected_failures` for a mutation's userErrors,
`common.grpc_errors.to_grpc_status` for the status and its ErrorInfo, `app_error_response` for
REST), and its meaning is the type's docstring.
"""

from __future__ import annotations

import inspect

from google.rpc import error_details_pb2, status_pb2
from graphql.error import GraphQLError

from common import errors
from common.grpc_errors import grpc_status_of, to_grpc_status
from gateway.errors import ErrorCodes
from gateway.rest import app_error_response
from gateway.user_errors import expected_failures

PAGE = "docs/reference/errors.md"
SOURCE = "common/errors.py (tools/reference/errors.py)"


def error_types() -> list[type[Exception]]:
    """Every exception class `common/errors.py` defines, by name."""
    return sorted(
        (
            cls
            for _, cls in inspect.getmembers(errors, inspect.isclass)
            if issubclass(cls, Exception) and cls.__module__ == errors.__name__
        ),
        key=lambda cls: cls.__name__,
    )


def meaning(cls: type) -> str:
    """The first paragraph of the type's own docstring (never its parent's)."""
    doc = inspect.cleandoc(cls.__doc__ or "")
    return " ".join(doc.split("\n\n")[0].split()).replace("|", "\\|")


def graphql_code(error: errors.AppError) -> str:
    shown = ErrorCodes().anonymise_error(
        GraphQLError(error.message, path=["field"], original_error=error)
    )
    return shown.extensions["code"]


def mutation_outcome(error: errors.AppError) -> str:
    """What a mutation's client gets: a userError's code, or the top-level error."""
    try:
        with expected_failures() as outcome:
            raise error
    except errors.AppError:
        return "top-level error"
    return f"userError `{outcome.user_errors[0].code.value}`"


def error_info_reason(error: errors.AppError) -> str:
    status = to_grpc_status(error)
    details = dict(status.trailing_metadata)["grpc-status-details-bin"]
    for detail in status_pb2.Status.FromString(details).details:
        info = error_details_pb2.ErrorInfo()
        if detail.Unpack(info):
            return info.reason
    raise AssertionError(f"{type(error).__name__} went over gRPC without an ErrorInfo")


def rest_status(error: errors.AppError) -> str:
    return str(app_error_response(error).status_code)


def render() -> str:
    app_errors = [cls for cls in error_types() if issubclass(cls, errors.AppError)]
    others = [cls for cls in error_types() if not issubclass(cls, errors.AppError)]
    lines = [
        "# Error codes",
        "",
        "Every error type a service or the gateway raises (`common/errors.py`), and what a client",
        "sees of it: GraphQL's `errors[].extensions.code` (a query's, or a mutation's error that",
        "is no userError), what a mutation answers instead (docs/api.md MUT-2..4), the gRPC status",
        "between services with its `google.rpc.ErrorInfo` reason (domain `ticketing`), and the",
        "REST routes' HTTP status. Domain code raises these types and knows nothing of the wire:",
        "`common/grpc_errors.py` maps them at the servicer and back in the clients.",
        "",
        "| error type | GraphQL `extensions.code` | in a mutation | gRPC status "
        "| `ErrorInfo.reason` | REST | meaning |",
        "|---|---|---|---|---|---|---|",
    ]
    for cls in app_errors:
        error = cls("message")
        lines.append(
            f"| `{cls.__name__}` | `{graphql_code(error)}` | {mutation_outcome(error)} "
            f"| `{grpc_status_of(error).name}` | `{error_info_reason(error)}` "
            f"| {rest_status(error)} | {meaning(cls)} |"
        )
    if others:
        lines += [
            "",
            "Never shown to a client:",
            "",
            "| error type | meaning |",
            "|---|---|",
            *(f"| `{cls.__name__}` | {meaning(cls)} |" for cls in others),
        ]
    return "\n".join(lines) + "\n"
