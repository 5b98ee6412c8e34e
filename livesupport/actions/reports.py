"""Reports for Level 3 engineers and admins: how the desk is doing over a range of days."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from livesupport.clock import Clock, iso
from livesupport.domain.business_hours import DeskHours
from livesupport.domain.errors import ForbiddenError
from livesupport.domain.listing import BadParameterError
from livesupport.domain.people import Person
from livesupport.domain.reports import GROUPS, Range, may_read, parse_range, safe_cell
from livesupport.store import reports as store
from livesupport.store.database import Database

CSV_COLUMNS = ["id", "subject", "organisation", "priority", "status", "created_at", "first_response_at",
               "first_response_s", "first_response_business_s", "solved_at", "resolution_s",
               "resolution_business_s", "promises_kept", "promises_missed", "rating"]


class Reports:
    def __init__(self, db: Database, clock: Clock, desk: DeskHours) -> None:
        self.db, self.clock, self.desk = db, clock, desk

    @property
    def tz(self) -> ZoneInfo:
        return self.desk.tz

    def range(self, person: Person | None, start: str | None, end: str | None) -> Range:
        """The range asked for, once the reader may read reports (raises otherwise)."""
        if person is None or not may_read(person):
            raise ForbiddenError("Reports are for Level 3 engineers and admins.")
        return parse_range(start, end, self.clock.now().astimezone(self.tz).date(), self.tz)

    async def summary(self, rng: Range, by: str | None = None) -> dict[str, Any]:
        """The summary of GET /api/reports/summary; `by` (comma-separated groups) adds breakdowns."""
        groups = _groups(by)
        async with self.db.read() as s:
            out = (await store.figures(s, rng.start, rng.end, self.clock.now())).get("all") or store.empty()
            out = {"from": rng.first.isoformat(), "to": rng.last.isoformat(), **out}
            if groups:
                out["by"] = {g: await self._breakdown(s, rng, g) for g in groups}
        return out

    async def _breakdown(self, s: Any, rng: Range, group: str) -> list[dict[str, Any]]:
        found = await store.figures(s, rng.start, rng.end, self.clock.now(), group)
        names = await store.names(s, group, list(found))
        rows = [{"key": k, "name": _name(group, k, names), **f} for k, f in found.items()]
        return sorted(rows, key=lambda r: (-r["created"], str(r["name"])))

    async def page(self, rng: Range) -> dict[str, Any]:
        """Everything /reports shows: the summary, breakdowns by every group, and a point per day."""
        summary = await self.summary(rng, ",".join(GROUPS))
        async with self.db.read() as s:
            hours = await store.hourly(s, rng.start, rng.end)
        return {**summary, "days": self._days(rng, hours)}

    def _days(self, rng: Range, hours: dict[str, dict[int, int]]) -> list[dict[str, Any]]:
        """Created, solved and the backlog at each day's end, in the company's days."""
        per_day: dict[str, dict[date, int]] = {"created": {}, "solved": {}}
        for name in per_day:
            for hour, n in hours[name].items():
                day = datetime.fromtimestamp(hour * 3600, UTC).astimezone(self.tz).date()
                per_day[name][day] = per_day[name].get(day, 0) + n
        backlog = hours["before"][0]
        out = []
        for day in rng.days():
            created, solved = per_day["created"].get(day, 0), per_day["solved"].get(day, 0)
            backlog += created - solved
            out.append({"day": day.isoformat(), "created": created, "solved": solved, "backlog": backlog})
        return out

    async def today(self) -> dict[str, Any]:
        """Today's counters, as the page's live panel shows them."""
        now = self.clock.now()
        midnight = datetime.combine(now.astimezone(self.tz).date(), time(0), self.tz)
        async with self.db.read() as s:
            counters = await store.today(s, midnight, now)
        return {**counters, "at": iso(now)}

    async def csv_rows(self, rng: Range) -> AsyncIterator[list[str]]:
        """The export: a header, then a row per ticket created in the range (cells safe for spreadsheets)."""
        yield CSV_COLUMNS
        after = 0
        while True:
            async with self.db.read() as s:
                batch = await store.rows(s, rng.start, rng.end, after, 1000)
            for r in batch:
                yield [safe_cell(v) for v in (
                    r.id, r.subject, r.org, r.priority, r.status, iso(r.created_at), iso(r.first_response_at),
                    _diff(r.first_response_at, r.created_at), _minus(r.first_response_bh, r.created_bh),
                    iso(r.solved_at), _diff(r.solved_at, r.created_at), _minus(r.solved_bh, r.created_bh),
                    r.promises_kept, r.promises_missed, r.score or "")]
            if len(batch) < 1000:
                return
            after = batch[-1].id


def _groups(by: str | None) -> list[str]:
    if not by:
        return []
    groups = [g.strip() for g in by.split(",") if g.strip()]
    for g in groups:
        if g not in GROUPS:
            raise BadParameterError("by", f"break down by {', '.join(GROUPS)}, not {g[:40]!r}.")
    return list(dict.fromkeys(groups))


def _name(group: str, key: Any, names: dict[Any, str]) -> str:
    if group == "engineer" and key is None:
        return "Unassigned"
    return names.get(key, str(key))


def _diff(end: datetime | None, start: datetime) -> int | None:
    return None if end is None else int((end - start) / timedelta(seconds=1))


def _minus(end: int | None, start: int | None) -> int | None:
    return None if end is None or start is None else end - start
