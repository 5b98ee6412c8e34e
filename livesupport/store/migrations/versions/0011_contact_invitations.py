"""contact_invitations: the contacts a domain administrator added, alike whether or not the address had an account

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import livesupport.store.models

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('contact_invitations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=320), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('invited_by', sa.Integer(), nullable=True),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('created_at', livesupport.store.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('removed_at', livesupport.store.models.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['invited_by'], ['users.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('org_id', 'email', name='uq_contact_invitations_org_email')
    )
    with op.batch_alter_table('contact_invitations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_contact_invitations_org_id'), ['org_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('contact_invitations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_contact_invitations_org_id'))
    op.drop_table('contact_invitations')
