"""The search index: one document per ticket (subject, public text, internal text), kept in the writing transaction.

PostgreSQL: the `ticket_search` table with two tsvectors, `public_tsv` (subject and public text) and `staff_tsv`
(everything), each with a GIN index, kept by the same statement that appends the text. SQLite: the FTS5 table `ticket_search` (rowid = ticket id, porter
stemming). A client's query reads only the public vector or columns, so internal words can neither find a ticket
for them nor show in their snippet: visibility is part of the query (migration 0019 makes both).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import (
    CTE,
    Column,
    Integer,
    MetaData,
    Select,
    Table,
    Text,
    func,
    literal,
    literal_column,
    select,
    text,
)
from sqlalchemy.dialects.postgresql import TSVECTOR
from sqlalchemy.ext.asyncio import AsyncSession

from livesupport.domain import search as rules
from livesupport.domain.search import MAX_INDEXED, TRIMMED_TO

_meta = MetaData()  # not the models' metadata: each dialect has its own kind of table under this name
#: PostgreSQL's table (a plain table with generated columns).
PG = Table("ticket_search", _meta, Column("ticket_id", Integer, primary_key=True), Column("subject", Text),
           Column("public_text", Text), Column("internal_text", Text), Column("public_tsv", TSVECTOR),
           Column("staff_tsv", TSVECTOR))
FTS: Any = literal_column("ticket_search")  # SQLite's FTS5 table, as its functions and MATCH name it
PUBLIC_COLUMNS = ("subject", "public_text")
HEADLINE = f'StartSel="{rules.OPEN}", StopSel="{rules.CLOSE}", MaxWords=24, MinWords=10, MaxFragments=2, ' \
           'FragmentDelimiter=" … "'


def dialect_of(session: AsyncSession) -> str:
    return session.bind.dialect.name if session.bind is not None else "sqlite"


def _vector(value: str, weight: str) -> str:
    """SQL: the english tsvector of `value` (an SQL expression) at `weight`."""
    return f"setweight(to_tsvector('english'::regconfig, {value}), '{weight}')"


# PostgreSQL's vectors grow by the new text only (parsing the whole ticket again on each message would cost a
# message's write most of its time again); when the kept text overflows, it is cut to its newest TRIMMED_TO
# characters and both vectors are made again from what is kept (so not again for the next 15,000 characters).
_PG_TEXTS = {
    f"{part}_text": f"CASE WHEN length(ticket_search.{part}_text) + length(:search_{part}) > :search_cap "
                    f"THEN right(ticket_search.{part}_text || :search_{part}, :search_trimmed) "
                    f"ELSE ticket_search.{part}_text || :search_{part} END"
    for part in ("public", "internal")
}
_PG_OVERFLOW = ("length(ticket_search.public_text) + length(:search_public) > :search_cap "
                "OR length(ticket_search.internal_text) + length(:search_internal) > :search_cap")
_PG_SUBJECT = _vector("ticket_search.subject", "A")
#: An upsert (a ticket stored some other way gets its document started), folded into the ticket's own UPDATE.
PG_APPEND = (
    "INSERT INTO ticket_search (ticket_id, subject, public_text, internal_text, public_tsv, staff_tsv) "
    "SELECT id, subject, right(:search_public, :search_cap), right(:search_internal, :search_cap), "
    "{start} || {new_public}, {start} || {new_public} || {new_internal} FROM tickets WHERE id = :search_id "
    "ON CONFLICT (ticket_id) DO UPDATE SET public_text = {public_text}, internal_text = {internal_text}, "
    "public_tsv = CASE WHEN {over} THEN {subject} || {public} ELSE ticket_search.public_tsv || {new_public} END, "
    "staff_tsv = CASE WHEN {over} THEN {subject} || {public} || {internal} "
    "ELSE ticket_search.staff_tsv || {new_public} || {new_internal} END"
).format(**_PG_TEXTS, over=_PG_OVERFLOW, subject=_PG_SUBJECT, start=_vector("tickets.subject", "A"), public=_vector(_PG_TEXTS["public_text"], "B"),
         internal=_vector(_PG_TEXTS["internal_text"], "B"), new_public=_vector(":search_public", "B"),
         new_internal=_vector(":search_internal", "B"))
_PG_APPEND_TEXT = text(PG_APPEND)  # parsed once (each message's commit binds its own values to a copy)
#: A whole document at once (a new ticket, the migration's back-fill).
PG_INSERT = (
    "INSERT INTO ticket_search (ticket_id, subject, public_text, internal_text, public_tsv, staff_tsv) "
    "VALUES (:id, :subject, :public_text, :internal_text, {s} || {p}, {s} || {p} || {i}) "
    "ON CONFLICT (ticket_id) DO UPDATE SET subject = excluded.subject, public_text = excluded.public_text, "
    "internal_text = excluded.internal_text, public_tsv = excluded.public_tsv, staff_tsv = excluded.staff_tsv"
).format(s=_vector(":subject", "A"), p=_vector(":public_text", "B"), i=_vector(":internal_text", "B"))
# A deleted ticket's id can come back in SQLite: its old document goes.
FTS_INSERT = ("INSERT OR REPLACE INTO ticket_search (rowid, subject, public_text, internal_text) "
              "VALUES (:id, :subject, :public_text, :internal_text)")
FTS_APPEND = ("UPDATE ticket_search SET public_text = substr(public_text || :search_public, -:search_cap), "
              "internal_text = substr(internal_text || :search_internal, -:search_cap) WHERE rowid = :search_id")


async def add_ticket(session: AsyncSession, ticket_id: int, subject: str) -> None:
    """A new ticket's document: its subject (its first message follows as an event)."""
    insert = PG_INSERT if dialect_of(session) == "postgresql" else FTS_INSERT
    await session.execute(text(insert), {"id": ticket_id, "subject": rules.searchable(subject), "public_text": "",
                                         "internal_text": ""})


Events = Iterable[tuple[str, str, Mapping[str, Any]]]  # (kind, visibility, data)


def _values(ticket_id: int, events: Events) -> dict[str, Any] | None:
    added = rules.joined([rules.event_text(kind, vis, data) for kind, vis, data in events])
    if not added.public and not added.internal:
        return None
    return {"search_id": ticket_id, "search_public": added.public, "search_internal": added.internal,
            "search_cap": MAX_INDEXED, "search_trimmed": TRIMMED_TO}


def folded_append(session: AsyncSession, ticket_id: int, events: Events) -> CTE | None:
    """PostgreSQL: what these events add, as a CTE to put on the ticket's own UPDATE (no round trip of its own;
    it runs after that UPDATE has locked the ticket's row). None elsewhere, or when they add nothing."""
    values = _values(ticket_id, events)
    if values is None or dialect_of(session) != "postgresql":
        return None
    return _PG_APPEND_TEXT.bindparams(**values).columns().cte("ticket_search_append")


async def add_events(session: AsyncSession, ticket_id: int, events: Events) -> None:
    """SQLite: append what these (kind, visibility, data) events say to the ticket's document, in the caller's
    transaction (on PostgreSQL `folded_append` does it)."""
    values = _values(ticket_id, events)
    if values is None:
        return
    if dialect_of(session) == "postgresql":
        await session.execute(text(PG_APPEND), values)
        return
    result = await session.execute(text(FTS_APPEND), values)
    if getattr(result, "rowcount", 1) == 0:  # a ticket stored without `add_ticket` (none in this code): start it
        subject = await session.scalar(text("SELECT subject FROM tickets WHERE id = :id"), {"id": ticket_id})
        if subject is not None:
            await add_ticket(session, ticket_id, subject)
            await session.execute(text(FTS_APPEND), values)


def _pg_query(q: str) -> Any:
    """All groups (each one of its phrases), and none of the exclusions, as one tsquery."""
    groups, excluded = rules.websearch(rules.parse(q))
    english: Any = literal_column("'english'::regconfig")
    query = func.websearch_to_tsquery(english, literal(groups[0]))
    for group in groups[1:]:
        query = func.tsquery_and(query, func.websearch_to_tsquery(english, literal(group)))
    for phrase in excluded:
        query = func.tsquery_and(query, func.tsquery_not(func.websearch_to_tsquery(english, literal(phrase))))
    return query


def matching_tickets(q: str, *, dialect: str, staff: bool) -> Select[Any]:
    """The tickets whose searchable text (staff: all of it; others: subject and public messages) matches `q`,
    as (ticket_id, rank), higher rank better. Raises BadQueryError for a query with nothing to look for."""
    if dialect == "postgresql":
        vector = PG.c.staff_tsv if staff else PG.c.public_tsv
        tsquery = _pg_query(q)
        return select(PG.c.ticket_id.label("ticket_id"), func.ts_rank(vector, tsquery).label("rank")) \
            .where(vector.op("@@")(tsquery))
    match = rules.fts5(rules.parse(q), None if staff else PUBLIC_COLUMNS)
    return select(literal_column("ticket_search.rowid").label("ticket_id"),
                  (-func.bm25(FTS, 4.0, 1.0, 1.0)).label("rank")) \
        .select_from(text("ticket_search")).where(FTS.op("MATCH")(literal(match)))


async def snippets(session: AsyncSession, q: str, ticket_ids: list[int], *, staff: bool) -> dict[int, str]:
    """A short passage of each ticket around the words found, as HTML (<mark> around them, the rest escaped).
    A client's snippet is cut from the subject and public messages only."""
    if not ticket_ids:
        return {}
    found: dict[int, str] = {}
    if dialect_of(session) == "postgresql":
        document = PG.c.subject + "\n" + PG.c.public_text
        if staff:
            document = document + "\n" + PG.c.internal_text
        headline = func.ts_headline(literal_column("'english'::regconfig"), document, _pg_query(q), literal(HEADLINE))
        rows = await session.execute(select(PG.c.ticket_id, headline).where(PG.c.ticket_id.in_(ticket_ids)))
        found = {int(i): str(h) for i, h in rows}
    else:
        match = rules.fts5(rules.parse(q), None if staff else PUBLIC_COLUMNS)
        body = -1 if staff else 1  # -1: the column with the most matches; a client's only their public text
        stmt = select(literal_column("ticket_search.rowid"),
                      func.snippet(FTS, body, rules.OPEN, rules.CLOSE, "…", 20),
                      func.highlight(FTS, 0, rules.OPEN, rules.CLOSE)) \
            .select_from(text("ticket_search")).where(FTS.op("MATCH")(literal(match))) \
            .where(literal_column("ticket_search.rowid").in_(ticket_ids))
        for i, passage, subject in await session.execute(stmt):
            found[int(i)] = passage if rules.OPEN in passage or not subject else subject
    return {i: rules.marked_html(h) for i, h in found.items()}
