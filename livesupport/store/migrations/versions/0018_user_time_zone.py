"""users: the time zone a person's browser reports, for the contact's local time beside their tickets

Revision ID: 0019
Revises: 0013
Create Date: 2026-12-03

Unknown (NULL) until the person next opens a page with the live connection.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('time_zone', sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('time_zone')
