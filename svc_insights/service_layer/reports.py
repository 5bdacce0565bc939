"""The report queries: who may read which report, over which days; the figures come from the
`Reports` adapter (adapters/reports.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Protocol

from svc_insights.domain.reports import (
    DayRange,
    MarketReport,
    Reader,
    SellerReport,
    top_sellers_limit,
)


class Reports(Protocol):
    async def seller_report(self, seller_id: str, days: DayRange) -> SellerReport: ...

    async def market_report(self, days: DayRange, top_sellers: int) -> MarketReport: ...


@dataclass(frozen=True)
class GetSellerReport:
    reader: Reader
    seller_id: str  # '': the reader's own
    first_day: date
    last_day: date


@dataclass(frozen=True)
class GetMarketReport:
    reader: Reader
    first_day: date
    last_day: date
    top_sellers: int = 0  # 0: the default number


class ReportHandlers:
    def __init__(self, reports: Reports) -> None:
        self.reports = reports

    async def seller_report(self, query: GetSellerReport) -> SellerReport:
        seller_id = query.seller_id or query.reader.user_id
        query.reader.check_may_read_seller(seller_id)
        days = DayRange.of(query.first_day, query.last_day)
        return await self.reports.seller_report(seller_id, days)

    async def market_report(self, query: GetMarketReport) -> MarketReport:
        query.reader.check_may_read_market()
        days = DayRange.of(query.first_day, query.last_day)
        return await self.reports.market_report(days, top_sellers_limit(query.top_sellers))
