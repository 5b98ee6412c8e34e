"""tickets: when clients last saw a change (public_updated_at), apart from staff-only activity (updated_at)

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02

An internal note or a task's staff note moves updated_at (staff lists) but not what clients see.
Existing tickets start with the two equal.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import livesupport.store.models

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.add_column(sa.Column('public_updated_at', livesupport.store.models.UTCDateTime(timezone=True),
                                      nullable=True))
    op.execute("UPDATE tickets SET public_updated_at = updated_at")
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.alter_column('public_updated_at', existing_type=livesupport.store.models.UTCDateTime(timezone=True),
                              nullable=False)


def downgrade() -> None:
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.drop_column('public_updated_at')
