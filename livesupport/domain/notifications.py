"""Who follows a ticket, when their e-mail is due, and how a failed send backs off. Pure: times are passed in."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Literal
from zoneinfo import ZoneInfo

from livesupport.domain.errors import BadRequestError
from livesupport.domain.numbers import parse_int


class Mode(StrEnum):
    """How often someone wants e-mail about the tickets they follow."""

    IMMEDIATE = "immediate"  # one e-mail per ticket once the coalescing window has passed
    DAILY = "daily"  # one digest a day, at their hour
    OFF = "off"


DEFAULT_MODE = Mode.IMMEDIATE
DEFAULT_DIGEST_HOUR = 8

#: Why someone follows a ticket; the first three come from the ticket itself, the last two are choices.
Reason = Literal["opened", "assignee", "member", "follow", "added"]
CHOSEN: frozenset[str] = frozenset({"follow", "added"})

REASON_WORDS: dict[str, str] = {
    "opened": "you opened this ticket",
    "assignee": "you are assigned to this ticket",
    "member": "you are in this ticket's huddle",
    "follow": "you follow this ticket",
    "added": "you were added to this ticket",
}

FIRST_RETRY = timedelta(seconds=30)
LAST_RETRY = timedelta(hours=1)


def check_mode(value: object) -> Mode:
    try:
        return Mode(str(value))
    except ValueError:
        raise BadRequestError("Choose how often we e-mail you: immediately, a daily digest, or never.") from None


def check_hour(value: object) -> int:
    """An hour of the day, 0 to 23, as a number or as the text a form sends."""
    hour = parse_int(value.strip() if isinstance(value, str) else value, 0, 23)  # a form may pad it
    if hour is None:
        raise BadRequestError("The digest hour is a whole hour from 0 (midnight) to 23.")
    return hour


def reason_for(
    user_id: int, opened_by: int, assignees: Collection[int], members: Collection[int],
    chosen: Mapping[int, tuple[str, bool]],
) -> Reason | None:
    """Why this person follows the ticket, or None. `chosen`: user id -> (reason, muted) of their own choices.

    Unfollowing (muted) wins over every automatic reason, so being assigned again does not undo it.
    """
    choice = chosen.get(user_id)
    if choice is not None and choice[1]:
        return None
    if user_id == opened_by:
        return "opened"
    if user_id in assignees:
        return "assignee"
    if user_id in members:
        return "member"
    if choice is not None:
        return "added" if choice[0] == "added" else "follow"
    return None


def followers(
    opened_by: int, assignees: Collection[int], members: Collection[int], chosen: Mapping[int, tuple[str, bool]],
) -> dict[int, Reason]:
    """Everyone who follows a ticket, with why."""
    out: dict[int, Reason] = {}
    for uid in {opened_by, *assignees, *members, *chosen}:
        reason = reason_for(uid, opened_by, assignees, members, chosen)
        if reason is not None:
            out[uid] = reason
    return out


def mail_due(pending_since: datetime, window: timedelta) -> datetime:
    """The first untold update waits out the window, so the next ones join it in one e-mail."""
    return pending_since + window


def digest_day(now: datetime, tz: ZoneInfo, hour: int) -> date | None:
    """The local day whose digest is due at `now` (from the chosen hour on), or None before that hour."""
    local = now.astimezone(tz)
    return local.date() if local.hour >= hour else None


def retry_delay(attempts: int) -> timedelta:
    """After the n-th failed try: 30 s, 1 min, 2 min, 4 min … at most an hour."""
    return min(FIRST_RETRY * (2 ** max(0, attempts - 1)), LAST_RETRY)
