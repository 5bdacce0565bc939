"""Value types shared by the whole schema: the Node interface, Money, PageInfo and UserError."""

from __future__ import annotations

from decimal import Decimal as PyDecimal
from enum import Enum

import strawberry
from strawberry import UNSET

from common.errors import AppError, ErrorCode
from gateway.cost import ListSize
from gateway.types.scalars import Decimal


@strawberry.interface(
    description="An object a client may refetch by its id with `node(id:)` (Relay's Global "
    "Object Identification): User, Ticket, Order, Payment, Event."
)
class Node:
    id: strawberry.ID = strawberry.field(
        description="The object's global id: opaque, stable, never to be decoded or built by a "
        "client."
    )


@strawberry.enum(
    description="An ISO 4217 currency. New ones may be added: show an unknown one as its code."
)
class CurrencyCode(Enum):
    USD = strawberry.enum_value("USD", description="US dollar (2 minor digits).")
    EUR = strawberry.enum_value("EUR", description="Euro (2 minor digits).")
    GBP = strawberry.enum_value("GBP", description="Pound sterling (2 minor digits).")

    @classmethod
    def of(cls, code: str) -> CurrencyCode:
        # Everything listed before currencies existed was USD (the only currency charged then).
        return cls(code or "USD")


@strawberry.type(
    description="An amount of one currency. Amounts of different currencies are never added: a "
    "total over several is a list with one Money per currency."
)
class Money:
    amount: Decimal = strawberry.field(
        description='The amount with the currency\'s minor digits, e.g. "20.00"; never a float.'
    )
    currency_code: CurrencyCode = strawberry.field(description="The currency of amount.")

    @classmethod
    def of(cls, amount: str, currency_code: str) -> Money:
        return cls(amount=PyDecimal(amount or "0"), currency_code=CurrencyCode.of(currency_code))  # type: ignore[arg-type]


def money_list(amounts: object) -> list[Money]:
    """insights' per-currency amounts (already one per currency, in code order)."""
    return [Money.of(a.amount, a.currency_code) for a in amounts]  # type: ignore[attr-defined]


def plain_amount(value: PyDecimal) -> str:
    """An amount as the services take it: a decimal string in plain notation, never scientific
    (Decimal("1E+3") -> "1000")."""
    return format(value, "f")


@strawberry.input(description="An amount to set, in one currency.")
class MoneyInput:
    amount: Decimal = strawberry.field(
        description="Greater than 0, at most 1,000,000, with at most the currency's minor digits "
        '(2); BAD_USER_INPUT on ["input", ..., "amount"] otherwise.'
    )
    currency_code: CurrencyCode = strawberry.field(
        description="The currency. A listing's currency never changes: an update's must be the "
        'ticket\'s (BAD_USER_INPUT on ["input", "price", "currencyCode"] otherwise).'
    )


@strawberry.type(
    description="Where a page of a connection stands (Relay's PageInfo), exact in both directions."
)
class PageInfo:
    has_next_page: bool = strawberry.field(
        description="Items exist after endCursor, in the connection's order."
    )
    has_previous_page: bool = strawberry.field(
        description="Items exist before startCursor, in the connection's order."
    )
    start_cursor: str | None = strawberry.field(
        description="The first edge's cursor; null on an empty page."
    )
    end_cursor: str | None = strawberry.field(
        description="The last edge's cursor; null on an empty page."
    )

    @classmethod
    def forwards(cls, after: str, next_page_token: str) -> PageInfo:
        """A page of a service paged forwards by its own token (no cursor per item): the token
        the page was asked after, and the one its reply gave for the next page ("" on the last)."""
        return cls(
            has_next_page=bool(next_page_token),
            has_previous_page=bool(after),
            start_cursor=None,
            end_cursor=next_page_token or None,
        )

    @classmethod
    def of(cls, cursors: list[str], *, has_next: bool, has_previous: bool) -> PageInfo:
        return cls(
            has_next_page=has_next,
            has_previous_page=has_previous,
            start_cursor=cursors[0] if cursors else None,
            end_cursor=cursors[-1] if cursors else None,
        )


@strawberry.enum(
    description="Why a mutation was refused (docs/api.md §12). New codes may be added: a client "
    "falls back to the message for an unknown one."
)
class UserErrorCode(Enum):
    BAD_USER_INPUT = strawberry.enum_value(
        "BAD_USER_INPUT",
        description="A value of the input is refused (empty or long title, price out of range, "
        "malformed email or idempotency key, short password, nothing to change): show the "
        "message next to that input.",
    )
    INVALID_CREDENTIALS = strawberry.enum_value(
        "INVALID_CREDENTIALS",
        description="signIn: the email and password match no account; changePassword: the "
        "current password is wrong.",
    )
    NOT_FOUND = strawberry.enum_value(
        "NOT_FOUND",
        description="The object an input id names does not exist, is not the caller's, or the "
        "id does not decode.",
    )
    FORBIDDEN = strawberry.enum_value(
        "FORBIDDEN",
        description="The object exists but not for this: buying one's own ticket, editing or "
        "withdrawing another seller's.",
    )
    CONFLICT = strawberry.enum_value(
        "CONFLICT",
        description="The object's state forbids it now (ticket HELD, SOLD or WITHDRAWN; stale "
        "expectedVersion; order paid, cancelled or being paid; email registered): refetch.",
    )
    PAYMENT_DECLINED = strawberry.enum_value(
        "PAYMENT_DECLINED",
        description="The card was declined: nothing charged, the order is CANCELLED; the "
        "message has the bank's reason.",
    )
    IDEMPOTENCY_KEY_REUSED = strawberry.enum_value(
        "IDEMPOTENCY_KEY_REUSED",
        description="The key was used by this user for this mutation within 24 h with another "
        "input; nothing done. A client bug: make a new key for a new action.",
    )


@strawberry.type(
    description="An expected refusal of a mutation: the input can be fixed, or the "
    "world changed under the caller."
)
class UserError:
    code: UserErrorCode = strawberry.field(description="What went wrong, for programs.")
    field: list[str] | None = strawberry.field(
        description='Path to the input value it is about, from the argument: ["input", "price", '
        '"amount"]; null when it is about no single value.',
        # At most 3 names (PAGE-7): ["input", "price", "amount"]. `list_size` is defined below.
        directives=[
            ListSize(
                assumed_size=3,
                slicing_arguments=UNSET,  # type: ignore[arg-type]
                sized_fields=UNSET,  # type: ignore[arg-type]
                require_one_slicing_argument=UNSET,  # type: ignore[arg-type]
            )
        ],
    )
    message: str = strawberry.field(
        description="A sentence for people, in English; clients may show it or their own "
        "sentence for the code."
    )

    @classmethod
    def of(cls, error: AppError, field: list[str] | None) -> UserError:
        return cls(code=UserErrorCode(error.code.value), field=field, message=error.message)


# The AppError codes a mutation answers as userErrors (MUT-4); any other stays top-level.
USER_ERROR_CODES = frozenset(
    {
        ErrorCode.BAD_USER_INPUT,
        ErrorCode.NOT_FOUND,
        ErrorCode.FORBIDDEN,
        ErrorCode.CONFLICT,
        ErrorCode.PAYMENT_DECLINED,
        ErrorCode.IDEMPOTENCY_KEY_REUSED,
    }
)


def list_size(
    *,
    assumed_size: int | None = None,
    slicing_arguments: list[str] | None = None,
    sized_fields: list[str] | None = None,
) -> ListSize:
    """A `@listSize` printed with only the arguments given (as the contract writes them)."""
    return ListSize(
        assumed_size=UNSET if assumed_size is None else assumed_size,  # type: ignore[arg-type]
        slicing_arguments=UNSET if slicing_arguments is None else slicing_arguments,  # type: ignore[arg-type]
        sized_fields=UNSET if sized_fields is None else sized_fields,  # type: ignore[arg-type]
        require_one_slicing_argument=UNSET,  # type: ignore[arg-type]
    )
