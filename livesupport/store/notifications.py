"""The notification tables: who follows what (and why), preferences, how far each follower was told."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from livesupport.domain.notifications import (
    DEFAULT_DIGEST_HOUR,
    DEFAULT_MODE,
    Mode,
    Reason,
    followers,
)
from livesupport.store.database import upsert_insert
from livesupport.store.models import (
    JobCursor,
    NotificationCursor,
    NotificationPref,
    Ticket,
    TicketAssignee,
    TicketFollower,
    TicketMember,
)

SCAN = "notifications"  # the job cursor over ticket_events.id
OVERDUE = "overdue"  # the job cursor over instants: tickets that turned overdue up to `at` were announced


async def followers_of(session: AsyncSession, opened_by: Mapping[int, int]) -> dict[int, dict[int, Reason]]:
    """ticket id -> {user id: why they follow}, for tickets given as {ticket id: who opened it}."""
    ids = list(opened_by)
    assignees: dict[int, set[int]] = {t: set() for t in ids}
    members: dict[int, set[int]] = {t: set() for t in ids}
    chosen: dict[int, dict[int, tuple[str, bool]]] = {t: {} for t in ids}
    if ids:
        for t, u in (await session.execute(select(TicketAssignee.ticket_id, TicketAssignee.user_id)
                                           .where(TicketAssignee.ticket_id.in_(ids)))).all():
            assignees[t].add(u)
        for t, u in (await session.execute(select(TicketMember.ticket_id, TicketMember.user_id)
                                           .where(TicketMember.ticket_id.in_(ids)))).all():
            members[t].add(u)
        stmt = select(TicketFollower.ticket_id, TicketFollower.user_id, TicketFollower.reason, TicketFollower.muted)
        for t, u, reason, muted in (await session.execute(stmt.where(TicketFollower.ticket_id.in_(ids)))).all():
            chosen[t][u] = (reason, bool(muted))
    return {t: followers(opened_by[t], assignees[t], members[t], chosen[t]) for t in ids}


async def choose(session: AsyncSession, ticket_id: int, user_id: int, reason: str, muted: bool,
                 now: datetime) -> None:
    """Remember someone's own choice about a ticket; their e-mail starts afresh from the ticket as it is now."""
    stmt = upsert_insert(session, TicketFollower).values(ticket_id=ticket_id, user_id=user_id, reason=reason,
                                                         muted=muted, at=now)
    stmt = stmt.on_conflict_do_update(index_elements=[TicketFollower.ticket_id, TicketFollower.user_id],
                                      set_={"reason": reason, "muted": muted, "at": now})
    await session.execute(stmt)
    latest = select(Ticket.last_seq).where(Ticket.id == ticket_id).scalar_subquery()
    start = upsert_insert(session, NotificationCursor).values(ticket_id=ticket_id, user_id=user_id,
                                                              told_seq=latest, pending_since=None)
    await session.execute(start.on_conflict_do_update(
        index_elements=[NotificationCursor.ticket_id, NotificationCursor.user_id],
        set_={"told_seq": start.excluded.told_seq, "pending_since": None}))


async def prefs(session: AsyncSession, user_ids: Iterable[int]) -> dict[int, tuple[Mode, int]]:
    """user id -> (mode, digest hour); people who never chose get the defaults."""
    ids = list(set(user_ids))
    out = {u: (DEFAULT_MODE, DEFAULT_DIGEST_HOUR) for u in ids}
    if ids:
        stmt = select(NotificationPref.user_id, NotificationPref.mode, NotificationPref.digest_hour)
        for u, mode, hour in (await session.execute(stmt.where(NotificationPref.user_id.in_(ids)))).all():
            out[u] = (Mode(mode), hour)
    return out


async def set_pref(session: AsyncSession, user_id: int, mode: Mode, hour: int, now: datetime) -> None:
    stmt = upsert_insert(session, NotificationPref).values(user_id=user_id, mode=mode.value, digest_hour=hour,
                                                           updated_at=now)
    stmt = stmt.on_conflict_do_update(index_elements=[NotificationPref.user_id],
                                      set_={"mode": mode.value, "digest_hour": hour, "updated_at": now})
    await session.execute(stmt)


async def tell_everything(session: AsyncSession, user_id: int) -> None:
    """E-mail was turned off: nothing that waits for this person is sent if they turn it on again."""
    latest = select(Ticket.last_seq).where(Ticket.id == NotificationCursor.ticket_id).scalar_subquery()
    await session.execute(update(NotificationCursor).where(NotificationCursor.user_id == user_id)
                          .values(told_seq=latest, pending_since=None))


async def cursors(session: AsyncSession, ticket_ids: Iterable[int]) -> dict[tuple[int, int], NotificationCursor]:
    ids = list(ticket_ids)
    if not ids:
        return {}
    rows = (await session.execute(select(NotificationCursor).where(NotificationCursor.ticket_id.in_(ids)))).scalars()
    return {(c.ticket_id, c.user_id): c for c in rows}


async def start_cursor(session: AsyncSession, ticket_id: int, user_id: int, told_seq: int,
                       pending_since: datetime | None) -> None:
    """A new follower's cursor (kept as it is when another worker made it first)."""
    stmt = upsert_insert(session, NotificationCursor).values(
        ticket_id=ticket_id, user_id=user_id, told_seq=told_seq, pending_since=pending_since)
    await session.execute(stmt.on_conflict_do_nothing())


async def mark_pending(session: AsyncSession, ticket_id: int, user_id: int, since: datetime) -> None:
    """Something new waits for this follower since `since` (unless something was waiting already)."""
    await session.execute(update(NotificationCursor).where(
        NotificationCursor.ticket_id == ticket_id, NotificationCursor.user_id == user_id,
        NotificationCursor.pending_since.is_(None)).values(pending_since=since))


async def tell(session: AsyncSession, ticket_id: int, user_id: int, was: int, upto: int,
               sent_at: datetime | None, still_pending: datetime | None = None) -> bool:
    """Mark a follower told up to `upto`, only if nobody else moved their cursor since it read `was`.
    `still_pending`: more waits after `upto` (too much for one e-mail), from then."""
    values: dict[str, object] = {"told_seq": upto, "pending_since": still_pending}
    if sent_at is not None:
        values["last_sent_at"] = sent_at
    done = await session.execute(update(NotificationCursor).where(
        NotificationCursor.ticket_id == ticket_id, NotificationCursor.user_id == user_id,
        NotificationCursor.told_seq == was).values(**values))
    return bool(done.rowcount)  # type: ignore[attr-defined]


async def job_cursor(session: AsyncSession, name: str) -> JobCursor | None:
    return await session.get(JobCursor, name)


async def move_job_cursor(session: AsyncSession, name: str, *, position: int | None = None,
                          at: datetime | None = None) -> None:
    """Move a job's cursor forward only (two workers may race; the further one wins)."""
    await session.execute(upsert_insert(session, JobCursor).values(name=name, position=position or 0, at=at)
                          .on_conflict_do_nothing())
    row = await session.get(JobCursor, name, with_for_update=True, populate_existing=True)
    assert row is not None
    if position is not None and position > row.position:
        row.position = position
    if at is not None and (row.at is None or at > row.at):
        row.at = at
