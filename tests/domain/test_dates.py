"""One format for days and times across the product, table by table."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from livesupport.domain import dates

NY = ZoneInfo("America/New_York")


@pytest.mark.parametrize(("at", "seconds", "said"), [
    (time(0, 0), False, "12:00 AM"), (time(0, 1), False, "12:01 AM"), (time(9, 5), False, "9:05 AM"),
    (time(11, 59), False, "11:59 AM"), (time(12, 0), False, "12:00 PM"), (time(13, 30), False, "1:30 PM"),
    (time(23, 59, 59), True, "11:59:59 PM"), (time(0, 0, 59), True, "12:00:59 AM"),
])
def test_clock(at: time, seconds: bool, said: str) -> None:
    assert dates.clock(at, seconds) == said


@pytest.mark.parametrize(("on", "weekday", "year", "said"), [
    (date(2026, 12, 5), False, True, "Dec 5, 2026"), (date(2026, 11, 26), True, False, "Thursday Nov 26"),
    (date(2027, 1, 1), True, True, "Friday Jan 1, 2027"), (date(2027, 5, 31), False, False, "May 31"),
])
def test_day(on: date, weekday: bool, year: bool, said: str) -> None:
    assert dates.day(on, weekday=weekday, year=year) == said


@pytest.mark.parametrize(("first", "last", "said"), [
    (date(2026, 12, 3), date(2026, 12, 5), "Dec 3 – Dec 5, 2026"),
    (date(2026, 12, 3), date(2027, 1, 2), "Dec 3, 2026 – Jan 2, 2027"),
    (date(2026, 12, 3), date(2026, 12, 3), "on Dec 3, 2026"),
    (date(2026, 12, 3), None, "from Dec 3, 2026"), (None, date(2026, 12, 5), "to Dec 5, 2026"), (None, None, ""),
])
def test_days(first: date | None, last: date | None, said: str) -> None:
    assert dates.days(first, last) == said


@pytest.mark.parametrize(("first", "said"), [(date(2026, 12, 1), "December 2026"), (date(2027, 2, 1), "February 2027")])
def test_month(first: date, said: str) -> None:
    assert dates.month(first) == said


@pytest.mark.parametrize(("instant", "options", "said"), [
    (datetime(2026, 12, 5, 5, 1, tzinfo=UTC), {}, "Dec 5, 2026, 12:01 AM EST"),
    (datetime(2027, 3, 15, 4, 1, tzinfo=UTC), {}, "Mar 15, 2027, 12:01 AM EDT"),  # summer time
    (datetime(2026, 12, 5, 5, 1, tzinfo=UTC), {"year": False}, "Dec 5, 12:01 AM EST"),
    (datetime(2026, 12, 5, 5, 0, 59, tzinfo=UTC), {"seconds": True}, "Dec 5, 2026, 12:00:59 AM EST"),
    (datetime(2026, 12, 3, 17, 12, tzinfo=UTC), {"zone": False}, "Dec 3, 2026, 12:12 PM"),
    (datetime(2026, 12, 31, 23, 30, tzinfo=timezone(timedelta(hours=-5))), {}, "Dec 31, 2026, 11:30 PM EST"),
])
def test_moment(instant: datetime, options: dict[str, bool], said: str) -> None:
    assert dates.moment(instant, NY, **options) == said


def test_a_moment_needs_its_zone() -> None:
    with pytest.raises(ValueError):
        dates.moment(datetime(2026, 12, 5, 5, 1), NY)


@pytest.mark.parametrize(("value", "found"), [
    ("2026-12-03T17:12:00Z", datetime(2026, 12, 3, 17, 12, tzinfo=UTC)),
    ("2026-12-03T12:12:00-05:00", datetime(2026, 12, 3, 17, 12, tzinfo=UTC)),
    ("2026-12-03T17:12:00", datetime(2026, 12, 3, 17, 12, tzinfo=UTC)),  # the database keeps UTC
    (datetime(2026, 12, 3, 17, 12), datetime(2026, 12, 3, 17, 12, tzinfo=UTC)),
    ("", None), (None, None), ("yesterday", None), (42, None),
])
def test_instant_of(value: object, found: datetime | None) -> None:
    assert dates.instant_of(value) == found
