"""GraphQL errors as clients see them: every error has `extensions.code`; internals never leak.

- an `AppError` (raised here or carried back from a service) keeps its message and code, and a
  BAD_USER_INPUT names the argument in `extensions.field`;
- an operation over the cost limit is COST_LIMIT, with its `cost` and the `limit`;
- an error with no original exception, or none raised inside a resolver, is about the request
  itself (syntax, unknown field, a variable its scalar refused, too deep): BAD_USER_INPUT;
- a dependency that is down (a database or Redis connection error) is UNAVAILABLE;
- anything else is a bug: logged here in full, shown as INTERNAL "Internal server error".
"""

from __future__ import annotations

import logging

from graphql.error import GraphQLError
from strawberry.extensions import MaskErrors

from common.errors import AppError, ErrorCode
from common.outages import OUTAGES, dependency_unavailable
from gateway.query_limits import COST_LIMIT, CostLimitExceeded

log = logging.getLogger(__name__)

INTERNAL_MESSAGE = "Internal server error"


def field_name(name: str | None) -> str | None:
    """Service fields come snake_case or camelCase; GraphQL arguments are camelCase."""
    if not name:
        return None
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


class ErrorCodes(MaskErrors):
    def __init__(self) -> None:
        super().__init__(should_mask_error=lambda _: True, error_message=INTERNAL_MESSAGE)

    def _process_result(self, result: object) -> None:
        # MaskErrors asks `isinstance(result, <runtime Protocol>)`, ~75 µs on every request (3 %
        # of the gateway's CPU for ticket(id)); an attribute lookup says the same.
        errors = getattr(result, "errors", None)
        if errors:
            result.errors = self._process_errors(errors)  # type: ignore[attr-defined]

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        original = error.original_error
        if isinstance(original, AppError):
            message, extensions = original.message, {"code": original.code.value}
            # Only a refused argument names one (docs/api.md §12): a query's NOT_FOUND says
            # nothing about which of its ids, as for `ticket(id:)`.
            if original.field and original.code is ErrorCode.BAD_USER_INPUT:
                extensions["field"] = field_name(original.field)
            if original.code is ErrorCode.INTERNAL:
                message = INTERNAL_MESSAGE
        elif isinstance(original, OUTAGES):
            # A dependency down or reconnecting (whatever retries could not hide): not a bug.
            log.warning(
                "dependency unavailable", extra={"path": error.path, "error": repr(original)}
            )
            unavailable = dependency_unavailable()
            message, extensions = unavailable.message, {"code": unavailable.code.value}
        elif isinstance(original, CostLimitExceeded):
            message = error.message
            extensions = {"code": COST_LIMIT, "cost": original.cost, "limit": original.limit}
        elif original is None or error.path is None:
            # About the request itself, before any resolver ran: syntax, validation, or a
            # variable its scalar refused (e.g. a Decimal of "ten").
            message, extensions = error.message, {"code": ErrorCode.BAD_USER_INPUT.value}
        else:
            log.error(
                "unhandled error in a resolver",
                exc_info=(type(original), original, original.__traceback__),
                extra={"path": error.path},
            )
            message, extensions = INTERNAL_MESSAGE, {"code": ErrorCode.INTERNAL.value}
        return GraphQLError(
            message,
            nodes=error.nodes,
            source=error.source,
            positions=error.positions,
            path=error.path,
            extensions=extensions,
        )
