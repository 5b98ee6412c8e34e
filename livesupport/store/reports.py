"""Report queries: counts and percentiles over the facts the write path keeps on tickets (plain SQL, indexed).

Tickets are picked by `created_at` (index ix_tickets_created_at_id) or `solved_at` (ix_tickets_solved_at);
percentiles are nearest-rank (PostgreSQL's percentile_disc; on SQLite ranked from one scan of the values).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, case, cast, func, literal, select
from sqlalchemy import Integer as SAInteger
from sqlalchemy.ext.asyncio import AsyncSession

from livesupport.domain.reports import rank
from livesupport.domain.sla import OPEN
from livesupport.store.models import Organisation, Ticket, TicketAssignee, User
from livesupport.store.models.ratings import TicketRating

OPEN_NAMES = [s.value for s in OPEN]


def seconds_between(s: AsyncSession, start: Any, end: Any) -> ColumnElement[Any]:
    """Whole seconds from `start` to `end`, in this session's dialect."""
    if _dialect(s) == "postgresql":
        return cast(func.extract("epoch", end - start), SAInteger)
    return cast(func.round((func.julianday(end) - func.julianday(start)) * 86400), SAInteger)


def epoch_hour(s: AsyncSession, column: Any) -> ColumnElement[Any]:
    """The hour since 1970 an instant falls in (a report's days are made of them, in the company's zone)."""
    if _dialect(s) == "postgresql":
        return cast(func.floor(func.extract("epoch", column) / 3600), SAInteger)
    return cast(func.strftime("%s", column), SAInteger) // 3600


def _dialect(s: AsyncSession) -> str:
    return s.bind.dialect.name if s.bind is not None else "sqlite"


def _grouping(group: str | None) -> tuple[Any, bool]:
    """(the group's column, whether it needs the assignees joined)."""
    if group is None:
        return literal("all"), False
    if group == "priority":
        return Ticket.priority, False
    if group == "org":
        return Ticket.org_id, False
    return TicketAssignee.user_id, True


def _picked(stmt: Any, joined: bool) -> Any:
    return stmt.outerjoin(TicketAssignee, TicketAssignee.ticket_id == Ticket.id) if joined else stmt


async def figures(s: AsyncSession, start: datetime, end: datetime, now: datetime,
                  group: str | None = None) -> dict[Any, dict[str, Any]]:
    """The summary's numbers for tickets created in [start, end) (solved: solved in it; backlog: open at `end`),
    by group (one key, "all", without)."""
    key, joined = _grouping(group)
    created = and_(Ticket.created_at >= start, Ticket.created_at < end)
    overdue = case((and_(Ticket.status.in_(OPEN_NAMES), Ticket.next_update_at < now), 1), else_=0)
    stmt = _picked(select(
        key.label("k"), func.count().label("created"), func.count(Ticket.first_response_at).label("responded"),
        func.coalesce(func.sum(Ticket.promises_kept), 0).label("met"),
        func.coalesce(func.sum(Ticket.promises_missed + overdue), 0).label("missed"),
    ).select_from(Ticket), joined).where(created)
    out: dict[Any, dict[str, Any]] = defaultdict(empty)
    for r in (await s.execute(stmt.group_by(key))).all():
        out[r.k].update(created=r.created, sla={"met": int(r.met), "missed": int(r.missed)})
    rated = _picked(select(  # from the ratings (fewer than tickets), each joined to its ticket
        key.label("k"), func.count(case((TicketRating.score == "good", 1))).label("good"),
        func.count(case((TicketRating.score == "bad", 1))).label("bad"),
    ).select_from(TicketRating).join(Ticket, Ticket.id == TicketRating.ticket_id), joined).where(created)
    for r in (await s.execute(rated.group_by(key))).all():
        out[r.k]["satisfaction"] = {"good": r.good, "bad": r.bad}
    solved = _picked(select(key.label("k"), func.count().label("n")).select_from(Ticket), joined).where(
        Ticket.solved_at >= start, Ticket.solved_at < end)
    for r in (await s.execute(solved.group_by(key))).all():
        out[r.k]["solved"] = r.n
    for r in await _backlog(s, key, joined, end):
        out[r.k]["backlog"] = r.n
    values = {
        "first_response": seconds_between(s, Ticket.created_at, Ticket.first_response_at),
        "first_response_business": Ticket.first_response_bh - Ticket.created_bh,
        "resolution": seconds_between(s, Ticket.created_at, Ticket.solved_at),
        "resolution_business": Ticket.solved_bh - Ticket.created_bh,
    }
    for k, spreads in (await percentiles(s, key, joined, values, created)).items():
        out[k].update(spreads)
    return dict(out)


async def _backlog(s: AsyncSession, key: Any, joined: bool, end: datetime) -> Sequence[Any]:
    """Tickets open at `end`: created before it, and not solved before it (a reopened ticket is open)."""
    stmt = _picked(select(key.label("k"), func.count().label("n")).select_from(Ticket), joined).where(
        Ticket.created_at < end, (Ticket.solved_at.is_(None)) | (Ticket.solved_at >= end))
    return (await s.execute(stmt.group_by(key))).all()


async def percentiles(s: AsyncSession, key: Any, joined: bool, values: dict[str, Any],
                      where: Any) -> dict[Any, dict[str, dict[str, Any]]]:
    """Count, median and 90th percentile (nearest rank, whole seconds) of each of `values` per group, None left
    out: in one pass. PostgreSQL's percentile_disc is nearest rank; SQLite has none, so the values come back
    and are ranked here (one scan, where a window per value would sort the rows four times)."""
    out: dict[Any, dict[str, dict[str, Any]]] = defaultdict(dict)
    if _dialect(s) == "postgresql":
        cols: list[Any] = [key.label("k")]
        for name, v in values.items():
            cols += [func.count(v).label(f"{name}_n"), func.percentile_disc(0.5).within_group(v).label(f"{name}_m"),
                     func.percentile_disc(0.9).within_group(v).label(f"{name}_p")]
        stmt = _picked(select(*cols).select_from(Ticket), joined).where(where).group_by(key)
        for r in (await s.execute(stmt)).mappings().all():
            for name in values:
                out[r["k"]][name] = {"count": r[f"{name}_n"], "median_s": _int(r[f"{name}_m"]),
                                     "p90_s": _int(r[f"{name}_p"])}
        return dict(out)
    stmt = _picked(select(key.label("k"), *(v.label(name) for name, v in values.items())).select_from(Ticket),
                   joined).where(where)
    found: dict[Any, dict[str, list[int]]] = defaultdict(lambda: {name: [] for name in values})
    for row in (await s.execute(stmt)).all():
        lists = found[row[0]]
        for i, name in enumerate(values, 1):
            if row[i] is not None:
                lists[name].append(row[i])
    for k, lists in found.items():
        for name, got in lists.items():
            got.sort()
            out[k][name] = {"count": len(got), "median_s": got[rank(len(got), 0.5) - 1] if got else None,
                            "p90_s": got[rank(len(got), 0.9) - 1] if got else None}
    return dict(out)


def _int(v: Any) -> int | None:
    return None if v is None else int(v)


def empty() -> dict[str, Any]:
    spread = {"count": 0, "median_s": None, "p90_s": None}
    return {"created": 0, "solved": 0, "backlog": 0, "first_response": dict(spread), "resolution": dict(spread),
            "first_response_business": dict(spread), "resolution_business": dict(spread),
            "sla": {"met": 0, "missed": 0}, "satisfaction": {"good": 0, "bad": 0}}


async def hourly(s: AsyncSession, start: datetime, end: datetime) -> dict[str, dict[int, int]]:
    """Tickets created and solved in [start, end), by hour since 1970; and those open before `start`."""
    out: dict[str, dict[int, int]] = {}
    for name, column in (("created", Ticket.created_at), ("solved", Ticket.solved_at)):
        hour = epoch_hour(s, column)
        rows = await s.execute(select(hour.label("h"), func.count().label("n")).where(
            column >= start, column < end).group_by(hour))
        out[name] = {int(r.h): r.n for r in rows.all()}
    before = (await _backlog(s, literal("all"), False, start))
    out["before"] = {0: before[0].n if before else 0}
    return out


async def names(s: AsyncSession, group: str, keys: list[Any]) -> dict[Any, str]:
    """What a breakdown's keys are called: organisations' and engineers' names."""
    ids = [k for k in keys if isinstance(k, int)]
    if group == "org" and ids:
        rows = await s.execute(select(Organisation.id, Organisation.name).where(Organisation.id.in_(ids)))
        return {r.id: r.name for r in rows.all()}
    if group == "engineer" and ids:
        rows = await s.execute(select(User.id, User.name).where(User.id.in_(ids)))
        return {r.id: r.name for r in rows.all()}
    return {}


async def rows(s: AsyncSession, start: datetime, end: datetime, after: int, limit: int) -> Sequence[Any]:
    """A page of the tickets created in [start, end), by id, with their facts (the CSV export)."""
    stmt = select(Ticket.id, Ticket.subject, Ticket.status, Ticket.priority, Organisation.name.label("org"),
                  Ticket.created_at, Ticket.first_response_at, Ticket.solved_at, Ticket.created_bh,
                  Ticket.first_response_bh, Ticket.solved_bh, Ticket.promises_kept, Ticket.promises_missed,
                  Ticket.next_update_at, TicketRating.score).join(Organisation, Organisation.id == Ticket.org_id) \
        .outerjoin(TicketRating, TicketRating.ticket_id == Ticket.id) \
        .where(Ticket.created_at >= start, Ticket.created_at < end, Ticket.id > after).order_by(Ticket.id).limit(limit)
    return (await s.execute(stmt)).all()


async def today(s: AsyncSession, start: datetime, now: datetime) -> dict[str, int]:
    """Today's counters: opened and solved since `start` (the company's midnight), open and overdue now."""
    opened = await s.scalar(select(func.count()).where(Ticket.created_at >= start))
    solved = await s.scalar(select(func.count()).where(Ticket.solved_at >= start))
    open_now = await s.scalar(select(func.count()).where(Ticket.status.in_(OPEN_NAMES)))
    overdue = await s.scalar(select(func.count()).where(Ticket.status.in_(OPEN_NAMES), Ticket.next_update_at <= now))
    return {"opened": opened or 0, "solved": solved or 0, "open": open_now or 0, "overdue": overdue or 0}
