"""search speed: SQLite keeps the search index by a trigger on ticket_events (no statement of its own per message)

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-04

SQLite: the trigger `ticket_search_events` appends a stored chat, task or member event's searchable text to its
ticket's FTS5 document inside the event's INSERT (livesupport.store.search.FTS_TRIGGER_0024: the domain's
`event_text` rules in SQL). Existing documents are already current (migration 0019 and the code since kept
them); nothing to convert. PostgreSQL: nothing changes (its index is kept by a CTE on the ticket's UPDATE).
"""

from __future__ import annotations

from alembic import op

from livesupport.store.search import FTS_TRIGGER_0024

revision = '0024'
down_revision = '0023'
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == 'sqlite':
        op.execute(FTS_TRIGGER_0024)


def downgrade() -> None:
    if op.get_bind().dialect.name == 'sqlite':
        op.execute("DROP TRIGGER IF EXISTS ticket_search_events")
