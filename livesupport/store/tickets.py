"""Tickets and their events: the per-ticket seq is taken inside the writing transaction."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple, cast

from sqlalchemy import (
    JSON,
    ColumnElement,
    Integer,
    Select,
    Table,
    bindparam,
    case,
    false,
    func,
    insert,
    literal_column,
    select,
    text,
    true,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession

from livesupport.clock import iso as iso  # spoken as store.iso by its callers
from livesupport.domain.people import Person
from livesupport.store import search
from livesupport.store.database import desk_of
from livesupport.store.models import Organisation, Ticket, TicketAssignee, TicketEvent, TicketReview

# Core tables: the hot write path skips the ORM's unit of work.
_TICKETS = cast(Table, Ticket.__table__)
_EVENTS = cast(Table, TicketEvent.__table__)
_REVIEWS = cast(Table, TicketReview.__table__)


async def get(session: AsyncSession, ticket_id: int, *, lock: bool = False) -> tuple[Ticket, Organisation] | None:
    """The ticket and its organisation; `lock`: see `current`."""
    stmt = select(Ticket, Organisation).join(Organisation, Organisation.id == Ticket.org_id).where(Ticket.id == ticket_id)
    if lock:
        stmt = stmt.with_for_update(of=Ticket, key_share=True)
    row = (await session.execute(stmt)).first()
    return (row[0], row[1]) if row else None


@dataclass(frozen=True, slots=True)
class Current:
    """What a change needs to know of a ticket, read in the transaction that changes it."""

    ticket_id: int
    org_id: int
    org_partner_id: int | None
    subject: str
    status: str
    priority: str
    next_update_at: datetime | None
    next_update_source: str
    assignees: list[int]  # by user id; empty unless asked for


async def current(session: AsyncSession, ticket_id: int, *, assignees: bool, lock: bool) -> Current | None:
    """The ticket as it is now (None: there is none), with its assignees if asked, in one statement.

    `lock` holds its row until the transaction ends (PostgreSQL; SQLite has one writer anyway), so nothing changes
    it between this read and the write: FOR NO KEY UPDATE, which every write of the ticket waits for, as the
    `UPDATE tickets` of a change would, and which lets the foreign-key checks of rows naming it (a read mark) pass.
    A writer that locks the ticket's row first, before its other rows, never deadlocks with another."""
    cols = [Ticket.id, Ticket.org_id, Organisation.partner_id, Ticket.subject, Ticket.status, Ticket.priority,
            Ticket.next_update_at, Ticket.next_update_source]
    stmt = select(*cols).join(Organisation, Organisation.id == Ticket.org_id).where(Ticket.id == ticket_id)
    if assignees:
        stmt = stmt.add_columns(TicketAssignee.user_id).outerjoin(
            TicketAssignee, TicketAssignee.ticket_id == Ticket.id).order_by(TicketAssignee.at, TicketAssignee.user_id)
    if lock:
        stmt = stmt.with_for_update(of=Ticket, key_share=True)
    rows = (await session.execute(stmt)).all()
    if not rows:
        return None
    t = rows[0]
    people = [int(r.user_id) for r in rows if r.user_id is not None] if assignees else []
    return Current(t.id, t.org_id, t.partner_id, t.subject, t.status, t.priority, t.next_update_at,
                   t.next_update_source, people)


async def create(
    session: AsyncSession, *, org_id: int, opened_by: int, subject: str, priority: str, now: datetime
) -> Ticket:
    ticket = Ticket(
        org_id=org_id, opened_by=opened_by, subject=subject, status="new", priority=priority,
        last_seq=0, created_at=now, updated_at=now, public_updated_at=now, created_bh=desk_of(session).reading(now),
    )
    session.add(ticket)
    await session.flush()
    await search.add_ticket(session, ticket.id, subject)
    return ticket


class SlaFields(NamedTuple):
    """What the promise of a ticket's next update depends on."""

    status: str
    priority: str
    next_update_at: datetime | None
    next_update_source: str


class TicketChanged(Exception):
    """An append made `unless_changed` found the ticket's SLA fields changed: nothing was written."""


@dataclass(frozen=True, slots=True)
class NewEvent:
    """An event as just stored: what `event_frame` needs, without an ORM object."""

    ticket_id: int
    seq: int
    kind: str
    visibility: str
    at: datetime
    data: dict[str, Any]
    actor: dict[str, Any]


async def append_events(
    session: AsyncSession, ticket_id: int, *, kind: str, actor: Person | None,
    payloads: list[tuple[str, dict[str, Any]]], now: datetime, changes: dict[str, Any] | None = None,
    unless_changed: SlaFields | None = None,
) -> list[NewEvent]:
    """Take the next seqs and store the events (visibility, data): one statement on PostgreSQL, two on SQLite,
    whatever their number.

    Concurrent writers of one ticket queue on its row; writers of other tickets are not held up.
    """
    return await append_kinds(session, ticket_id, actor=actor, now=now, changes=changes,
                              events=[(kind, vis, data) for vis, data in payloads], unless_changed=unless_changed)


#: Who did it, when nobody did: the worker closing, reminding, resolving (actor_id is NULL).
SYSTEM_ACTOR: dict[str, Any] = {"id": None, "name": "livesupport", "role": "system"}


async def append_kinds(
    session: AsyncSession, ticket_id: int, *, actor: Person | None, events: list[tuple[str, str, dict[str, Any]]],
    now: datetime, changes: dict[str, Any] | None = None, unless_changed: SlaFields | None = None,
) -> list[NewEvent]:
    """`append_events` for events of several kinds: (kind, visibility, data) each, stored in this order.
    `actor` None: the system (a scheduled job). `unless_changed`: store only if the ticket's SLA fields are still
    these (`changes` was worked out from them), else raise TicketChanged having written nothing."""
    count, changes = len(events), changes or {}
    public = [i for i, (_, vis, _) in enumerate(events) if vis == "public"]
    update_ticket = _update_for(report_shape(actor, events, changes), tuple(changes), bool(public),
                                unless_changed is not None)
    params: dict[str, Any] = {"append_ticket": ticket_id, "append_count": count, "append_at": now,
                              "append_clock": desk_of(session).reading(now),
                              "append_actor_id": actor.id if actor is not None else None}
    if public:
        params["append_public_seq"] = public[-1] + 1  # SET reads the row as it was
    for key, value in changes.items():
        params["change_" + key] = value
    if unless_changed is not None:
        params.update(zip(_GUARDS, unless_changed, strict=True))
    shown = actor.public() if actor is not None else SYSTEM_ACTOR
    if search.dialect_of(session) == "postgresql":
        indexed = search.append_params(ticket_id, events)  # the search index, in this statement
        last = await _append_in_one(session, update_ticket, params, indexed, actor, shown, events)
    else:  # SQLite: no data-modifying CTE; triggers on the INSERT keep the search index and the read mark
        last = await _append_by_statements(session, update_ticket, params, ticket_id, actor, shown, events, now)
    return [NewEvent(ticket_id, last - count + 1 + i, kind, vis, now, data, shown)
            for i, (kind, vis, data) in enumerate(events)]


# An append's statement is built once per shape (which columns it sets, whether it is guarded, ...) and kept: every
# value travels as a parameter. Building and keying a statement of this size each time cost a chat message about
# 1 ms of the server's CPU before its round trip.
_TICKET = bindparam("append_ticket", type_=Integer)
_COUNT = bindparam("append_count", type_=Integer)
_AT = bindparam("append_at", type_=_TICKETS.c.updated_at.type)
_CLOCK = bindparam("append_clock", type_=_TICKETS.c.created_bh.type)  # the desk's business clock at `append_at`
_PUBLIC_SEQ = bindparam("append_public_seq", type_=Integer)  # the newest public event's place in the append, from 1
#: `unless_changed`'s fields, as parameters (SlaFields' order).
_GUARDS = ("guard_status", "guard_priority", "guard_next_update_at", "guard_next_update_source")
_SHAPES_KEPT = 256  # more shapes than an append can take: a bound, not a limit met
_updates: dict[tuple[Any, ...], Any] = {}
_appends: dict[tuple[Any, ...], Any] = {}


def _update_for(facts: tuple[str, ...], changed: tuple[str, ...], public: bool, guarded: bool) -> Any:
    """The ticket's UPDATE of an append of this shape (RETURNING its new last_seq)."""
    key = (facts, changed, public, guarded)
    stmt = _updates.get(key)
    if stmt is None:
        t = _TICKETS.c
        values: dict[str, Any] = {"last_seq": t.last_seq + _COUNT, "updated_at": _AT}
        values.update({name: bindparam("change_" + name, type_=t[name].type) for name in changed})
        values.update(report_facts(facts))
        if public:
            values["last_public_seq"] = t.last_seq + _PUBLIC_SEQ
            values["public_updated_at"] = _AT  # an internal note moves what staff see, not what clients see
        stmt = update(_TICKETS).where(t.id == _TICKET).values(**values).returning(t.last_seq)
        if guarded:
            status, priority, due, source = (bindparam(name, type_=column.type) for name, column in zip(
                _GUARDS, (t.status, t.priority, t.next_update_at, t.next_update_source), strict=True))
            stmt = stmt.where(t.status == status, t.priority == priority, t.next_update_at.is_not_distinct_from(due),
                              t.next_update_source == source)
        if len(_updates) < _SHAPES_KEPT:
            _updates[key] = stmt
    return stmt


#: PostgreSQL: what `_append_in_one` adds to the ticket's UPDATE (the CTE `ticket_appended`), parsed once. The events
#: travel as one JSON array, so the statement's text (and its prepared plan) is the same for 1 event or 200.
_EVENTS_ADDED = text(
    "INSERT INTO ticket_events (ticket_id, seq, kind, visibility, actor_id, at, data, actor) "
    "SELECT :append_ticket, ticket_appended.last_seq - :append_count + event.n, event.value ->> 'kind', "
    "event.value ->> 'visibility', :append_actor_id, :append_at, event.value -> 'data', :append_actor "
    "FROM ticket_appended, json_array_elements(:append_events) WITH ORDINALITY AS event (value, n)"
).bindparams(bindparam("append_ticket", type_=Integer), bindparam("append_count", type_=Integer),
             bindparam("append_actor_id", type_=Integer), bindparam("append_at", type_=_EVENTS.c.at.type),
             bindparam("append_events", type_=JSON), bindparam("append_actor", type_=JSON)).columns()
#: One's own events are never new to oneself: the author's mark moves past them when it stood just before them (what
#: others wrote and they have not read stays new to them); the ticket's first events start it. SQLite:
#: `READ_OWN_TRIGGER`.
_READ_OWN = text(
    "INSERT INTO ticket_reviews (user_id, ticket_id, seq, at) "
    "SELECT :append_actor_id, :append_ticket, ticket_appended.last_seq, :append_at FROM ticket_appended "
    "WHERE ticket_appended.last_seq = :append_count OR EXISTS (SELECT 1 FROM ticket_reviews "
    "WHERE user_id = :append_actor_id AND ticket_id = :append_ticket) "
    "ON CONFLICT (user_id, ticket_id) DO UPDATE SET seq = excluded.seq, at = excluded.at "
    "WHERE ticket_reviews.seq >= excluded.seq - :append_count AND ticket_reviews.seq < excluded.seq"
).bindparams(bindparam("append_ticket", type_=Integer), bindparam("append_count", type_=Integer),
             bindparam("append_actor_id", type_=Integer), bindparam("append_at", type_=_REVIEWS.c.at.type)).columns()
_LAST_SEQ: Select[Any] = select(literal_column("ticket_appended.last_seq")).select_from(text("ticket_appended"))


async def _append_in_one(session: AsyncSession, update_ticket: Any, params: dict[str, Any],
                         indexed: dict[str, Any] | None, actor: Person | None, shown: dict[str, Any],
                         events: list[tuple[str, str, dict[str, Any]]]) -> int:
    """PostgreSQL: the ticket's UPDATE, the events' INSERT, the author's read mark and the search index's append in
    one statement (data-modifying CTEs): one round trip instead of four on every message. The UPDATE runs first
    (the SELECT reads it, taking the ticket's row lock); the others read its new `last_seq` and run after it.
    `indexed`: the search index's parameters (None: these events add no text)."""
    key = (update_ticket, actor is not None, indexed is not None)
    stmt = _appends.get(key)
    if stmt is None:
        stmt = _LAST_SEQ.add_cte(update_ticket.cte("ticket_appended")).add_cte(_EVENTS_ADDED.cte("events_added"))
        if actor is not None:
            stmt = stmt.add_cte(_READ_OWN.cte("read_own"))
        for cte in search.APPEND_CTES if indexed is not None else ():
            stmt = stmt.add_cte(cte)
        if len(_appends) < _SHAPES_KEPT:
            _appends[key] = stmt
    values = {**params, "append_events": [{"kind": k, "visibility": v, "data": d} for k, v, d in events],
              "append_actor": shown, **(indexed or {})}
    last = (await session.execute(stmt, values)).scalar()
    if last is None:  # the UPDATE's guard (`unless_changed`) held it back, and so everything that reads it
        raise TicketChanged(params["append_ticket"])
    return int(last)

SOLVED = ("resolved", "closed")


def report_shape(actor: Person | None, events: list[tuple[str, str, dict[str, Any]]],
                 changes: dict[str, Any]) -> tuple[str, ...]:
    """Which of the facts reports read an append moves (`report_facts` says how): the first response, when the
    ticket was solved (or that it no longer is), the promise of the next update kept or missed (when it came due) or
    missed if past (when it was replaced). The migration 0023 replays old events by these rules. `actor` None: the
    system (the worker resolving or closing counts as a solution; its reminders are no staff update)."""
    staff = actor is not None and actor.is_staff
    public = {kind for kind, vis, _ in events if vis == "public"}
    status = changes.get("status")
    facts = []
    if staff and "chat" in public:  # a public message by staff after the opening one
        facts.append("first_response")
    if status in SOLVED:  # resolved or closed: since the first of these (a reopening clears it)
        facts.append("solved")
    elif status is not None:
        facts.append("unsolved")
    if (staff and public & {"chat", "status"}) or status in SOLVED:  # the promise comes due: kept?
        facts.append("promise_due")
    elif "next_update_at" in changes:  # replaced otherwise (priority, a client's message): missed if past
        facts.append("promise_replaced")
    return tuple(facts)


def report_facts(facts: tuple[str, ...]) -> dict[str, Any]:
    """The facts of `report_shape` as SET expressions of the append's own UPDATE (they read the row as it was, so
    no statement more), at the append's instant and the desk's business clock then (its parameters)."""
    t = _TICKETS.c
    out: dict[str, Any] = {"created_bh": func.coalesce(t.created_bh, _CLOCK)}
    missed = case((t.next_update_at < _AT, 1), else_=0)
    for fact in facts:
        if fact == "first_response":
            first = t.first_response_at.is_(None) & (t.last_seq > 0)
            out["first_response_at"] = case((first, _AT), else_=t.first_response_at)
            out["first_response_bh"] = case((first, _CLOCK), else_=t.first_response_bh)
        elif fact == "solved":
            out["solved_at"] = func.coalesce(t.solved_at, _AT)
            out["solved_bh"] = func.coalesce(t.solved_bh, _CLOCK)
        elif fact == "unsolved":
            out["solved_at"] = out["solved_bh"] = None
        elif fact == "promise_due":
            out["promises_kept"] = t.promises_kept + case((t.next_update_at >= _AT, 1), else_=0)
            out["promises_missed"] = t.promises_missed + missed
        else:  # promise_replaced
            out["promises_missed"] = t.promises_missed + missed
    return out


#: SQLite: one's own events are never new to oneself. The author's read mark follows each of their stored events
#: when it stood just before it (what others wrote and they have not read stays new to them), inside the event's own
#: INSERT (migration 0025): through aiosqlite's thread a statement of its own costs a message's write 10-15 %. The
#: ticket's first event starts its author's mark. PostgreSQL does the same in `_append_in_one`'s `read_own`.
READ_OWN_TRIGGER = """
CREATE TRIGGER ticket_events_read_own AFTER INSERT ON ticket_events
WHEN NEW.actor_id IS NOT NULL
BEGIN
    UPDATE ticket_reviews SET seq = NEW.seq, at = NEW.at
        WHERE user_id = NEW.actor_id AND ticket_id = NEW.ticket_id AND seq = NEW.seq - 1;
    INSERT OR IGNORE INTO ticket_reviews (user_id, ticket_id, seq, at)
        SELECT NEW.actor_id, NEW.ticket_id, NEW.seq, NEW.at WHERE NEW.seq = 1;
END"""


async def _append_by_statements(session: AsyncSession, update_ticket: Any, params: dict[str, Any], ticket_id: int,
                                actor: Person | None, shown: dict[str, Any],
                                events: list[tuple[str, str, dict[str, Any]]], now: datetime) -> int:
    """The ticket's UPDATE, then the events' INSERT (SQLite's triggers do the rest)."""
    count = len(events)
    found = (await session.execute(update_ticket, params)).scalar()
    if found is None:  # held back by `unless_changed`
        raise TicketChanged(ticket_id)
    last = int(found)
    await session.execute(insert(_EVENTS), [
        {"ticket_id": ticket_id, "seq": last - count + 1 + i, "kind": kind, "visibility": vis,
         "actor_id": actor.id if actor is not None else None, "at": now, "data": data, "actor": shown}
        for i, (kind, vis, data) in enumerate(events)
    ])
    return last


async def append_event(
    session: AsyncSession, ticket_id: int, *, kind: str, visibility: str, actor: Person | None,
    data: dict[str, Any], now: datetime, changes: dict[str, Any] | None = None,
) -> NewEvent:
    events = await append_events(session, ticket_id, kind=kind, actor=actor, payloads=[(visibility, data)],
                                 now=now, changes=changes)
    return events[0]


async def events_since(
    session: AsyncSession, ticket_id: int, since: int, *, staff: bool, upto: int | None = None, limit: int = 500
) -> Sequence[TicketEvent]:
    stmt = select(TicketEvent).where(TicketEvent.ticket_id == ticket_id, TicketEvent.seq > since)
    if upto is not None:
        stmt = stmt.where(TicketEvent.seq <= upto)
    if not staff:
        stmt = stmt.where(TicketEvent.visibility == "public")
    return (await session.execute(stmt.order_by(TicketEvent.seq).limit(limit))).scalars().all()


async def latest_visible_seq(session: AsyncSession, ticket_id: int, *, staff: bool, upto: int) -> int:
    """The newest seq at or below `upto` this reader may see (bounded, so it agrees with a snapshot taken before)."""
    stmt = select(func.coalesce(func.max(TicketEvent.seq), 0)).where(
        TicketEvent.ticket_id == ticket_id, TicketEvent.seq <= upto
    )
    if not staff:
        stmt = stmt.where(TicketEvent.visibility == "public")
    return int((await session.execute(stmt)).scalar_one())


def visible_to(person: Person) -> ColumnElement[bool]:
    """The tickets this person may see (a statement that uses it joins Organisation): staff every one, a partner
    its own organisation's and its clients', anyone else their own organisation's."""
    if person.is_staff:
        return true()
    if person.org_id is None:
        return false()
    if person.role == "partner":
        return (Organisation.id == person.org_id) | (Organisation.partner_id == person.org_id)
    return Ticket.org_id == person.org_id


def updated_column(staff: bool) -> Any:
    """When a ticket last changed, as staff (any change) or as clients (changes they can see) can tell."""
    return Ticket.updated_at if staff else Ticket.public_updated_at


def snapshot(ticket: Ticket, org: Organisation, assignees: list[dict[str, Any]] | None = None,
             staff: bool = True) -> dict[str, Any]:
    """The ticket's own fields, as `joined.state`, list rows and `GET /api/tickets/<id>` start from."""
    return {
        "id": ticket.id,
        "subject": ticket.subject,
        "status": ticket.status,
        "priority": ticket.priority,
        "next_update_at": iso(ticket.next_update_at),
        "next_update_source": ticket.next_update_source or "sla",
        "assignees": assignees or [],
        "org": {"id": org.id, "name": org.name},
        "created_at": iso(ticket.created_at),
        "updated_at": iso(ticket.updated_at if staff else ticket.public_updated_at),
    }


def _without_task_note(data: dict[str, Any]) -> dict[str, Any]:
    task = {k: v for k, v in data["task"].items() if k != "note"}
    return {**data, "task": task}


def _without_message(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if k != "message"}


#: Public events of these kinds carry staff-only details that clients get without.
REDACTED = {"task": _without_task_note, "member": _without_message}


def has_staff_detail(kind: str, data: dict[str, Any]) -> bool:
    if kind == "task":
        return "note" in data.get("task", {})
    return kind == "member" and "message" in data


def event_frame(ev: TicketEvent | NewEvent, staff: bool = True) -> dict[str, Any]:
    """An event as it travels: the `event` frame of protocol.md, as staff or as a client sees it."""
    data = ev.data
    if not staff and has_staff_detail(ev.kind, data):
        data = REDACTED[ev.kind](data)
    return {
        "type": "event",
        "topic": f"ticket:{ev.ticket_id}",
        "seq": ev.seq,
        "kind": ev.kind,
        "at": iso(ev.at),
        "actor": ev.actor,
        "data": data,
    }
