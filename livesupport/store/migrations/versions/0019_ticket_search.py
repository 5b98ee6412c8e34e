"""ticket_search: full-text search over subjects and messages, public and internal text apart

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-03

PostgreSQL: a table with two tsvectors (english; public and staff), GIN indexes, kept by the statements that
append text (livesupport.store.search); SQLite: an FTS5 table (porter stemming)
whose rowid is the ticket id. Existing tickets are back-filled from their events by the same rules that index new
ones (livesupport.domain.search.event_text).
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import sqlalchemy as sa
from alembic import op

from livesupport.domain import search as rules
from livesupport.store.search import PG_INSERT

revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None

BATCH = 2000  # tickets per back-fill round
#: SQLite's document as this migration makes it (0026 adds its scope column).
FTS_INSERT = ("INSERT OR REPLACE INTO ticket_search (rowid, subject, public_text, internal_text) "
              "VALUES (:id, :subject, :public_text, :internal_text)")
_tickets = sa.table('tickets', sa.column('id', sa.Integer), sa.column('subject', sa.String))
_events = sa.table('ticket_events', sa.column('ticket_id', sa.Integer), sa.column('seq', sa.Integer),
                   sa.column('kind', sa.String), sa.column('visibility', sa.String), sa.column('data', sa.JSON))


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == 'postgresql':
        op.execute("""
            CREATE TABLE ticket_search (
                ticket_id integer PRIMARY KEY REFERENCES tickets (id) ON DELETE CASCADE,
                subject text NOT NULL DEFAULT '',
                public_text text NOT NULL DEFAULT '',
                internal_text text NOT NULL DEFAULT '',
                public_tsv tsvector NOT NULL DEFAULT '',
                staff_tsv tsvector NOT NULL DEFAULT ''
            )""")
        op.execute("CREATE INDEX ix_ticket_search_public ON ticket_search USING gin (public_tsv)")
        op.execute("CREATE INDEX ix_ticket_search_staff ON ticket_search USING gin (staff_tsv)")
        insert = PG_INSERT
    else:
        op.execute("CREATE VIRTUAL TABLE ticket_search USING fts5(subject, public_text, internal_text, "
                   "tokenize = 'porter unicode61 remove_diacritics 2')")
        insert = FTS_INSERT
    backfill(bind, insert)


def backfill(bind: Any, insert: str) -> None:
    """Every ticket's document from its subject and events, a batch of tickets at a time."""
    after = 0
    while True:
        tickets = bind.execute(sa.select(_tickets.c.id, _tickets.c.subject).where(_tickets.c.id > after)
                               .order_by(_tickets.c.id).limit(BATCH)).all()
        if not tickets:
            return
        after = tickets[-1].id
        texts: dict[int, list[rules.EventText]] = defaultdict(list)
        rows = bind.execute(sa.select(_events.c.ticket_id, _events.c.kind, _events.c.visibility, _events.c.data)
                            .where(_events.c.ticket_id.in_([t.id for t in tickets]),
                                   _events.c.kind.in_(['chat', 'task', 'member']))
                            .order_by(_events.c.ticket_id, _events.c.seq))
        for r in rows:
            texts[r.ticket_id].append(rules.event_text(r.kind, r.visibility, r.data or {}))
        values = []
        for t in tickets:
            doc = rules.joined(texts[t.id])
            values.append({"id": t.id, "subject": rules.searchable(t.subject),
                           "public_text": doc.public[-rules.MAX_INDEXED:],
                           "internal_text": doc.internal[-rules.MAX_INDEXED:]})
        bind.execute(sa.text(insert), values)


def downgrade() -> None:
    op.execute("DROP TABLE ticket_search")
