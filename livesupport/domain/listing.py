"""What `GET /api/tickets` is asked for: filters, sort and page size, read and checked from the query string.

Pure: no I/O, no clock. Each bad parameter is refused with a sentence naming it; parameters this list does not
know are ignored, as they always were. `q` narrows the list to a full-text search (domain/search.py reads it)
and then sorts by relevance unless another sort is asked for. `updated_from` / `updated_to` are days (2026-12-03)
in the zone the caller passes (the asker's own): from the start of the first to the end of the last, inclusive.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Literal, cast

from livesupport.domain.errors import LivesupportError
from livesupport.domain.numbers import parse_id, parse_int
from livesupport.domain.search import parse as parse_search
from livesupport.domain.tickets import Priority, Status

Sort = Literal["-updated", "created", "-created", "next_update", "priority", "relevance"]
SORTS: tuple[Sort, ...] = ("-updated", "created", "-created", "next_update", "priority", "relevance")
DEFAULT_SORT: Sort = "-updated"
MAX_LIMIT = 100
DEFAULT_LIMIT = 50
#: Most urgent first: the order of the `priority` sort.
PRIORITY_ORDER: tuple[str, ...] = (Priority.URGENT, Priority.HIGH, Priority.NORMAL, Priority.LOW)
#: A query string no person types: more values than this for one parameter is a mistake, not a filter.
MAX_VALUES = 20
_SINGLE = ("q", "priority", "assignee", "org", "overdue", "waiting_on", "updated_after", "updated_before",
           "updated_from", "updated_to", "sort", "limit", "cursor")
#: The days a day filter takes: far wider than any ticket's life, and narrow enough that a day's end is an instant.
FIRST_DAY, LAST_DAY = date(1970, 1, 1), date(9998, 12, 31)
_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


class BadParameterError(LivesupportError):
    """A query parameter of a list that cannot be read; the message names it."""

    code = "bad_parameter"

    def __init__(self, parameter: str, message: str) -> None:
        super().__init__(f"{parameter}: {message}")
        self.parameter = parameter


class BadCursorError(LivesupportError):
    """A cursor this server did not give out, was changed, or belongs to another query or person."""

    code = "bad_cursor"


@dataclass(frozen=True, slots=True)
class ListQuery:
    """A list's filters and sort (what a cursor is bound to), its page size and the cursor, as sent."""

    q: str | None = None
    statuses: tuple[str, ...] = ()
    priority: str | None = None
    assignee: Literal["me", "none"] | int | None = None
    org: int | None = None
    overdue: bool = False
    waiting_on: Literal["client", "us"] | None = None
    updated_after: datetime | None = None
    updated_before: datetime | None = None
    updated_from: date | None = None
    updated_to: date | None = None
    #: The two days as instants in the asker's zone: the first day's start (inclusive), the day after the last's
    #: start (exclusive).
    updated_since: datetime | None = None
    updated_until: datetime | None = None
    sort: Sort = DEFAULT_SORT
    limit: int = DEFAULT_LIMIT
    cursor: str | None = None

    def fingerprint(self) -> str:
        """The filters and sort in one canonical spelling, hashed: the same question always gives the same text,
        and a cursor carries it so it cannot be replayed on another question (the page size may change)."""
        parts = [",".join(self.statuses), self.priority or "", str(self.assignee or ""), str(self.org or ""),
                 "1" if self.overdue else "", self.waiting_on or "", _instant(self.updated_after),
                 _instant(self.updated_before), self.sort, self.q or ""]
        if self.updated_since or self.updated_until:  # only then: the cursors given before days existed still hold
            parts += [_instant(self.updated_since), _instant(self.updated_until)]
        return hashlib.sha256("|".join(parts).encode()).hexdigest()[:32]


def _instant(at: datetime | None) -> str:
    return at.astimezone(UTC).isoformat() if at is not None else ""


def parse_instant(parameter: str, text: str) -> datetime:
    """An ISO-8601 instant with its UTC offset (`Z` or `+02:00`); a date alone or a local time is refused."""
    try:
        if len(text) > 40 or not text.isascii():
            raise ValueError
        at = datetime.fromisoformat(text)
    except ValueError:
        raise BadParameterError(parameter, f"{text[:40]!r} is not an instant: write ISO 8601 with the offset, "
                                           "e.g. 2026-12-03T09:30:00Z or 2026-12-03T10:30:00+01:00.") from None
    if at.tzinfo is None or at.utcoffset() is None:
        raise BadParameterError(parameter, f"{text!r} has no UTC offset: add Z or e.g. +01:00, so it names one "
                                           "instant.")
    return at


def parse_day(parameter: str, text: str) -> date:
    """A calendar day written YYYY-MM-DD (what a date input sends), from FIRST_DAY to LAST_DAY."""
    try:
        if not _DAY.fullmatch(text):
            raise ValueError
        on = date.fromisoformat(text)
    except ValueError:
        raise BadParameterError(parameter, f"{text[:40]!r} is not a day: write it as YYYY-MM-DD, e.g. "
                                           "2026-12-03.") from None
    if not FIRST_DAY <= on <= LAST_DAY:
        raise BadParameterError(parameter, f"{text} is out of range: give a day from {FIRST_DAY} to {LAST_DAY}.")
    return on


def day_start(on: date, zone: tzinfo) -> datetime:
    """The instant a day begins on the clocks of `zone` (where midnight is skipped, the moment the day starts)."""
    return datetime.combine(on, time(0), zone).astimezone(UTC)


def _one(params: Mapping[str, Sequence[str]], name: str) -> str | None:
    values = params.get(name) or []
    if len(values) > 1:
        raise BadParameterError(name, "give it once.")
    return values[0] if values else None


def _choice(name: str, text: str, allowed: Sequence[str]) -> str:
    if text not in allowed:
        raise BadParameterError(name, f"{text[:40]!r} is not one of {', '.join(allowed)}.")
    return text


def parse_query(params: Mapping[str, Sequence[str]], zone: tzinfo = UTC) -> ListQuery:
    """Read the query string (each name with every value it was given) into a ListQuery, or refuse. `zone` is the
    asker's time zone, whose clocks the days of updated_from / updated_to are read on."""
    for name in _SINGLE:
        _one(params, name)
    raw_statuses = list(params.get("status") or [])
    if len(raw_statuses) > MAX_VALUES:
        raise BadParameterError("status", f"give at most {MAX_VALUES} values.")
    statuses = tuple(sorted({_choice("status", s, [v.value for v in Status]) for s in raw_statuses}))
    priority = _one(params, "priority")
    if priority is not None:
        _choice("priority", priority, [p.value for p in Priority])
    assignee: Literal["me", "none"] | int | None = None
    raw = _one(params, "assignee")
    if raw in ("me", "none"):
        assignee = cast(Literal["me", "none"], raw)
    elif raw is not None:
        assignee = parse_id(raw)
        if assignee is None:
            raise BadParameterError("assignee", f"{raw[:40]!r} is neither me, none nor a user id (digits 0-9).")
    org: int | None = None
    raw = _one(params, "org")
    if raw is not None:
        org = parse_id(raw)
        if org is None:
            raise BadParameterError("org", f"{raw[:40]!r} is not an organisation id (a whole number, digits 0-9).")
    overdue = _one(params, "overdue")
    if overdue is not None:
        _choice("overdue", overdue, ["true", "false"])
    waiting_on = _one(params, "waiting_on")
    if waiting_on is not None:
        _choice("waiting_on", waiting_on, ["client", "us"])
    after = _one(params, "updated_after")
    before = _one(params, "updated_before")
    updated_after = parse_instant("updated_after", after) if after is not None else None
    updated_before = parse_instant("updated_before", before) if before is not None else None
    if updated_after is not None and updated_before is not None and updated_after >= updated_before:
        raise BadParameterError("updated_before", "it must come after updated_after, or nothing can match.")
    first, last = _one(params, "updated_from"), _one(params, "updated_to")
    updated_from = parse_day("updated_from", first) if first is not None else None
    updated_to = parse_day("updated_to", last) if last is not None else None
    if updated_from is not None and updated_to is not None and updated_to < updated_from:
        raise BadParameterError("updated_to", f"{updated_to} is before updated_from ({updated_from}), so nothing can "
                                              "match: give the same day or a later one.")
    q = _one(params, "q")
    if q is not None:
        parse_search(q)  # refused (bad_query) before any database work: empty, too long, nothing to look for
    sort = _one(params, "sort") or ("relevance" if q is not None else DEFAULT_SORT)
    _choice("sort", sort, SORTS)
    if sort == "relevance" and q is None:
        raise BadParameterError("sort", "relevance ranks the matches of a search: give q too, or another sort.")
    raw = _one(params, "limit")
    limit = DEFAULT_LIMIT
    if raw is not None:
        parsed = parse_int(raw, 1, MAX_LIMIT)
        if parsed is None:
            raise BadParameterError("limit", f"{raw[:40]!r} is not a whole number from 1 to {MAX_LIMIT} "
                                              "(digits 0-9).")
        limit = parsed
    cursor = _one(params, "cursor")
    if cursor is not None and not cursor:
        raise BadParameterError("cursor", "it is empty: leave it out for the first page, or send the `next` of "
                                          "the page before.")
    return ListQuery(q=q, statuses=statuses, priority=priority, assignee=assignee, org=org, overdue=overdue == "true",
                     waiting_on=cast(Literal["client", "us"] | None, waiting_on),  # checked by _choice above
                     updated_after=updated_after, updated_before=updated_before, updated_from=updated_from,
                     updated_to=updated_to, updated_since=day_start(updated_from, zone) if updated_from else None,
                     updated_until=day_start(updated_to + timedelta(days=1), zone) if updated_to else None,
                     sort=cast(Sort, sort), limit=limit, cursor=cursor)
