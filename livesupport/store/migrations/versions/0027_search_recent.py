"""search recent: PostgreSQL keeps a message's searchable text in a small row of its own until it is folded in

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-03

PostgreSQL: `ticket_search_recent` holds the text a write added to a ticket (one row per write, keyed by the last
seq it stored), with its own two vectors and GIN indexes. Writing a message inserts that small row instead of
rewriting the ticket's whole document: rewriting up to 60,000 characters and both vectors on every message put all
of the document's words into the GIN indexes' pending lists again each time, and the list's clean-up (tens of ms,
blocking the writes behind it) set the p99 of a busy ticket's messages. `actions/search_folding.py` folds the rows
into the document about once a second, in a transaction of its own. A search reads a ticket's document and its
recent rows together (store/search.py), through the aggregate `tsvector_agg`. SQLite: nothing changes (its
trigger appends to the FTS5 document, whose cost does not grow with it).
"""

from __future__ import annotations

from alembic import op
from sqlalchemy import text

from livesupport.domain.search import MAX_INDEXED, TRIMMED_TO
from livesupport.store.search import PG_FOLD

revision = '0027'
down_revision = '0026'
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name != 'postgresql':
        return
    op.execute("""
        CREATE TABLE ticket_search_recent (
            ticket_id integer NOT NULL REFERENCES tickets (id) ON DELETE CASCADE,
            seq integer NOT NULL,
            public_text text NOT NULL DEFAULT '',
            internal_text text NOT NULL DEFAULT '',
            public_tsv tsvector NOT NULL DEFAULT '',
            staff_tsv tsvector NOT NULL DEFAULT '',
            PRIMARY KEY (ticket_id, seq)
        )""")
    op.execute("CREATE INDEX ix_ticket_search_recent_public ON ticket_search_recent USING gin (public_tsv)")
    op.execute("CREATE INDEX ix_ticket_search_recent_staff ON ticket_search_recent USING gin (staff_tsv)")
    op.execute("CREATE AGGREGATE tsvector_agg (tsvector) (SFUNC = tsvector_concat, STYPE = tsvector, "
               "INITCOND = '')")


def downgrade() -> None:
    if op.get_bind().dialect.name != 'postgresql':
        return
    bind = op.get_bind()  # what was not folded yet goes into the documents first, as the folding would
    texts = bind.execute(text("SELECT ticket_id, string_agg(public_text, '' ORDER BY seq), "
                              "string_agg(internal_text, '' ORDER BY seq) FROM ticket_search_recent "
                              "GROUP BY ticket_id")).all()
    for ticket_id, public, internal in texts:
        bind.execute(text(PG_FOLD), {"search_id": ticket_id, "search_public": public, "search_internal": internal,
                                     "search_cap": MAX_INDEXED, "search_trimmed": TRIMMED_TO})
    op.execute("DROP AGGREGATE tsvector_agg (tsvector)")
    op.execute("DROP TABLE ticket_search_recent")
