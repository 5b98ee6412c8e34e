"""account_audit: who disabled, enabled or changed an account, and when

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import livesupport.store.models

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('account_audit',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', livesupport.store.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('actor', sa.String(length=200), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('action', sa.String(length=20), nullable=False),
    sa.Column('detail', sa.String(length=500), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('account_audit', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_account_audit_at'), ['at'], unique=False)
        batch_op.create_index(batch_op.f('ix_account_audit_user_id'), ['user_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('account_audit', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_account_audit_user_id'))
        batch_op.drop_index(batch_op.f('ix_account_audit_at'))
    op.drop_table('account_audit')
