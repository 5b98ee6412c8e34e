"""search scope: SQLite's search documents say who may see their ticket, so a client's search reads only theirs

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-05

SQLite: the FTS5 table `ticket_search` gets a fourth indexed column, `scope`: the tokens `o<org id>` and, when the
ticket's organisation has a partner, `p<partner id>`, each after a private-use character nobody can type
(livesupport.domain.search.document_scope). FTS5 cannot add
a column, so the table is made again and every document copied into it with its scope. The event trigger of 0024
is made again (a document it starts gets its scope), and two triggers keep the scope current: a ticket moved to
another organisation, an organisation whose partner changes (livesupport.store.search.FTS_SCOPE_TRIGGERS).
PostgreSQL: nothing changes (its client searches read a GIN index joined to the tickets already).
"""

from __future__ import annotations

from alembic import op

from livesupport.store.search import FTS_SCOPE_TRIGGERS, FTS_TRIGGER, FTS_TRIGGER_0024, scope_sql

revision = '0026'
down_revision = '0025'
branch_labels = None
depends_on = None

TOKENIZE = "tokenize = 'porter unicode61 remove_diacritics 2'"  # as 0019 made it
TEXT_COLUMNS = "subject, public_text, internal_text"


def _remake(columns: str, copied: str, join: str) -> None:
    """`ticket_search` again with `columns`, each document copied (`copied`: its values, from the old table `old`).
    The event trigger goes first: renaming the table would rewrite it to name the old one."""
    op.execute("DROP TRIGGER IF EXISTS ticket_search_events")
    op.execute("ALTER TABLE ticket_search RENAME TO ticket_search_old")
    op.execute(f"CREATE VIRTUAL TABLE ticket_search USING fts5({columns}, {TOKENIZE})")
    op.execute(f"INSERT INTO ticket_search (rowid, {columns}) SELECT old.rowid, {copied} "
               f"FROM ticket_search_old AS old {join}")
    op.execute("DROP TABLE ticket_search_old")


def upgrade() -> None:
    if op.get_bind().dialect.name != 'sqlite':
        return
    # a document whose ticket is gone (never found: searches join the tickets) is not copied
    _remake(f"{TEXT_COLUMNS}, scope",
            "old.subject, old.public_text, old.internal_text, "
            + scope_sql("organisations.id", "organisations.partner_id"),
            "JOIN tickets ON tickets.id = old.rowid JOIN organisations ON organisations.id = tickets.org_id")
    op.execute(FTS_TRIGGER)
    for trigger in FTS_SCOPE_TRIGGERS:
        op.execute(trigger)


def downgrade() -> None:
    if op.get_bind().dialect.name != 'sqlite':
        return
    op.execute("DROP TRIGGER IF EXISTS ticket_search_scope_moved")
    op.execute("DROP TRIGGER IF EXISTS ticket_search_scope_partner")
    _remake(TEXT_COLUMNS, "old.subject, old.public_text, old.internal_text", "")
    op.execute(FTS_TRIGGER_0024)
