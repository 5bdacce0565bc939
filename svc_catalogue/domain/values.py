"""The values an event is made of: its category and status, its venue and performers (value
objects embedded in the event, each with a stable slug id), and the checks of each field.

Every check raises `InvalidInput` naming the field; `check_details` runs them all and reports
every failure at once (`InvalidDetails`), which is what an import row's errors list."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from common.clock import stored_precision
from common.errors import InvalidInput

MAX_NAME = 200
MAX_PERFORMERS = 50


class Category(StrEnum):
    CONCERT = "CONCERT"
    SPORTS = "SPORTS"
    THEATRE = "THEATRE"
    COMEDY = "COMEDY"
    FESTIVAL = "FESTIVAL"
    OTHER = "OTHER"


class EventStatus(StrEnum):
    SCHEDULED = "SCHEDULED"
    POSTPONED = "POSTPONED"
    RESCHEDULED = "RESCHEDULED"
    CANCELLED = "CANCELLED"


def slug(text: str) -> str:
    """Lower-case ASCII words joined by hyphens: "Beyoncé & Jay-Z" -> "beyonce-jay-z"."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.casefold()).strip("-")


@dataclass(frozen=True)
class Performer:
    id: str  # "performer:<slug of the name>"
    name: str


@dataclass(frozen=True)
class Venue:
    id: str  # "venue:<slug of name and city>"
    name: str
    city: str
    country: str  # ISO 3166-1 alpha-2, upper case
    time_zone: str  # IANA


@dataclass(frozen=True)
class EventDetails:
    """What an operator sets of an event (everything but its status)."""

    name: str
    performers: tuple[Performer, ...]
    venue: Venue
    starts_at: datetime  # aware
    ends_at: datetime
    category: Category


class InvalidDetails(InvalidInput):
    """Several fields refused at once; `problems` lists each (the first is the error's own)."""

    def __init__(self, problems: list[InvalidInput]) -> None:
        super().__init__(problems[0].message, problems[0].field)
        self.problems = problems


def check_text(raw: str | None, field: str, label: str) -> str:
    text = " ".join((raw or "").split())
    if not text:
        raise InvalidInput(f"{label} is required", field=field)
    if len(text) > MAX_NAME:
        raise InvalidInput(f"{label} must be at most {MAX_NAME} characters", field=field)
    return text


def check_category(raw: str | None) -> Category:
    try:
        return Category((raw or "").strip().upper())
    except ValueError:
        allowed = ", ".join(Category)
        raise InvalidInput(f"Category must be one of {allowed}", field="category") from None


def check_country(raw: str | None) -> str:
    country = (raw or "").strip().upper()
    if not re.fullmatch(r"[A-Z]{2}", country):
        raise InvalidInput(
            "Country must be an ISO 3166-1 alpha-2 code of 2 letters (e.g. GB)", field="country"
        )
    return country


def check_time_zone(raw: str | None) -> str:
    name = (raw or "").strip()
    try:
        if not name or name.startswith(("/", ".")) or ".." in name:
            raise ValueError(name)
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput(
            f"Time zone {name!r} is not an IANA time zone (e.g. Europe/London)",
            field="time_zone",
        ) from None
    return name


def check_id(given: str | None, kind: str, derived_from: str, field: str) -> str:
    """A given slug id ("venue:o2-arena-london") must have that form; none: derived."""
    if not given:
        return f"{kind}:{slug(derived_from)}"
    if not re.fullmatch(rf"{kind}:[a-z0-9]+(-[a-z0-9]+)*", given) or len(given) > MAX_NAME:
        raise InvalidInput(
            f"{given!r} is not a {kind} id ({kind}: then lower-case words joined by hyphens)",
            field=field,
        )
    return given


def check_performer(name: str | None, id: str | None = None) -> Performer:
    checked = check_text(name, "performers", "A performer's name")
    return Performer(check_id(id, "performer", checked, "performers"), checked)


def check_venue(
    name: str | None, city: str | None, country: str | None, time_zone: str | None, id: str = ""
) -> Venue:
    problems: list[InvalidInput] = []
    values = []
    for check in (
        lambda: check_text(name, "venue_name", "The venue's name"),
        lambda: check_text(city, "city", "The city"),
        lambda: check_country(country),
        lambda: check_time_zone(time_zone),
    ):
        try:
            values.append(check())
        except InvalidInput as exc:
            problems.append(exc)
    if problems:
        raise InvalidDetails(problems)
    venue_name, venue_city, venue_country, zone = values
    venue_id = check_id(id, "venue", f"{venue_name} {venue_city}", "venue_id")
    return Venue(venue_id, venue_name, venue_city, venue_country, zone)


def check_times(starts_at: datetime | None, ends_at: datetime | None) -> tuple[datetime, datetime]:
    if starts_at is None:
        raise InvalidInput("The start time is required", field="starts_at")
    if ends_at is None:
        raise InvalidInput("The end time is required", field="ends_at")
    if starts_at.tzinfo is None or ends_at.tzinfo is None:
        raise InvalidInput("Times must say their zone or offset", field="starts_at")
    starts_at, ends_at = (stored_precision(t.astimezone(UTC)) for t in (starts_at, ends_at))
    if ends_at <= starts_at:
        raise InvalidInput("The event must end after it starts", field="ends_at")
    return starts_at, ends_at


def parse_local_time(raw: str | None, time_zone: str | None, field: str) -> datetime:
    """ISO 8601 with an offset ("2027-06-01T20:00+01:00"), or a local time read in the venue's
    `time_zone` ("2027-06-01T20:00"); a local time that the zone skips (clocks going forward)
    is refused rather than guessed."""
    text = (raw or "").strip()
    if not text:
        raise InvalidInput("A date and time is required", field=field)
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidInput(
            f"{text!r} is not an ISO 8601 date and time (e.g. 2027-06-01T20:00)", field=field
        ) from None
    if value.tzinfo is not None:
        return value
    try:
        zone = ZoneInfo(check_time_zone(time_zone))
    except InvalidInput:
        raise InvalidInput(
            f"{text!r} has no offset, and the venue's time zone is not valid to read it in",
            field=field,
        ) from None
    local = value.replace(tzinfo=zone)
    if local.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != value:
        raise InvalidInput(f"{text} does not exist in {zone.key} (the clocks skip it)", field=field)
    return local


def check_details(
    name: str | None,
    performers: list[Performer] | list[str],
    venue: Venue | Exception,
    starts_at: datetime | Exception | None,
    ends_at: datetime | Exception | None,
    category: str | None,
) -> EventDetails:
    """Every field checked; all that fail are reported together (`InvalidDetails`). `venue` and
    the times may be given as the error their own parsing raised, so it is reported here."""
    problems: list[InvalidInput] = []

    def run(check):
        try:
            return check()
        except InvalidDetails as exc:
            problems.extend(exc.problems)
        except InvalidInput as exc:
            problems.append(exc)
        return None

    checked_name = run(lambda: check_text(name, "name", "The name"))
    checked_performers = run(lambda: _check_performers(performers))
    for given in (venue, starts_at, ends_at):
        if isinstance(given, Exception):
            run(lambda given=given: _raise(given))
    checked_venue = venue if isinstance(venue, Venue) else None
    times = None
    if not isinstance(starts_at, Exception) and not isinstance(ends_at, Exception):
        times = run(lambda: check_times(starts_at, ends_at))
    checked_category = run(lambda: check_category(category))
    if problems:
        raise InvalidDetails(problems)
    assert checked_venue is not None and times is not None
    return EventDetails(
        checked_name, checked_performers, checked_venue, times[0], times[1], checked_category
    )


def _raise(exc: Exception) -> None:
    raise exc


def _check_performers(given: list[Performer] | list[str]) -> tuple[Performer, ...]:
    if not given:
        raise InvalidInput("At least one performer is required", field="performers")
    if len(given) > MAX_PERFORMERS:
        raise InvalidInput(f"At most {MAX_PERFORMERS} performers", field="performers")
    performers = [
        check_performer(p.name, p.id) if isinstance(p, Performer) else check_performer(p)
        for p in given
    ]
    return tuple({p.id: p for p in performers}.values())
