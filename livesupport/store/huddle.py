"""The huddle's tables: assignees, members, tasks, pinned guidance and how far each person has read."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from livesupport.clock import iso
from livesupport.domain.huddle import progress
from livesupport.domain.people import Role
from livesupport.store.database import upsert_insert
from livesupport.store.models import (
    Task,
    TicketAssignee,
    TicketEvent,
    TicketMember,
    TicketReview,
    User,
)

STAFF_ROLES = (Role.STAFF.value, Role.ADMIN.value)


def shown(user: User) -> dict[str, Any]:
    """A person as others see them on the wire (the same keys as Person.public)."""
    out: dict[str, Any] = {"id": user.id, "name": user.name, "role": user.role}
    if user.tier:
        out["tier"] = user.tier
    return out


async def staff_users(session: AsyncSession, ids: Iterable[int] | None = None) -> dict[int, User]:
    stmt = select(User).where(User.role.in_(STAFF_ROLES))
    if ids is not None:
        stmt = stmt.where(User.id.in_(list(ids)))
    return {u.id: u for u in (await session.execute(stmt.order_by(User.name))).scalars()}


async def assignees(session: AsyncSession, ticket_ids: Sequence[int]) -> dict[int, list[dict[str, Any]]]:
    out: dict[int, list[dict[str, Any]]] = {t: [] for t in ticket_ids}
    if not ticket_ids:
        return out
    stmt = (select(TicketAssignee.ticket_id, User).join(User, User.id == TicketAssignee.user_id)
            .where(TicketAssignee.ticket_id.in_(list(ticket_ids))).order_by(User.name))
    for ticket_id, user in (await session.execute(stmt)).all():
        out[ticket_id].append(shown(user))
    return out


async def assignee_ids(session: AsyncSession, ticket_ids: Sequence[int]) -> set[int]:
    """Everyone assigned to any of these tickets."""
    stmt = select(TicketAssignee.user_id).where(TicketAssignee.ticket_id.in_(list(ticket_ids))).distinct()
    return set((await session.execute(stmt)).scalars())


async def set_assignees(session: AsyncSession, ticket_id: int, user_ids: list[int], now: datetime) -> None:
    await session.execute(delete(TicketAssignee).where(TicketAssignee.ticket_id == ticket_id))
    if user_ids:
        await session.execute(insert(TicketAssignee), [
            {"ticket_id": ticket_id, "user_id": u, "at": now} for u in user_ids
        ])


async def members(session: AsyncSession, ticket_id: int) -> list[dict[str, Any]]:
    stmt = (select(User).join(TicketMember, TicketMember.user_id == User.id)
            .where(TicketMember.ticket_id == ticket_id).order_by(TicketMember.at))
    return [shown(u) for u in (await session.execute(stmt)).scalars()]


async def is_member(session: AsyncSession, ticket_id: int, user_id: int) -> bool:
    row = await session.get(TicketMember, (ticket_id, user_id))
    return row is not None


async def add_member(session: AsyncSession, ticket_id: int, user_id: int, invited_by: int, now: datetime) -> None:
    session.add(TicketMember(ticket_id=ticket_id, user_id=user_id, invited_by=invited_by, at=now))
    await session.flush()


async def tasks(session: AsyncSession, ticket_id: int) -> list[Task]:
    stmt = select(Task).where(Task.ticket_id == ticket_id).order_by(Task.id)
    return list((await session.execute(stmt)).scalars())


def task_view(task: Task, assignee: User | None) -> dict[str, Any]:
    """A task as staff see it; `public_task` takes the staff-only note away."""
    return {
        "id": task.id,
        "title": task.title,
        "state": task.state,
        "due_at": iso(task.due_at),
        "assignee": shown(assignee) if assignee is not None else None,
        "note": task.note,
    }


async def task_views(session: AsyncSession, ticket_id: int) -> tuple[list[dict[str, Any]], dict[str, int]]:
    found = await tasks(session, ticket_id)
    people = await staff_users(session, {t.assignee_id for t in found if t.assignee_id})
    views = [task_view(t, people.get(t.assignee_id) if t.assignee_id else None) for t in found]
    return views, progress([t.state for t in found])


def public_task(view: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in view.items() if k != "note"}


async def pinned(session: AsyncSession, ticket_id: int, seq: int | None) -> dict[str, Any] | None:
    if seq is None:
        return None
    ev = (await session.execute(
        select(TicketEvent).where(TicketEvent.ticket_id == ticket_id, TicketEvent.seq == seq)
    )).scalar_one_or_none()
    if ev is None:
        return None
    return {"seq": ev.seq, "body": ev.data.get("body", ""), "actor": ev.actor, "at": iso(ev.at)}


async def mark_reviewed(session: AsyncSession, user_id: int, ticket_id: int, seq: int, now: datetime) -> None:
    """Remember that this person has read the ticket up to `seq` (never moves backwards)."""
    stmt = upsert_insert(session, TicketReview).values(user_id=user_id, ticket_id=ticket_id, seq=seq, at=now)
    stmt = stmt.on_conflict_do_update(
        index_elements=[TicketReview.user_id, TicketReview.ticket_id],
        set_={"seq": stmt.excluded.seq, "at": stmt.excluded.at},
        where=TicketReview.seq < stmt.excluded.seq,
    )
    await session.execute(stmt)


async def reviewed(session: AsyncSession, ticket_id: int, user_ids: Iterable[int]) -> dict[int, int]:
    stmt = select(TicketReview.user_id, TicketReview.seq).where(
        TicketReview.ticket_id == ticket_id, TicketReview.user_id.in_(list(user_ids))
    )
    return {u: s for u, s in (await session.execute(stmt)).all()}


async def reviews_of(session: AsyncSession, user_id: int, ticket_ids: Sequence[int]) -> dict[int, int]:
    """How far one person has read each of these tickets."""
    if not ticket_ids:
        return {}
    stmt = select(TicketReview.ticket_id, TicketReview.seq).where(
        TicketReview.user_id == user_id, TicketReview.ticket_id.in_(list(ticket_ids)))
    return {t: q for t, q in (await session.execute(stmt)).all()}
