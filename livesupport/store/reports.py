"""Report queries: counts and percentiles over the facts the write path keeps on tickets (plain SQL, indexed).

Tickets are picked by `created_at` (index ix_tickets_created_at_id) or `solved_at` (ix_tickets_solved_at);
percentiles are nearest-rank, by a window over the picked rows (SQLite and PostgreSQL alike).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, case, cast, func, literal, select
from sqlalchemy import Integer as SAInteger
from sqlalchemy.ext.asyncio import AsyncSession

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
        func.count(case((TicketRating.score == "good", 1))).label("good"),
        func.count(case((TicketRating.score == "bad", 1))).label("bad"),
    ).select_from(Ticket).outerjoin(TicketRating, TicketRating.ticket_id == Ticket.id), joined).where(created)
    out: dict[Any, dict[str, Any]] = defaultdict(empty)
    for r in (await s.execute(stmt.group_by(key))).all():
        f = out[r.k]
        f.update(created=r.created, sla={"met": int(r.met), "missed": int(r.missed)},
                 satisfaction={"good": r.good, "bad": r.bad})
    solved = _picked(select(key.label("k"), func.count().label("n")).select_from(Ticket), joined).where(
        Ticket.solved_at >= start, Ticket.solved_at < end)
    for r in (await s.execute(solved.group_by(key))).all():
        out[r.k]["solved"] = r.n
    for r in await _backlog(s, key, joined, end):
        out[r.k]["backlog"] = r.n
    calendar_fr = seconds_between(s, Ticket.created_at, Ticket.first_response_at)
    calendar_res = seconds_between(s, Ticket.created_at, Ticket.solved_at)
    for name, value, present in (
        ("first_response", calendar_fr, Ticket.first_response_at.is_not(None)),
        ("first_response_business", Ticket.first_response_bh - Ticket.created_bh,
         Ticket.first_response_bh.is_not(None) & Ticket.created_bh.is_not(None)),
        ("resolution", calendar_res, Ticket.solved_at.is_not(None)),
        ("resolution_business", Ticket.solved_bh - Ticket.created_bh,
         Ticket.solved_bh.is_not(None) & Ticket.created_bh.is_not(None)),
    ):
        for k, spread in (await percentiles(s, key, joined, value, and_(created, present))).items():
            out[k][name] = spread
    return dict(out)


async def _backlog(s: AsyncSession, key: Any, joined: bool, end: datetime) -> Sequence[Any]:
    """Tickets open at `end`: created before it, and not solved before it (a reopened ticket is open)."""
    stmt = _picked(select(key.label("k"), func.count().label("n")).select_from(Ticket), joined).where(
        Ticket.created_at < end, (Ticket.solved_at.is_(None)) | (Ticket.solved_at >= end))
    return (await s.execute(stmt.group_by(key))).all()


async def percentiles(s: AsyncSession, key: Any, joined: bool, value: Any, where: Any) -> dict[Any, dict[str, Any]]:
    """Count, median and 90th percentile (nearest rank, whole seconds) of `value` per group."""
    ranked = _picked(select(
        key.label("k"), value.label("v"),
        func.row_number().over(partition_by=key, order_by=value).label("rn"),
        func.count().over(partition_by=key).label("n"),
    ).select_from(Ticket), joined).where(where).subquery()
    stmt = select(
        ranked.c.k, func.max(ranked.c.n).label("n"),
        func.max(case((ranked.c.rn == (ranked.c.n + 1) // 2, ranked.c.v))).label("median"),
        func.max(case((ranked.c.rn == (ranked.c.n * 9 + 9) // 10, ranked.c.v))).label("p90"),
    ).group_by(ranked.c.k)
    return {r.k: {"count": r.n, "median_s": _int(r.median), "p90_s": _int(r.p90)}
            for r in (await s.execute(stmt)).all()}


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
