"""The analytics reports: what each figure means, as values; computed by adapters/reports.py.

Every figure is counted from the `events` table alone, in UTC days, over an inclusive range of
days (`DayRange`: at most MAX_RANGE_DAYS, each between FIRST_DAY and LAST_DAY). An event belongs
to the day its `occurred_at` falls on.

Definitions (the SQL in adapters/reports.py implements exactly these):

- **listed**: the seller's tickets whose `ticket.created` falls on the day.
- **sold / paid order**: an order is paid on the day of its first `charge.created` (payments
  publishes one only when the order completes; a late charge for a cancelled order is refunded
  and publishes nothing). A sale belongs to the seller of the order's ticket.
- **revenue / GMV**: the sum of paid orders' prices (the price their `order.created` carries,
  what the buyer pays), on the day they were paid, per currency (the order's; an event from
  before v1 names none: USD). Amounts of different currencies are never added: a figure is one
  amount per currency present, in code order. (`revenue`/`gmv` alone, the sum over every
  currency, is kept for the clients that read it until they move to the amounts; deprecated.)
- **expired unpaid**: an order whose `order.cancelled` says reason `EXPIRED`, on that day.
  `order.expired` alone is not counted: it is the expiration service's request, which orders
  ignores for an order already paid, and the orders service's own sweep expires overdue orders
  without one. The cancellation is the fact.
- **time to sell**: from the ticket's `ticket.created` to the order's `charge.created`, in
  seconds (a ticket that expired unpaid and sold later counts from its first listing). The
  median of the sales of the day (or of the range, for the totals: not a median of medians);
  the mean of the two middle sales when their number is even; none without a sale.
- **views**: `ticket.viewed` of the seller's tickets on the day, every view counted (not
  distinct viewers), except the seller's own (a view signed in as the seller).
- **orders**: `order.created` on the day.
- **visitor**: a signed-in user, or an anonymous id. Anonymous ids are stitched: an anonymous id
  that any signed-in event ever carried together with a user id is that user (the earliest such
  event decides, if one browser served several users), so a visit before sign-up and the
  purchase after it are one visitor. An anonymous id never seen signed in is a visitor of its own.
- **active users**: distinct visitors with an action on the day: a ticket viewed, tickets
  browsed, an order started or created, a ticket listed, a sign-up. Anonymous visitors are
  included; `anonymous` says how many of them were never tied to a user. Totals count distinct
  visitors over the whole range (not the sum of the days).
- **funnel** (over the range): `viewed` = visitors who viewed a ticket; `ordered` = those of
  them who also started (`order.started`) or created an order; `paid` = those of them who also
  bought an order paid in the range. Each step is a subset of the previous one, so conversions
  are at most 1. Steps need not happen in that order within the range.
- **expiry rate**: orders expired unpaid in the range over the orders that reached an outcome in
  the range (paid, or cancelled for any reason); open orders are not in it yet.
- **decline rate**: `charge.failed` in the range over the payment attempts that reached an
  outcome in the range (`charge.failed` + paid orders). A `charge.pending` is not an outcome:
  the attempt counts when it succeeds or fails.
- **top sellers**: by tickets sold in the range, then by revenue (a tie-break only: the sum of
  the seller's amounts, which compares within one currency), then by seller id; as many as asked
  (TOP_SELLERS unless said, at most MAX_TOP_SELLERS); each with its revenue per currency.
- **price distribution**: fixed buckets (PRICE_BUCKET_BOUNDS, so ranges compare) per currency,
  each counting tickets listed in the range at their listing price in that currency and orders
  paid in the range at their price in it. Every bucket of each currency present is listed, empty
  ones too (of USD alone when there is none).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from common.errors import Forbidden, InvalidInput
from common.money import LEGACY_CURRENCY  # an amount's whose event names none (before v1)

MAX_RANGE_DAYS = 366
# The days a report may cover: the calendar's, but for its very last (a range ends at the instant
# after its last day, which the calendar must hold too).
FIRST_DAY = date.min
LAST_DAY = date.max - timedelta(days=1)
TOP_SELLERS = 10
MAX_TOP_SELLERS = 100
# Lower bounds of the price buckets: [0, 10), [10, 25), ..., [1000, no upper bound).
PRICE_BUCKET_BOUNDS: tuple[Decimal, ...] = tuple(
    Decimal(b) for b in ("0", "10", "25", "50", "100", "250", "500", "1000")
)


@dataclass(frozen=True)
class DayRange:
    """Inclusive UTC days, first to last."""

    first: date
    last: date

    @classmethod
    def of(cls, first: date, last: date) -> DayRange:
        for day, field in ((first, "from"), (last, "to")):
            if not FIRST_DAY <= day <= LAST_DAY:
                raise InvalidInput(
                    f"A report's days are between {FIRST_DAY} and {LAST_DAY} ({day} asked)",
                    field=field,
                )
        if last < first:
            raise InvalidInput("to must not be before from", field="to")
        span = (last - first).days + 1
        if span > MAX_RANGE_DAYS:
            raise InvalidInput(
                f"A report covers at most {MAX_RANGE_DAYS} days ({span} asked)", field="to"
            )
        return cls(first, last)

    @property
    def start(self) -> datetime:
        """The first instant in the range (naive UTC, as `occurred_at` is stored)."""
        return datetime.combine(self.first, time())

    @property
    def end(self) -> datetime:
        """The first instant after the range."""
        return datetime.combine(self.last + timedelta(days=1), time())

    def days(self) -> list[date]:
        return [self.first + timedelta(days=n) for n in range((self.last - self.first).days + 1)]


@dataclass(frozen=True)
class Reader:
    """Who asks for a report: a seller reads their own, an operator (admin) any and the market's."""

    user_id: str
    is_admin: bool = False

    def check_may_read_seller(self, seller_id: str) -> None:
        if seller_id != self.user_id and not self.is_admin:
            raise Forbidden("A seller's report is for that seller only")

    def check_may_read_market(self) -> None:
        if not self.is_admin:
            raise Forbidden("The market report is for operators only")


def top_sellers_limit(asked: int) -> int:
    """How many top sellers a market report lists: TOP_SELLERS when not said (0)."""
    if asked == 0:
        return TOP_SELLERS
    if not 1 <= asked <= MAX_TOP_SELLERS:
        raise InvalidInput(
            f"top sellers must be between 1 and {MAX_TOP_SELLERS}", field="top_sellers_limit"
        )
    return asked


def ratio(part: int, whole: int) -> float | None:
    """part / whole, or None when there is nothing to divide (no 0 % out of nothing)."""
    return part / whole if whole else None


@dataclass(frozen=True)
class Amount:
    """An amount of one currency (ISO 4217 code)."""

    amount: Decimal
    currency: str


def amounts(by_currency: Mapping[str, Decimal]) -> tuple[Amount, ...]:
    """One amount per currency, in code order (amounts of different currencies never added)."""
    return tuple(Amount(by_currency[code], code) for code in sorted(by_currency))


@dataclass(frozen=True)
class SellerFigures:
    listed: int = 0
    sold: int = 0
    expired_unpaid: int = 0
    revenue: Decimal = Decimal("0.00")  # deprecated: the sum over currencies
    median_seconds_to_sell: float | None = None
    views: int = 0
    revenue_by_currency: tuple[Amount, ...] = ()


@dataclass(frozen=True)
class SellerDay:
    day: date
    figures: SellerFigures


@dataclass(frozen=True)
class TicketViews:
    ticket_id: str
    title: str
    views: int


@dataclass(frozen=True)
class SellerReport:
    seller_id: str
    range: DayRange
    totals: SellerFigures
    days: tuple[SellerDay, ...]
    # Every ticket the seller had listed by the end of the range, most viewed first.
    tickets: tuple[TicketViews, ...]


@dataclass(frozen=True)
class MarketDay:
    day: date
    gmv: Decimal = Decimal("0.00")  # deprecated: the sum over currencies
    orders: int = 0
    paid_orders: int = 0
    active_users: int = 0
    anonymous: int = 0  # of the active users, visitors never tied to a user
    gmv_by_currency: tuple[Amount, ...] = ()


@dataclass(frozen=True)
class Funnel:
    viewed: int
    ordered: int
    paid: int

    @property
    def ordered_per_viewed(self) -> float | None:
        return ratio(self.ordered, self.viewed)

    @property
    def paid_per_ordered(self) -> float | None:
        return ratio(self.paid, self.ordered)

    @property
    def paid_per_viewed(self) -> float | None:
        return ratio(self.paid, self.viewed)


@dataclass(frozen=True)
class Outcomes:
    """How many of the orders (or payment attempts) that ended in the range ended this way."""

    count: int
    of: int

    @property
    def rate(self) -> float | None:
        return ratio(self.count, self.of)


@dataclass(frozen=True)
class TopSeller:
    seller_id: str
    revenue: Decimal  # deprecated: the sum over currencies
    sold: int
    revenue_by_currency: tuple[Amount, ...] = ()


@dataclass(frozen=True)
class PriceBucket:
    lower: Decimal
    upper: Decimal | None  # None: no upper bound
    listed: int = 0
    sold: int = 0
    currency: str = LEGACY_CURRENCY  # of lower and upper, and of the prices counted


@dataclass(frozen=True)
class MarketReport:
    range: DayRange
    totals: MarketDay  # its `day` is the range's first; active users distinct over the range
    days: tuple[MarketDay, ...]
    funnel: Funnel
    expired: Outcomes  # orders expired unpaid, of the orders that ended
    declined: Outcomes  # charges declined, of the payment attempts that ended
    top_sellers: tuple[TopSeller, ...]
    price_distribution: tuple[PriceBucket, ...]


def price_buckets(
    listed: Mapping[tuple[str, int], int], sold: Mapping[tuple[str, int], int]
) -> tuple[PriceBucket, ...]:
    """Every bucket of every currency present (of USD alone when none is), empty ones too, in
    currency code order, from counts by (currency, bucket index)."""
    bounds = PRICE_BUCKET_BOUNDS
    currencies = sorted({currency for currency, _ in (*listed, *sold)}) or [LEGACY_CURRENCY]
    return tuple(
        PriceBucket(
            lower=lower,
            upper=bounds[n + 1] if n + 1 < len(bounds) else None,
            listed=listed.get((currency, n), 0),
            sold=sold.get((currency, n), 0),
            currency=currency,
        )
        for currency in currencies
        for n, lower in enumerate(bounds)
    )


def every_seller_day(
    range_: DayRange, found: Mapping[date, SellerFigures]
) -> tuple[SellerDay, ...]:
    """One row per day of the range; a day with nothing has zeros (and no median)."""
    return tuple(SellerDay(day, found.get(day, SellerFigures())) for day in range_.days())


def every_market_day(range_: DayRange, found: Mapping[date, MarketDay]) -> tuple[MarketDay, ...]:
    """One row per day of the range; a day with nothing has zeros."""
    return tuple(found.get(day, MarketDay(day)) for day in range_.days())
