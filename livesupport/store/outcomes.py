"""Queries for how tickets end: when one was resolved, its rating, its follow-up links, who its client contacts
are, and the resolved or waiting tickets the worker looks at."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from livesupport.clock import iso
from livesupport.domain.outcomes import (
    CLIENT_ROLES,
    Policy,
    Waiting,
    is_ticket_client,
    rating_until,
    reopen_until,
)
from livesupport.domain.tickets import Status
from livesupport.store.database import upsert_insert
from livesupport.store.models import (
    SentNotice,
    Ticket,
    TicketEvent,
    TicketFollower,
    TicketRating,
    User,
)

RECENT_STATUSES = 50  # status events read back to find the latest resolving (reopened many times: still found)
LINK = "link"  # the event kind that ties a follow-up ticket and the ticket it follows


async def resolved_at(session: AsyncSession, ticket_id: int) -> datetime | None:
    """When the ticket was last set to resolved (None: never, as far as its recent statuses tell)."""
    rows = (await session.execute(
        select(TicketEvent.at, TicketEvent.data).where(TicketEvent.ticket_id == ticket_id,
                                                       TicketEvent.kind == "status")
        .order_by(TicketEvent.seq.desc()).limit(RECENT_STATUSES))).all()
    return next((r.at for r in rows if (r.data or {}).get("status") == Status.RESOLVED.value), None)


async def links(session: AsyncSession, ticket_id: int) -> dict[str, Any]:
    """{"follows_up": {id, subject} | None, "follow_ups": [{id, subject}]}: the tickets this one is tied to."""
    out: dict[str, Any] = {"follows_up": None, "follow_ups": []}
    for (data,) in (await session.execute(select(TicketEvent.data).where(
            TicketEvent.ticket_id == ticket_id, TicketEvent.kind == LINK).order_by(TicketEvent.seq))).all():
        if isinstance(data.get("follows_up"), dict):
            out["follows_up"] = data["follows_up"]
        elif isinstance(data.get("follow_up"), dict):
            out["follow_ups"].append(data["follow_up"])
    return out


async def rating_of(session: AsyncSession, ticket_id: int) -> tuple[TicketRating, str | None] | None:
    """The ticket's rating and the name of who gave it last."""
    row = (await session.execute(select(TicketRating, User.name).outerjoin(User, User.id == TicketRating.user_id)
                                 .where(TicketRating.ticket_id == ticket_id))).first()
    return (row[0], row[1]) if row else None


async def save_rating(session: AsyncSession, ticket_id: int, user_id: int, score: str, comment: str,
                      now: datetime) -> None:
    """One row per ticket: the latest rating counts (created_at stays the first one's)."""
    stmt = upsert_insert(session, TicketRating).values(ticket_id=ticket_id, user_id=user_id, score=score,
                                                       comment=comment, created_at=now, updated_at=now)
    await session.execute(stmt.on_conflict_do_update(
        index_elements=[TicketRating.ticket_id],
        set_={"user_id": user_id, "score": score, "comment": comment, "updated_at": now}))


async def client_contacts(session: AsyncSession, ticket_id: int) -> list[User]:
    """Who hears how the ticket ends: whoever opened it and the contacts of its organisation who follow it (not
    those who muted it), active contacts of that organisation only."""
    ticket = await session.get(Ticket, ticket_id)
    if ticket is None:
        return []
    chosen = select(TicketFollower.user_id).where(TicketFollower.ticket_id == ticket_id,
                                                  TicketFollower.muted.is_(False))
    muted = select(TicketFollower.user_id).where(TicketFollower.ticket_id == ticket_id,
                                                 TicketFollower.muted.is_(True))
    stmt = select(User).where(
        User.org_id == ticket.org_id, User.role.in_([r.value for r in CLIENT_ROLES]), User.disabled_at.is_(None),
        (User.id == ticket.opened_by) | User.id.in_(chosen), User.id.not_in(muted)).order_by(User.id)
    return list((await session.execute(stmt)).scalars())


async def once(session: AsyncSession, key: str, now: datetime) -> bool:
    """Record that `key` happened; False when it had already (another run, another worker)."""
    fresh = await session.execute(upsert_insert(session, SentNotice).values(key=key[:200], at=now)
                                  .on_conflict_do_nothing().returning(SentNotice.id))
    return fresh.scalar_one_or_none() is not None


def reminder_key(ticket_id: int, status_seq: int) -> str:
    return f"waiting-reminder:{ticket_id}:{status_seq}"


async def waiting(session: AsyncSession, before: datetime, limit: int = 500) -> Sequence[tuple[Waiting, int]]:
    """Resolved and waiting-on-client tickets whose status was set before `before`: (facts, status seq)."""
    ended = [Status.RESOLVED.value, Status.WAITING_ON_CLIENT.value]
    candidates = select(Ticket.id).where(Ticket.status.in_(ended)).scalar_subquery()
    last = (select(TicketEvent.ticket_id, func.max(TicketEvent.seq).label("seq"))
            .where(TicketEvent.kind == "status", TicketEvent.ticket_id.in_(candidates))
            .group_by(TicketEvent.ticket_id).subquery())
    rows = (await session.execute(
        select(Ticket.id, Ticket.status, TicketEvent.seq, TicketEvent.at)
        .join(last, last.c.ticket_id == Ticket.id)
        .join(TicketEvent, and_(TicketEvent.ticket_id == Ticket.id, TicketEvent.seq == last.c.seq))
        .where(Ticket.status.in_(ended), TicketEvent.at <= before).order_by(TicketEvent.at).limit(limit))).all()
    out = []
    for r in rows:
        wrote = await session.scalar(select(func.count()).select_from(TicketEvent).join(
            User, User.id == TicketEvent.actor_id).where(
            TicketEvent.ticket_id == r.id, TicketEvent.seq > r.seq, TicketEvent.kind == "chat",
            TicketEvent.visibility == "public", User.role.in_([c.value for c in CLIENT_ROLES])))
        reminded = await session.scalar(select(SentNotice.id).where(SentNotice.key == reminder_key(r.id, r.seq)))
        out.append((Waiting(r.id, r.status, r.at, bool(wrote), reminded is not None), r.seq))
    return out


async def latest_status_seq(session: AsyncSession, ticket_id: int) -> int:
    return int(await session.scalar(select(func.coalesce(func.max(TicketEvent.seq), 0)).where(
        TicketEvent.ticket_id == ticket_id, TicketEvent.kind == "status")) or 0)


async def outcome_facts(session: AsyncSession, person: Any, ticket: Ticket,
                        policy: Policy) -> tuple[dict[str, Any], datetime | None]:
    """What `joined.state` says of how the ticket ends, for this person, but for what depends on the instant
    (`may_reopen`, `may_rate`: actions/join_cache.py `Joined.view`): when it was resolved, until when it can be
    reopened and rated, its rating (staff: whoever gave it; a client: only their own), its follow-up links. And
    when it was resolved, as an instant."""
    ended = ticket.status in (Status.RESOLVED.value, Status.CLOSED.value)
    at = await resolved_at(session, ticket.id) if ended else None
    client = is_ticket_client(person, ticket.org_id)
    out: dict[str, Any] = {
        "resolved_at": iso(at),
        "reopen_until": iso(reopen_until(at, policy)) if ticket.status == Status.RESOLVED.value else None,
        "rating_until": iso(rating_until(at)),
        **await links(session, ticket.id),
    }
    found = await rating_of(session, ticket.id) if (person.is_staff or client) else None
    rating = None
    if found is not None and (person.is_staff or found[0].user_id == person.id):
        r, name = found
        rating = {"score": r.score, "comment": r.comment, "at": iso(r.updated_at),
                  "by": {"id": r.user_id, "name": name or "A former contact"}}
    out["rating"] = rating
    return out, at
