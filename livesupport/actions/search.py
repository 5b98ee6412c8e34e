"""Ticket search: the tickets a person may see whose text matches, best first, each with a snippet."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from livesupport.actions.lists import row_of, unreviewed
from livesupport.clock import Clock
from livesupport.domain.people import Person
from livesupport.domain.search import parse
from livesupport.store import huddle as huddle_store
from livesupport.store import search as search_store
from livesupport.store import tickets as store
from livesupport.store.database import Database
from livesupport.store.models import Organisation, Ticket

MAX_RESULTS = 50


async def find_tickets(db: Database, clock: Clock, person: Person, q: str,
                       limit: int = MAX_RESULTS) -> list[dict[str, Any]]:
    """Matching and visibility are one query: a client's reads only public text, of their own tickets."""
    parse(q)  # a bad query is refused before any database work
    now = clock.now()
    async with db.read() as s:
        found = search_store.matching_tickets(q, dialect=search_store.dialect_of(s), staff=person.is_staff).subquery()
        stmt = select(Ticket, Organisation).join(found, found.c.ticket_id == Ticket.id) \
            .join(Organisation, Organisation.id == Ticket.org_id)
        stmt = store.visible_to(stmt, person).order_by(found.c.rank.desc(), Ticket.id.desc()).limit(limit)
        rows = [(t, o) for t, o in (await s.execute(stmt)).all()]
        ids = [t.id for t, _ in rows]
        assignees = await huddle_store.assignees(s, ids)
        reviewed = await huddle_store.reviews_of(s, person.id, ids)
        snippets = await search_store.snippets(s, q, ids, staff=person.is_staff)
    return [{**row_of(t, o, assignees[t.id], now, staff=person.is_staff),
             "unreviewed": unreviewed(t, person, reviewed.get(t.id, 0)), "snippet": snippets.get(t.id, "")}
            for t, o in rows]
