"""Business days in the company's time zone: Monday to Friday, except its holidays. Pure."""

from __future__ import annotations

from collections.abc import Container
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo


def is_business_day(day: date, holidays: Container[date]) -> bool:
    return day.weekday() < 5 and day not in holidays


def end_of_business_days(start: datetime, days: int, tz: ZoneInfo, holidays: Container[date]) -> datetime:
    """The end (23:59:59 local) of the `days`-th business day after `start`'s local day.

    Friday afternoon plus 2 business days is the end of Tuesday; a start on a holiday or a weekend counts
    from the next business day, so nobody loses a day to when a request happened to arrive.
    """
    if days < 1:
        raise ValueError("a deadline is at least one business day away")
    day = start.astimezone(tz).date()
    counted = 0
    while counted < days:
        day += timedelta(days=1)
        if is_business_day(day, holidays):
            counted += 1
    return datetime.combine(day, time(23, 59, 59), tz)
