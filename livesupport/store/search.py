"""The search index: one document per ticket (subject, public text, internal text), kept in the writing transaction.

PostgreSQL: the `ticket_search` table with two tsvectors, `public_tsv` (subject and public text) and `staff_tsv`
(everything), each with a GIN index. A write adds its text as a row of `ticket_search_recent` (migration 0027), by
a CTE folded into the statement that appends the events (store/tickets.py), and `fold_recent` moves those rows into
the document later (actions/search_folding.py, about once a second); a search reads a document with its recent
rows (`_pg_matching`), so folding changes no answer. SQLite: the FTS5 table
`ticket_search` (rowid = ticket id, porter stemming), kept by a trigger on ticket_events (migration 0024). A
client's query reads only the public vector or columns, so internal words can neither find a ticket for them nor
show in their snippet: visibility is part of the query (migration 0019 makes both). The list ranks a bounded set
of matches (`RANKED`, `SCANNED`; store/listing.py).

SQLite's documents also carry a `scope` column (migration 0026): tokens of who may see the ticket
(`domain.search.document_scope`), kept current by triggers when a ticket moves or an organisation's partner
changes. A client's or partner's MATCH starts with `scope : (...)` (`domain.search.scope_tokens`), so FTS5 reads
only their organisations' part of a common word's doclist instead of every match; the statements keep their own
visibility condition (the scope only narrows). Staff queries never read that column; snippets never show it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import (
    Column,
    Integer,
    MetaData,
    Select,
    Table,
    Text,
    and_,
    any_,
    case,
    column,
    exists,
    false,
    func,
    literal,
    literal_column,
    or_,
    select,
    table,
    text,
)
from sqlalchemy.dialects.postgresql import TSVECTOR, aggregate_order_by
from sqlalchemy.ext.asyncio import AsyncSession

from livesupport.domain import search as rules
from livesupport.domain.search import MAX_INDEXED, TRIMMED_TO
from livesupport.store.models import Ticket

_meta = MetaData()  # not the models' metadata: each dialect has its own kind of table under this name
#: PostgreSQL's table (a plain table with generated columns).
PG = Table("ticket_search", _meta, Column("ticket_id", Integer, primary_key=True), Column("subject", Text),
           Column("public_text", Text), Column("internal_text", Text), Column("public_tsv", TSVECTOR),
           Column("staff_tsv", TSVECTOR))
#: PostgreSQL's recent rows (migration 0027): text written since the document was last folded.
RECENT = Table("ticket_search_recent", _meta, Column("ticket_id", Integer, primary_key=True),
               Column("seq", Integer, primary_key=True), Column("public_text", Text), Column("internal_text", Text),
               Column("public_tsv", TSVECTOR), Column("staff_tsv", TSVECTOR))
FTS: Any = literal_column("ticket_search")  # SQLite's FTS5 table, as its functions and MATCH name it
FTS_ROWS = table("ticket_search", column("rowid", Integer))  # ... and as a FROM (its rowid: the ticket id)
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
#: Folding a ticket's recent rows into its document (`fold_recent`): the upsert of their text (a ticket stored some
#: other way gets its document started). The new text is parsed once: the proposed row carries its vectors (with the
#: subject's only when the ticket has no document yet), and the update appends them from `excluded`.
PG_FOLD = (
    "INSERT INTO ticket_search (ticket_id, subject, public_text, internal_text, public_tsv, staff_tsv) "
    "SELECT id, subject, right(:search_public, :search_cap), right(:search_internal, :search_cap), "
    "head.s || new.p, head.s || new.p || new.i FROM tickets, "
    "LATERAL (SELECT {new_public} AS p, {new_internal} AS i) AS new, "
    "LATERAL (SELECT CASE WHEN EXISTS (SELECT 1 FROM ticket_search WHERE ticket_id = :search_id) "
    "THEN ''::tsvector ELSE {start} END AS s) AS head WHERE id = :search_id "
    "ON CONFLICT (ticket_id) DO UPDATE SET public_text = {public_text}, internal_text = {internal_text}, "
    "public_tsv = CASE WHEN {over} THEN {subject} || {public} ELSE ticket_search.public_tsv || excluded.public_tsv "
    "END, staff_tsv = CASE WHEN {over} THEN {subject} || {public} || {internal} "
    "ELSE ticket_search.staff_tsv || excluded.staff_tsv END"
).format(**_PG_TEXTS, over=_PG_OVERFLOW, subject=_PG_SUBJECT, start=_vector("tickets.subject", "A"),
         public=_vector(_PG_TEXTS["public_text"], "B"), internal=_vector(_PG_TEXTS["internal_text"], "B"),
         new_public=_vector(":search_public", "B"), new_internal=_vector(":search_internal", "B"))
_PG_FOLD_TEXT = text(PG_FOLD)
#: What a write adds to the index, folded into the statement that appends its events (store/tickets.py
#: `_append_in_one`), only when its UPDATE (the CTE `ticket_appended`) wrote the ticket: one small row of its own,
#: keyed by the write's last seq, with its vectors (migration 0027). The ticket's document is not rewritten: its
#: words are not put in the GIN indexes again on every message.
_PG_RECENT_TEXT = text(
    "INSERT INTO ticket_search_recent (ticket_id, seq, public_text, internal_text, public_tsv, staff_tsv) "
    "SELECT :search_id, ticket_appended.last_seq, right(:search_public, :search_cap), "
    "right(:search_internal, :search_cap), new.p, new.p || new.i FROM ticket_appended, "
    "LATERAL (SELECT {p} AS p, {i} AS i) AS new".format(p=_vector("right(:search_public, :search_cap)", "B"),
                                                       i=_vector("right(:search_internal, :search_cap)", "B")))
#: ... and a ticket stored some other way, with no document, gets one with its subject at once.
_PG_STARTED_TEXT = text(
    "INSERT INTO ticket_search (ticket_id, subject, public_tsv, staff_tsv) "
    "SELECT id, subject, {s}, {s} FROM tickets WHERE id = :search_id AND EXISTS (SELECT 1 FROM ticket_appended) "
    "AND NOT EXISTS (SELECT 1 FROM ticket_search WHERE ticket_id = :search_id) "
    "ON CONFLICT (ticket_id) DO NOTHING".format(s=_vector("tickets.subject", "A")))
#: A whole document at once (a new ticket, the migration's back-fill).
PG_INSERT = (
    "INSERT INTO ticket_search (ticket_id, subject, public_text, internal_text, public_tsv, staff_tsv) "
    "VALUES (:id, :subject, :public_text, :internal_text, {s} || {p}, {s} || {p} || {i}) "
    "ON CONFLICT (ticket_id) DO UPDATE SET subject = excluded.subject, public_text = excluded.public_text, "
    "internal_text = excluded.internal_text, public_tsv = excluded.public_tsv, staff_tsv = excluded.staff_tsv"
).format(s=_vector(":subject", "A"), p=_vector(":public_text", "B"), i=_vector(":internal_text", "B"))


def scope_sql(org_id: str, partner_id: str) -> str:
    """SQL: the `scope` column (`domain.search.document_scope`) of a document of a ticket of organisation `org_id`
    whose partner is `partner_id` (SQL expressions; NULL: none)."""
    mark = f"char({ord(rules.SCOPE_MARK)})"
    return f"({mark} || 'o' || {org_id} || coalesce(' ' || {mark} || 'p' || {partner_id}, ''))"


def _fts_scope(org_id: str) -> str:
    """SQL: the `scope` column of a document of a ticket of organisation `org_id` (an SQL expression)."""
    return (f"(SELECT {scope_sql('organisations.id', 'organisations.partner_id')} FROM organisations "
            f"WHERE organisations.id = {org_id})")


# A deleted ticket's id can come back in SQLite: its old document goes. The ticket's row is stored first.
FTS_INSERT = ("INSERT OR REPLACE INTO ticket_search (rowid, subject, public_text, internal_text, scope) "
              f"SELECT id, :subject, :public_text, :internal_text, {_fts_scope('tickets.org_id')} FROM tickets "
              "WHERE id = :id")


def _fts_stripped(value: str) -> str:
    """SQL: `value` (NULL: '') without the snippet markers (`domain.search.searchable`)."""
    return f"replace(replace(coalesce({value}, ''), char({ord(rules.OPEN)}), ''), char({ord(rules.CLOSE)}), '')"


def _fts_part(value: str) -> str:
    """SQL: a part of an event's text as `domain.search.joined` adds it (a newline, then the text without snippet
    markers), or '' when there is none."""
    return f"(CASE WHEN {_fts_stripped(value)} != '' THEN char(10) || {_fts_stripped(value)} ELSE '' END)"


_SHOWN = _fts_part("CASE NEW.kind WHEN 'chat' THEN json_extract(NEW.data, '$.body') "
                   "WHEN 'task' THEN json_extract(NEW.data, '$.task.title') END")
_NOTE = _fts_part("CASE NEW.kind WHEN 'task' THEN json_extract(NEW.data, '$.task.note') "
                  "WHEN 'member' THEN json_extract(NEW.data, '$.message') END")
_FTS_PUBLIC = f"(CASE WHEN NEW.visibility = 'public' THEN {_SHOWN} ELSE '' END)"
_FTS_INTERNAL = f"((CASE WHEN NEW.visibility != 'public' THEN {_SHOWN} ELSE '' END) || {_NOTE})"


def _fts_trigger(scoped: bool) -> str:
    start = (f"INSERT INTO ticket_search (rowid, subject, public_text, internal_text, scope) "
             f"SELECT id, {_fts_stripped('subject')}, '', '', {_fts_scope('tickets.org_id')} FROM tickets"
             if scoped else
             f"INSERT INTO ticket_search (rowid, subject, public_text, internal_text) "
             f"SELECT id, {_fts_stripped('subject')}, '', '' FROM tickets")
    return f"""
CREATE TRIGGER ticket_search_events AFTER INSERT ON ticket_events
WHEN NEW.kind IN ('chat', 'task', 'member')
BEGIN
    {start}
        WHERE id = NEW.ticket_id AND NOT EXISTS (SELECT 1 FROM ticket_search WHERE rowid = NEW.ticket_id);
    UPDATE ticket_search SET public_text = substr(public_text || {_FTS_PUBLIC}, -{MAX_INDEXED}),
                             internal_text = substr(internal_text || {_FTS_INTERNAL}, -{MAX_INDEXED})
        WHERE rowid = NEW.ticket_id AND ({_FTS_PUBLIC} != '' OR {_FTS_INTERNAL} != '');
END"""


#: SQLite: a stored event's searchable text (`domain.search.event_text`, in SQL) joins its ticket's document by a
#: trigger, inside the event's own INSERT: no statement of its own (through aiosqlite's thread a statement costs
#: more than FTS5's work). A ticket stored without a document (none in this code) gets one first, with its scope.
FTS_TRIGGER = _fts_trigger(scoped=True)
FTS_TRIGGER_0024 = _fts_trigger(scoped=False)  # as migration 0024 made it (the documents had no scope yet)
#: SQLite: a document's scope follows its ticket when the ticket moves to another organisation, and every document
#: of an organisation's tickets follows when the organisation gets, changes or loses its partner (rare: FTS5
#: rewrites each of those documents).
FTS_SCOPE_TRIGGERS = (f"""
CREATE TRIGGER ticket_search_scope_moved AFTER UPDATE OF org_id ON tickets
WHEN NEW.org_id IS NOT OLD.org_id
BEGIN
    UPDATE ticket_search SET scope = {_fts_scope("NEW.org_id")} WHERE rowid = NEW.id;
END""", f"""
CREATE TRIGGER ticket_search_scope_partner AFTER UPDATE OF partner_id ON organisations
WHEN NEW.partner_id IS NOT OLD.partner_id
BEGIN
    UPDATE ticket_search SET scope = {scope_sql("NEW.id", "NEW.partner_id")}
        WHERE rowid IN (SELECT id FROM tickets WHERE org_id = NEW.id);
END""")


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


#: PostgreSQL: what an append adds to the index, as CTEs put on the ticket's own UPDATE (no round trip of their own;
#: they run after that UPDATE has locked the ticket's row): a recent row (folded into the document later, by
#: `fold_recent`), and the document when the ticket has none. Their values are the statement's parameters
#: (`append_params`).
APPEND_CTES = (_PG_RECENT_TEXT.columns().cte("ticket_search_recent_added"),
               _PG_STARTED_TEXT.columns().cte("ticket_search_started"))


def append_params(ticket_id: int, events: Events) -> dict[str, Any] | None:
    """The parameters of `APPEND_CTES` for these events; None when they add nothing to the index."""
    values = _values(ticket_id, events)
    if values is not None:
        values.pop("search_trimmed")  # a recent row is never cut but to MAX_INDEXED
    return values


#: At most this many recent rows are folded into one ticket's document at a time (more: the next pass).
FOLD_ROWS = 1_000
_FOLD_LOCK = text("SELECT pg_try_advisory_xact_lock(hashtext('ticket_search_fold'), :id)")
_FOLD_TAKE = text(
    "DELETE FROM ticket_search_recent WHERE ticket_id = :id AND seq IN (SELECT seq FROM ticket_search_recent "
    "WHERE ticket_id = :id ORDER BY seq LIMIT :rows) RETURNING seq, public_text, internal_text")
_RECENT_TICKETS = text("SELECT DISTINCT ticket_id FROM ticket_search_recent LIMIT :limit")


async def recent_tickets(session: AsyncSession, limit: int = 500) -> list[int]:
    """PostgreSQL: tickets with text not yet folded into their documents (none elsewhere)."""
    if dialect_of(session) != "postgresql":
        return []
    return [int(i) for i in (await session.execute(_RECENT_TICKETS, {"limit": limit})).scalars()]


async def fold_recent(session: AsyncSession, ticket_id: int) -> int:
    """PostgreSQL: move a ticket's recent rows into its document, in seq order, in the caller's transaction (the
    document's text is cut to its newest part and its vectors made again when it would outgrow MAX_INDEXED).
    Another transaction folding the same ticket meanwhile: this one does nothing. Returns how many rows moved."""
    if not (await session.execute(_FOLD_LOCK, {"id": ticket_id})).scalar():
        return 0
    rows = sorted((await session.execute(_FOLD_TAKE, {"id": ticket_id, "rows": FOLD_ROWS})).all())
    if not rows:
        return 0
    public, internal = "".join(r.public_text for r in rows), "".join(r.internal_text for r in rows)
    await session.execute(_PG_FOLD_TEXT, {"search_id": ticket_id, "search_public": public,
                                          "search_internal": internal, "search_cap": MAX_INDEXED,
                                          "search_trimmed": TRIMMED_TO})
    return len(rows)


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


#: The relevance sort ranks at most RANKED matches: the newest ones among the newest SCANNED tickets the person
#: may see (after the list's filters); older matches follow them, newest first (store/listing.py). Ranking reads
#: each ranked ticket's whole vector, and so does checking a phrase: ranking every match of a word nearly every
#: ticket holds (100,000 at issue 17's size) took seconds, and so did finding 1,000 tickets with a phrase of two
#: common words (one ticket in 60).
RANKED = 300
SCANNED = 5000


Scope = tuple[str, ...] | None  # `domain.search.scope_tokens`: None, every document


def _fts5(q: str, staff: bool, scope: Scope) -> str:
    """Staff: every column (no typed word is a scope token: `domain.search.SCOPE_MARK`), and no scope."""
    return rules.fts5(rules.parse(q), None if staff else PUBLIC_COLUMNS, None if staff else scope)


def _match(q: str, *, dialect: str, staff: bool, scope: Scope = None) -> Any:
    """SQLite: the condition that a ticket's text (as this person may search it) matches `q`, on its search row; a
    non-staff query given `scope` reads only the documents with one of those scope tokens (an empty scope: none).
    PostgreSQL: the condition on a document with no recent rows (`_pg_matching` adds the others)."""
    if dialect == "postgresql":
        return _pg_vector(staff, whole=False).op("@@")(_pg_query(q))
    if scope is not None and not scope and not staff:
        return false()
    return FTS.op("MATCH")(literal(_fts5(q, staff, scope)))


_HAS_RECENT = exists().where(RECENT.c.ticket_id == PG.c.ticket_id)


def _pg_vector(staff: bool, *, whole: bool) -> Any:
    """A document's vector as this person may search it; `whole`: with its recent rows' (migration 0027)."""
    main = PG.c.staff_tsv if staff else PG.c.public_tsv
    if not whole:
        return main
    part = RECENT.c.staff_tsv if staff else RECENT.c.public_tsv
    recent = select(func.tsvector_agg(aggregate_order_by(part, RECENT.c.seq))) \
        .where(RECENT.c.ticket_id == PG.c.ticket_id).scalar_subquery()
    return case((_HAS_RECENT, main.op("||", return_type=TSVECTOR)(recent)), else_=main)


def _pg_matching(q: str, staff: bool, *columns: Any, below: int | None = None, from_: int | None = None) -> Any:
    """PostgreSQL: `columns` of the documents that match with their recent rows: those with none by their own
    vector, those with some (the tickets written within the last fold, a few) read whole. One statement over the
    documents, so a caller's join can still drive it ticket by ticket; each arm of its OR has an index to start from
    (the GIN index; the ids of the tickets with recent rows, an array taken once), so a search over every ticket
    reads the index, never every document."""
    query = _pg_query(q)
    recent = func.array(select(RECENT.c.ticket_id).distinct().scalar_subquery())
    found = select(*columns).where(or_(
        and_(_pg_vector(staff, whole=False).op("@@")(query), ~_HAS_RECENT),
        and_(PG.c.ticket_id == any_(recent), _pg_vector(staff, whole=True).op("@@")(query)),
    ))
    if below is not None:
        found = found.where(PG.c.ticket_id < below)
    return found if from_ is None else found.where(PG.c.ticket_id >= from_)


def _rank(q: str, *, dialect: str, staff: bool) -> Any:
    if dialect == "postgresql":
        return func.ts_rank(_pg_vector(staff, whole=True), _pg_query(q))
    return -func.bm25(FTS, 4.0, 1.0, 1.0, 0.0)  # subject, public, internal; never the scope


def _id(dialect: str) -> Any:
    return PG.c.ticket_id if dialect == "postgresql" else FTS_ROWS.c.rowid


def _rows(dialect: str, *columns: Any) -> Select[Any]:
    return select(*columns) if dialect == "postgresql" else select(*columns).select_from(FTS_ROWS)


def matching_tickets(q: str, *, dialect: str, staff: bool, scope: Scope = None) -> Select[Any]:
    """The tickets whose searchable text (staff: all of it; others: subject and public messages) matches `q`,
    as (ticket_id, rank), higher rank better. Raises BadQueryError for a query with nothing to look for.
    It ranks every match: the list ranks a bounded set (`matching_ids`, `ranks`). `scope` (SQLite, non-staff)
    narrows to those documents; it never replaces the caller's own visibility condition."""
    columns = (_id(dialect).label("ticket_id"), _rank(q, dialect=dialect, staff=staff).label("rank"))
    if dialect == "postgresql":
        found = _pg_matching(q, staff, *columns).subquery("found")
        return select(found.c.ticket_id, found.c.rank)
    return _rows(dialect, *columns).where(_match(q, dialect=dialect, staff=staff, scope=scope))


def matching_ids(q: str, *, dialect: str, staff: bool, scope: Scope = None, below: int | None = None,
                 from_: int | None = None) -> Any:
    """The ids of the tickets `matching_tickets` finds (lower than `below`, from `from_` up, when given), unranked.
    The bounds are the search's own: FTS5 reads only that range of its index."""
    if dialect == "postgresql":
        return _pg_matching(q, staff, PG.c.ticket_id.label("ticket_id"), below=below, from_=from_)
    found = _rows(dialect, _id(dialect).label("ticket_id")).where(_match(q, dialect=dialect, staff=staff,
                                                                         scope=scope))
    if below is not None:
        found = found.where(_id(dialect) < below)
    return found if from_ is None else found.where(_id(dialect) >= from_)


def ranks(q: str, ids: list[int], *, dialect: str, staff: bool, scope: Scope = None) -> Select[Any]:
    """(ticket_id, rank) of the tickets among `ids` (ticket ids known to match) `q` matches."""
    found = _rows(dialect, _id(dialect).label("ticket_id"), _rank(q, dialect=dialect, staff=staff).label("rank"))
    if dialect == "postgresql":  # ranks the ids as given
        return found.where(_id(dialect).in_(ids))
    return found.where(_match(q, dialect=dialect, staff=staff, scope=scope), *_fts_among(ids))


def _fts_among(ids: list[int]) -> list[Any]:
    """FTS5: the rows of these ids in one pass over the matches in their range (bm25 only in a MATCH query).
    A bare `rowid IN (...)` would run the MATCH once per id, each from scratch (0.1 ms or more apiece)."""
    if not ids:
        return [false()]
    return [FTS_ROWS.c.rowid >= min(ids), FTS_ROWS.c.rowid <= max(ids), (FTS_ROWS.c.rowid + 0).in_(ids)]


def _recent_text(column: Any) -> Any:
    """PostgreSQL: a document's recent rows' text in this column, in order ('' when none)."""
    return func.coalesce(select(func.string_agg(column, aggregate_order_by(literal_column("''"), RECENT.c.seq)))
                         .where(RECENT.c.ticket_id == PG.c.ticket_id).scalar_subquery(), "")


async def snippets(session: AsyncSession, q: str, ticket_ids: list[int], *, staff: bool) -> dict[int, str]:
    """A short passage of each ticket around the words found, as HTML (<mark> around them, the rest escaped).
    A client's snippet is cut from the subject and public messages only."""
    if not ticket_ids:
        return {}
    found: dict[int, str] = {}
    if dialect_of(session) == "postgresql":
        document = PG.c.subject + "\n" + PG.c.public_text + _recent_text(RECENT.c.public_text)
        if staff:
            document = document + "\n" + PG.c.internal_text + _recent_text(RECENT.c.internal_text)
        headline = func.ts_headline(literal_column("'english'::regconfig"), document, _pg_query(q), literal(HEADLINE))
        rows = await session.execute(select(PG.c.ticket_id, headline).where(PG.c.ticket_id.in_(ticket_ids)))
        found = {int(i): str(h) for i, h in rows}
    else:
        scope = None
        if not staff:  # the tickets' own organisations: FTS5 reads only their part of the index in the ids' range
            orgs = await session.execute(select(Ticket.org_id).where(Ticket.id.in_(ticket_ids)).distinct())
            scope = tuple(rules.document_scope(org, None) for org in sorted(orgs.scalars()))
        match = _fts5(q, staff, scope)
        # -1: the column with the best passage around what matched (never the scope: no staff query matches in
        # it); a client's only their public text
        body = -1 if staff else 1
        stmt = select(literal_column("ticket_search.rowid"),
                      func.snippet(FTS, body, rules.OPEN, rules.CLOSE, "…", 20),
                      func.highlight(FTS, 0, rules.OPEN, rules.CLOSE)) \
            .select_from(FTS_ROWS).where(FTS.op("MATCH")(literal(match)), *_fts_among(ticket_ids))
        for i, passage, subject in await session.execute(stmt):
            found[int(i)] = passage if rules.OPEN in passage or not subject else subject
    return {i: rules.marked_html(h) for i, h in found.items()}
