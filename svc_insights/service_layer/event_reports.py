"""The event report query: operators only (it covers every seller's listings), over a day range;
the figures come from the `EventReports` adapter (adapters/event_reports.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Protocol

from common.errors import InvalidInput
from svc_insights.domain.event_reports import EventReport, check_may_read_event
from svc_insights.domain.reports import DayRange, Reader


class EventReports(Protocol):
    async def event_report(self, event_id: str, days: DayRange) -> EventReport: ...


@dataclass(frozen=True)
class GetEventReport:
    reader: Reader
    event_id: str
    first_day: date
    last_day: date


class EventReportHandlers:
    def __init__(self, reports: EventReports) -> None:
        self.reports = reports

    async def event_report(self, query: GetEventReport) -> EventReport:
        check_may_read_event(query.reader)
        if not query.event_id:
            raise InvalidInput("An event id is required", field="event_id")
        days = DayRange.of(query.first_day, query.last_day)
        return await self.reports.event_report(query.event_id, days)
