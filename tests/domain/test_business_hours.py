"""The desk's business clock: Monday to Friday, 09:00-17:00 in its zone, holidays skipped."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from livesupport.domain.business_hours import DeskHours
from livesupport.domain.reports import safe_cell

NY = ZoneInfo("America/New_York")
DESK = DeskHours(NY, holidays=frozenset({date(2021, 3, 10)}))


def ny(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=NY)


@pytest.mark.parametrize(("start", "end", "hours"), [
    ("2021-03-01T10:00", "2021-03-01T11:00", 1),      # inside one day
    ("2021-03-01T07:00", "2021-03-01T10:00", 1),      # before opening counts nothing
    ("2021-03-01T16:00", "2021-03-02T10:00", 2),      # over a night
    ("2021-03-05T16:00", "2021-03-08T09:30", 1.5),    # over a weekend
    ("2021-03-06T12:00", "2021-03-07T12:00", 0),      # a weekend only
    ("2021-03-09T16:00", "2021-03-11T10:00", 2),      # over a holiday
    ("2021-03-12T16:00", "2021-03-15T10:00", 2),      # over the change to summer time (14 March)
    ("1999-12-31T16:00", "2000-01-03T10:00", 2),      # before the clock's first Monday
])
def test_business_time_between(start: str, end: str, hours: float) -> None:
    assert DESK.between(ny(start), ny(end)) == hours * 3600


@pytest.mark.parametrize(("value", "shown"), [
    ("=1+1", "'=1+1"), ("+1", "'+1"), ("-1", "'-1"), ("@A1", "'@A1"), ("\tx", "'\tx"), ("Printer", "Printer"),
    (None, ""), (12, "12")])
def test_csv_cells(value: object, shown: str) -> None:
    assert safe_cell(value) == shown
