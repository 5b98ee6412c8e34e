"""How the product writes days and times: one format everywhere ("Dec 5, 2026, 12:01 AM EST"). Pure functions.

Written out rather than strftime'd (strftime follows the process locale). The browser writes the same format in
the viewer's own zone (static/format.js); pages send this one, in the company's zone, until it does.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, tzinfo

MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December")
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def clock(at: time | datetime, seconds: bool = False) -> str:
    """12:01 AM, 3:30 PM (12:00:59 AM with seconds)."""
    hour = at.hour % 12 or 12
    sec = f":{at.second:02d}" if seconds else ""
    return f"{hour}:{at.minute:02d}{sec} {'AM' if at.hour < 12 else 'PM'}"


def day(on: date, weekday: bool = False, year: bool = True) -> str:
    """Dec 5, 2026; Thursday Nov 26 (weekday, no year)."""
    words = f"{MONTHS[on.month - 1][:3]} {on.day}" + (f", {on.year}" if year else "")
    return f"{WEEKDAYS[on.weekday()]} {words}" if weekday else words


def days(first: date | None, last: date | None) -> str:
    """Dec 3 – Dec 5, 2026; Dec 3, 2026 – Jan 2, 2027; on Dec 3, 2026; from Dec 3, 2026; to Dec 5, 2026."""
    if first is not None and last is not None:
        if first == last:
            return f"on {day(first)}"
        return f"{day(first, year=first.year != last.year)} – {day(last)}"
    if first is not None:
        return f"from {day(first)}"
    return f"to {day(last)}" if last is not None else ""


def month(first: date) -> str:
    """December 2026."""
    return f"{MONTHS[first.month - 1]} {first.year}"


def moment(instant: datetime, tz: tzinfo, *, year: bool = True, seconds: bool = False, zone: bool = True) -> str:
    """Dec 5, 2026, 12:01 AM EST: an instant as the clock of `tz` shows it."""
    if instant.tzinfo is None:
        raise ValueError("an instant needs its time zone")
    local = instant.astimezone(tz)
    words = f"{day(local.date(), year=year)}, {clock(local, seconds)}"
    return f"{words} {local.tzname()}" if zone else words


def instant_of(value: object) -> datetime | None:
    """An aware datetime from a datetime or an ISO 8601 text ("…Z" too); None for nothing or an unreadable one.
    A naive one is read as UTC (the database keeps UTC)."""
    if isinstance(value, datetime):
        found = value
    elif isinstance(value, str) and value:
        try:
            found = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
    else:
        return None
    return found if found.tzinfo is not None else found.replace(tzinfo=UTC)
