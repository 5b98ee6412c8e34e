"""The time-based rules of the client context, at chosen instants."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from livesupport.domain.client_context import check_time_zone, local_time, verified_recently
from livesupport.domain.errors import BadRequestError

NOW = datetime(2031, 3, 14, 15, 0, tzinfo=UTC)  # a Friday


@pytest.mark.parametrize(("ago", "verified"), [
    (timedelta(0), True), (timedelta(minutes=29, seconds=59), True), (timedelta(minutes=30), True),
    (timedelta(minutes=30, seconds=1), False), (timedelta(hours=5), False), (-timedelta(seconds=1), False),
])
def test_verified_in_the_last_30_minutes(ago: timedelta, verified: bool) -> None:
    assert verified_recently(NOW - ago, NOW) is verified


@pytest.mark.parametrize("zone", ["Europe/Paris", "America/Argentina/Buenos_Aires", "UTC", "Asia/Kathmandu"])
def test_time_zones_browsers_report(zone: str) -> None:
    assert check_time_zone(zone) == zone


@pytest.mark.parametrize("zone", ["", " ", "Mars/Olympus", "../../etc/passwd", "/etc/localtime", "Europe\\Paris",
                                  "x" * 65, None, 7, ["UTC"]])
def test_anything_else_is_refused(zone: object) -> None:
    with pytest.raises(BadRequestError, match="IANA time zone"):
        check_time_zone(zone)


@pytest.mark.parametrize(("zone", "at", "clock", "day", "offset", "working"), [
    ("Asia/Kathmandu", NOW, "20:45", "Friday", "UTC+05:45", False),
    ("America/New_York", NOW, "11:00", "Friday", "UTC\u221204:00", True),  # summer time since the 9th
    ("America/New_York", NOW - timedelta(days=7), "10:00", "Friday", "UTC\u221205:00", True),
    ("Europe/London", NOW + timedelta(days=1), "15:00", "Saturday", "UTC+00:00", False),
    ("Pacific/Auckland", NOW, "04:00", "Saturday", "UTC+13:00", False),
])
def test_the_contacts_wall_clock(zone: str, at: datetime, clock: str, day: str, offset: str, working: bool) -> None:
    seen = local_time(zone, at)
    assert seen is not None
    assert (seen["clock"], seen["day"], seen["offset"], seen["working_hours"]) == (clock, day, offset, working)
    assert seen["time_zone"] == zone and seen["at"] == at.astimezone(ZoneInfo(zone)).isoformat(timespec="seconds")


@pytest.mark.parametrize("zone", [None, "", "Gone/Zone"])
def test_an_unknown_zone_has_no_local_time(zone: str | None) -> None:
    assert local_time(zone, NOW) is None
