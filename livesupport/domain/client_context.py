"""What staff should know about the client while they work a ticket: rules that depend on the time."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from livesupport.domain.errors import BadRequestError
from livesupport.domain.phone import VERIFIED_FOR

MAX_ZONE = 64
WORKING_HOURS = (8, 18)  # the contact's local hours in which a phone call is welcome


def verified_recently(verified_at: datetime, now: datetime, window: timedelta = VERIFIED_FOR) -> bool:
    """Was the caller verified within `window` before `now` (and not in the future: a clock skew is no proof)?"""
    return now - window <= verified_at <= now


def check_time_zone(name: object) -> str:
    """An IANA time zone name such as 'Europe/Paris', as a browser's Intl API reports it."""
    if isinstance(name, str) and 0 < len(name) <= MAX_ZONE and _zone(name) is not None:
        return name
    raise BadRequestError("time_zone must be an IANA time zone name such as 'Europe/Paris'.")


def local_time(zone: str | None, now: datetime) -> dict[str, object] | None:
    """The contact's wall clock at `now`: None when their time zone is not known (or no longer exists)."""
    tz = _zone(zone) if zone else None
    if tz is None:
        return None
    local = now.astimezone(tz)
    offset = local.utcoffset() or timedelta()
    minutes = int(offset.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "\u2212"
    hours, mins = divmod(abs(minutes), 60)
    return {
        "time_zone": zone,
        "at": local.isoformat(timespec="seconds"),
        "clock": local.strftime("%H:%M"),
        "day": local.strftime("%A"),
        "offset": f"UTC{sign}{hours:02d}:{mins:02d}",
        "working_hours": WORKING_HOURS[0] <= local.hour < WORKING_HOURS[1] and local.weekday() < 5,
    }


def own_zone(name: str | None, default: ZoneInfo) -> tuple[ZoneInfo, bool]:
    """A person's time zone from the name their browser reported (and whether it is theirs); `default`, the
    desk's, while none is known or the name no longer exists."""
    tz = _zone(name) if name else None
    return (tz, True) if tz is not None else (default, False)


def _zone(name: str) -> ZoneInfo | None:
    if name.startswith(("/", ".")) or ".." in name or "\\" in name:
        return None  # a name, never a path
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return None
