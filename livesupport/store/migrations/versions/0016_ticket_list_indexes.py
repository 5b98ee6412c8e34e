"""tickets: indexes for the ticket list's sorts and filters (GET /api/tickets)

Revision ID: 0016
Revises: 0013
Create Date: 2026-12-03

Each sort walks (key, id) in one index, so a page (first or deep, keyset) reads about `limit` rows:
updated_at (staff) and public_updated_at (clients) for -updated, created_at, next_update_at, priority.
A client's list is always one organisation's (or a partner's few): (org_id, key, id) serves it, and the same
index serves staff filtering by org. (status, updated_at, id) serves the status and waiting_on filters on the
default sort. docs/performance.md has the figures.
"""

from __future__ import annotations

from alembic import op

revision = '0016'
down_revision = '0013'
branch_labels = None
depends_on = None

INDEXES = {
    'ix_tickets_updated_at_id': ['updated_at', 'id'],
    'ix_tickets_public_updated_at_id': ['public_updated_at', 'id'],
    'ix_tickets_created_at_id': ['created_at', 'id'],
    'ix_tickets_next_update_at_id': ['next_update_at', 'id'],
    'ix_tickets_priority_id': ['priority', 'id'],
    'ix_tickets_org_updated_at_id': ['org_id', 'updated_at', 'id'],
    'ix_tickets_org_public_updated_at_id': ['org_id', 'public_updated_at', 'id'],
    'ix_tickets_status_updated_at_id': ['status', 'updated_at', 'id'],
}


def upgrade() -> None:
    for name, columns in INDEXES.items():
        op.create_index(name, 'tickets', columns, unique=False)


def downgrade() -> None:
    for name in INDEXES:
        op.drop_index(name, table_name='tickets')
