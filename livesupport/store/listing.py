"""The ticket list's SQL: filters, sort and keyset pages (see domain/listing.py for what may be asked).

Every sort is a short chain of segments, each walked in the order of (key, id) or of id alone, with a
keyset condition instead of an offset: a deep page costs what the first one does, and a ticket whose sort key
does not change is seen exactly once however the table changes between pages.

    -updated     one segment: updated_at (clients: public_updated_at) descending, then id descending
    created      created_at ascending, then id ascending (-created: both descending)
    next_update  tickets with a next update due, soonest first (then id); then those without one, by id
    priority     urgent, high, normal, low: one segment each, newest ticket (highest id) first
    relevance    (with q) the newest `search.RANKED` matches by the search's rank descending, then id descending;
                 then the older matches, by id descending

With `q`, only the tickets whose text (as the person may search it: store/search.py) matches are listed; on
SQLite a non-staff search reads only its organisations' part of the index (`domain.search.scope_tokens`), and the
statements keep `visible_to` all the same.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    ColumnElement,
    FunctionElement,
    and_,
    exists,
    false,
    literal,
    or_,
    select,
    text,
    true,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.ext.compiler import compiles

from livesupport.domain import sla
from livesupport.domain.listing import PRIORITY_ORDER, ListQuery, Sort
from livesupport.domain.people import Person
from livesupport.domain.search import scope_tokens
from livesupport.domain.tickets import Status
from livesupport.store import search
from livesupport.store.models import Organisation, Ticket, TicketAssignee
from livesupport.store.tickets import updated_column, visible_to

OPEN = [s.value for s in sla.OPEN]
WAITING_ON_US = [s for s in OPEN if s != Status.WAITING_ON_CLIENT]


@dataclass(frozen=True, slots=True)
class Segment:
    """Part of a sort: the tickets matching `where`, ordered by (key, id), or by id when key is None."""

    where: ColumnElement[bool]
    key: Any  # a Ticket column, the search's rank, or None
    descending: bool


@dataclass(frozen=True, slots=True)
class Position:
    """Where a page ended: the segment, and the last ticket's key and id in it. A cursor carries it."""

    segment: int
    key: datetime | float | None
    id: int


def segments(sort: Sort, staff: bool, rank: Any = None, unranked: Any = None) -> list[Segment]:
    """The sort's chain; `rank` is the search's rank column (the relevance sort's key), `unranked` the condition
    of the matches it does not rank."""
    if sort == "relevance":
        return [Segment(true(), rank, True), Segment(unranked, None, True)]
    if sort == "-updated":
        return [Segment(true(), updated_column(staff), True)]
    if sort in ("created", "-created"):
        return [Segment(true(), Ticket.created_at, sort == "-created")]
    if sort == "next_update":
        return [Segment(Ticket.next_update_at.is_not(None), Ticket.next_update_at, False),
                Segment(Ticket.next_update_at.is_(None), None, False)]
    return [Segment(Ticket.priority == p, None, True) for p in PRIORITY_ORDER]


class likely(FunctionElement[bool]):  # noqa: N801 - named as the SQL function it becomes
    """A condition many tickets meet: on SQLite, `likely(...)` tells the planner so, and it walks the sort's index
    in order, stopping after a page, instead of sorting every ticket an index on this condition finds (100,000
    tickets, open ones first by -updated: 0.4 ms instead of 2 s). Elsewhere the bare condition."""

    type = Boolean()
    inherit_cache = True
    name = "likely"


@compiles(likely)
def _bare(element: likely, compiler: Any, **kw: Any) -> str:
    return f"({compiler.process(element.clauses, **kw)})"


@compiles(likely, "sqlite")
def _hinted(element: likely, compiler: Any, **kw: Any) -> str:
    return f"likely({compiler.process(element.clauses, **kw)})"


def filters(person: Person, query: ListQuery, now: datetime) -> list[ColumnElement[bool]]:
    """The conditions of the query's filters, besides what the person may see.

    Status and priority are broad: only one status on the default sort (index (status, updated_at, id)) and
    one priority on the priority sort are walked by their own index; otherwise the sort's index is walked and
    they only filter (`likely`)."""
    out: list[ColumnElement[bool]] = []
    if query.statuses:
        own_index = len(query.statuses) == 1 and query.sort == "-updated"
        status = Ticket.status.in_(query.statuses)
        out.append(status if own_index else likely(status))
    if query.priority is not None:
        priority = Ticket.priority == query.priority
        out.append(priority if query.sort == "priority" else likely(priority))
    if query.org is not None:
        out.append(Ticket.org_id == query.org)
    if query.assignee is not None:
        if query.assignee == "none":
            out.append(~exists().where(TicketAssignee.ticket_id == Ticket.id))
        else:
            user = person.id if query.assignee == "me" else query.assignee
            out.append(exists().where(TicketAssignee.ticket_id == Ticket.id, TicketAssignee.user_id == user))
    if query.overdue:  # as sla.is_overdue says, at the injected clock
        out.append(likely(and_(Ticket.status.in_(OPEN), Ticket.next_update_at <= now)))
    if query.waiting_on == "client":
        out.append(Ticket.status == Status.WAITING_ON_CLIENT.value)
    elif query.waiting_on == "us":
        out.append(likely(Ticket.status.in_(WAITING_ON_US)))
    updated = updated_column(person.is_staff)
    if query.updated_after is not None:
        out.append(updated > query.updated_after)
    if query.updated_before is not None:
        out.append(updated < query.updated_before)
    if query.updated_since is not None:
        out.append(updated >= query.updated_since)
    if query.updated_until is not None:
        out.append(updated < query.updated_until)
    return out


def after_condition(seg: Segment, key: datetime | float | None, ident: int) -> ColumnElement[bool]:
    """Strictly past (key, id) in the segment's order. The bare range on the key lets the index start there."""
    if seg.key is None:
        return Ticket.id < ident if seg.descending else Ticket.id > ident
    if key is None:
        return false()  # a cursor of a keyed segment always has a key; web/ticket_list.py checks it
    if seg.descending:
        return and_(seg.key <= key, or_(seg.key < key, and_(seg.key == key, Ticket.id < ident)))
    return and_(seg.key >= key, or_(seg.key > key, and_(seg.key == key, Ticket.id > ident)))


async def _window(
    session: AsyncSession, person: Person, q: str, conditions: list[ColumnElement[bool]],
) -> tuple[Any, ColumnElement[bool]]:
    """The relevance sort's ranked part, (ticket_id, rank) as a subquery, and the condition of the matches older
    than it (listed after it, newest first). Ranked: the newest `search.RANKED` matches among the newest
    `search.SCANNED` tickets the person may see after the filters (`conditions`). Both bounds keep
    the cost of a query that nearly every ticket matches, or whose phrase must be checked ticket by ticket, to
    a few thousand tickets read."""
    dialect = search.dialect_of(session)
    candidates = select(Ticket.id).join(Organisation, Organisation.id == Ticket.org_id).where(*conditions) \
        .order_by(Ticket.id.desc())
    oldest = await session.scalar(candidates.offset(search.SCANNED - 1).limit(1))  # None: fewer than SCANNED
    scope = scope_tokens(person)
    ids = search.matching_ids(q, dialect=dialect, staff=person.is_staff, scope=scope, from_=oldest)
    scanned = candidates.where(Ticket.id.in_(ids))
    if oldest is not None:
        scanned = scanned.where(Ticket.id >= oldest)
    window = list((await session.execute(scanned.limit(search.RANKED))).scalars())
    matches = search.ranks(q, window, dialect=dialect, staff=person.is_staff, scope=scope).subquery("matches")
    below = min(window) if len(window) == search.RANKED else oldest
    if below is None:
        return matches, false()
    # the bound on the search's own ids too: PostgreSQL would not carry it over the join, FTS5 reads less
    return matches, and_(Ticket.id < below,
                         Ticket.id.in_(search.matching_ids(q, dialect=dialect, staff=person.is_staff, scope=scope,
                                                           below=below)))


async def page(
    session: AsyncSession, person: Person, query: ListQuery, now: datetime, after: Position | None,
) -> tuple[list[tuple[Ticket, Organisation]], Position | None]:
    """One page of the tickets this person may see that match the query, after `after`, and where the next
    page starts (None: this was the last). Visibility, filters and search are one statement per segment."""
    conditions = [visible_to(person), *filters(person, query, now)]
    matches = unranked = None
    if query.q is not None:
        dialect = search.dialect_of(session)
        if dialect == "postgresql":  # a prepared statement's generic plan cannot tell a word in 80,000 tickets
            # from one in 800 (nor a keyset bound): for a rare word's next page it walked the list checking each
            # ticket (200 ms, not 20)
            await session.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))
        ids = search.matching_ids(query.q, dialect=dialect, staff=person.is_staff, scope=scope_tokens(person))
        if query.sort == "relevance":
            matches, unranked = await _window(session, person, query.q, conditions)
        conditions.append(Ticket.id.in_(ids))
    wanted = query.limit + 1  # one more than asked tells whether another page follows
    found: list[tuple[Ticket, Organisation, Position]] = []
    chain = segments(query.sort, person.is_staff, matches.c.rank if matches is not None else None, unranked)
    for index, seg in enumerate(chain):
        if after is not None and index < after.segment:
            continue
        key = seg.key if seg.key is not None else literal(None)
        stmt = select(Ticket, Organisation, key).join(Organisation, Organisation.id == Ticket.org_id)
        if matches is not None and seg.key is matches.c.rank:  # the ranked ones are known to match: no match again
            stmt = stmt.join(matches, matches.c.ticket_id == Ticket.id).where(seg.where, *conditions[:-1])
        elif matches is not None:  # the older matches: `unranked` holds the match
            stmt = stmt.where(seg.where, *conditions[:-1])
        else:
            stmt = stmt.where(seg.where, *conditions)
        if after is not None and index == after.segment:
            stmt = stmt.where(after_condition(seg, after.key, after.id))
        order = [seg.key, Ticket.id] if seg.key is not None else [Ticket.id]
        stmt = stmt.order_by(*(c.desc() if seg.descending else c.asc() for c in order))
        for t, o, k in (await session.execute(stmt.limit(wanted - len(found)))).all():
            found.append((t, o, Position(index, k, t.id)))
        if len(found) >= wanted:
            break
    rows: Sequence[tuple[Ticket, Organisation, Position]] = found[:query.limit]
    following = rows[-1][2] if len(found) > query.limit else None
    return [(t, o) for t, o, _ in rows], following
