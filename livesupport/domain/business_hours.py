"""The desk's business hours as a clock that only runs while the desk is open. Pure.

The desk works Monday to Friday, 09:00-17:00 in the company's time zone (COMPANY_TIMEZONE), except its holidays
(HOLIDAYS). `reading(instant)` is how many business seconds have passed since a fixed Monday; the business time
between two instants is the difference of their readings, so the write path stores one reading per fact and
reports subtract them in SQL.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

EPOCH = date(2000, 1, 3)  # a Monday


@dataclass(frozen=True, slots=True)
class DeskHours:
    tz: ZoneInfo
    opens: time = time(9)
    closes: time = time(17)
    holidays: frozenset[date] = field(default_factory=frozenset)

    @property
    def day_seconds(self) -> int:
        return _seconds(self.closes) - _seconds(self.opens)

    def reading(self, instant: datetime) -> int:
        """Business seconds from EPOCH to `instant` (negative before it)."""
        local = instant.astimezone(self.tz)
        day = local.date()
        open_part = 0
        if day.weekday() < 5 and day not in self.holidays:
            open_part = min(max(_seconds(local.time()) - _seconds(self.opens), 0), self.day_seconds)
        return business_days_before(day, self.holidays) * self.day_seconds + open_part

    def between(self, start: datetime, end: datetime) -> int:
        """Business seconds from `start` to `end`."""
        return self.reading(end) - self.reading(start)


def business_days_before(day: date, holidays: frozenset[date]) -> int:
    """Weekdays that are not holidays in [EPOCH, day); negative, counted back, for a day before EPOCH."""
    n = (day - EPOCH).days
    count = 5 * (n // 7) + min(n % 7, 5)
    for h in holidays:
        if h.weekday() < 5:
            if EPOCH <= h < day:
                count -= 1
            elif day <= h < EPOCH:
                count += 1
    return count


def _seconds(t: time) -> int:
    return t.hour * 3600 + t.minute * 60 + t.second


DEFAULT_DESK = DeskHours(ZoneInfo("America/New_York"))
