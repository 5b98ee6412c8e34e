"""Reports: the date range they cover, who may read them, percentiles and safe CSV cells. Pure."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from livesupport.domain.listing import BadParameterError
from livesupport.domain.people import Person, Role

#: What a breakdown groups by: priority, organisation, or the engineers assigned (a ticket counts for each).
GROUPS = ("priority", "org", "engineer")
MAX_DAYS = 366 * 2  # two years a question: the page draws a point a day
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
#: A spreadsheet reads a cell starting with one of these as a formula (CSV injection).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def may_read(person: Person) -> bool:
    """Level 3 engineers and admins read the desk's reports."""
    return person.role is Role.ADMIN or (person.role is Role.STAFF and (person.tier or 0) >= 3)


@dataclass(frozen=True, slots=True)
class Range:
    """Whole days, `first` to `last` included, in the company's time zone."""

    first: date
    last: date
    tz: ZoneInfo

    @property
    def start(self) -> datetime:
        return datetime.combine(self.first, time(0), self.tz)

    @property
    def end(self) -> datetime:
        """The instant after the range: midnight that ends its last day."""
        return datetime.combine(self.last + timedelta(days=1), time(0), self.tz)

    def days(self) -> list[date]:
        return [self.first + timedelta(days=i) for i in range((self.last - self.first).days + 1)]


def _day(value: str | None, name: str) -> date | None:
    if value is None or value == "":
        return None
    if not _DAY.fullmatch(value):
        raise BadParameterError(name, f"give a date like 2026-03-31, not {value[:40]!r}.")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise BadParameterError(name, f"{value} is not a day of the calendar.") from None


def parse_range(start: str | None, end: str | None, today: date, tz: ZoneInfo) -> Range:
    """`from` and `to` (YYYY-MM-DD, both included); the last 30 days up to today when left out."""
    last = _day(end, "to") or today
    first = _day(start, "from") or last - timedelta(days=29)
    if first > last:
        raise BadParameterError("from", f"the range starts ({first}) after it ends ({last}).")
    if (last - first).days + 1 > MAX_DAYS:
        raise BadParameterError("to", f"a report covers at most {MAX_DAYS} days; this asks for "
                                      f"{(last - first).days + 1}.")
    return Range(first, last, tz)


def rank(count: int, fraction: float) -> int:
    """The 1-based position of the `fraction` percentile in `count` sorted values (nearest rank)."""
    return max(1, math.ceil(fraction * count))


def safe_cell(value: object) -> str:
    """A CSV cell a spreadsheet shows as text: one starting like a formula gets a leading apostrophe."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_START) else text
