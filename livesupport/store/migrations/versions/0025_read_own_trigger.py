"""read own trigger: SQLite moves an author's read mark past their own event inside the event's INSERT

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-05

SQLite: the trigger `ticket_events_read_own` (livesupport.store.tickets.READ_OWN_TRIGGER) does what the write path
did by a statement of its own after each INSERT of events: the author's mark, when it stood just before the event,
moves to it; a ticket's first event starts its author's mark. Existing marks are already right. PostgreSQL: nothing
changes (the write path does it in the same statement as the INSERT, a data-modifying CTE).
"""

from __future__ import annotations

from alembic import op

from livesupport.store.tickets import READ_OWN_TRIGGER

revision = '0025'
down_revision = '0024'
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == 'sqlite':
        op.execute(READ_OWN_TRIGGER)


def downgrade() -> None:
    if op.get_bind().dialect.name == 'sqlite':
        op.execute("DROP TRIGGER IF EXISTS ticket_events_read_own")
