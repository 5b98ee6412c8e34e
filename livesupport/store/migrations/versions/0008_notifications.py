"""notifications: followers, preferences, how far each follower was told, job cursors; mail retries

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-27

The e-mail job starts after the newest event of the day this runs: nobody is mailed the past.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import livesupport.store.models

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    job_cursors = op.create_table('job_cursors',
    sa.Column('name', sa.String(length=40), nullable=False),
    sa.Column('position', sa.Integer(), server_default='0', nullable=False),
    sa.Column('at', livesupport.store.models.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('name')
    )
    op.create_table('notification_prefs',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('mode', sa.String(length=10), nullable=False),
    sa.Column('digest_hour', sa.Integer(), server_default='8', nullable=False),
    sa.Column('updated_at', livesupport.store.models.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id')
    )
    op.create_table('notification_cursors',
    sa.Column('ticket_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('told_seq', sa.Integer(), nullable=False),
    sa.Column('pending_since', livesupport.store.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_sent_at', livesupport.store.models.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('ticket_id', 'user_id')
    )
    with op.batch_alter_table('notification_cursors', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_notification_cursors_pending_since'), ['pending_since'], unique=False)
        batch_op.create_index(batch_op.f('ix_notification_cursors_user_id'), ['user_id'], unique=False)

    op.create_table('ticket_followers',
    sa.Column('ticket_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('reason', sa.String(length=10), nullable=False),
    sa.Column('muted', sa.Boolean(), server_default='0', nullable=False),
    sa.Column('at', livesupport.store.models.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('ticket_id', 'user_id')
    )
    with op.batch_alter_table('ticket_followers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ticket_followers_user_id'), ['user_id'], unique=False)

    with op.batch_alter_table('outbox_emails', schema=None) as batch_op:
        batch_op.add_column(sa.Column('next_attempt_at', livesupport.store.models.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('headers', sa.JSON(), nullable=True))

    newest = op.get_bind().execute(sa.text("SELECT COALESCE(MAX(id), 0) FROM ticket_events")).scalar_one()
    op.bulk_insert(job_cursors, [{"name": "notifications", "position": int(newest), "at": None}])


def downgrade() -> None:
    with op.batch_alter_table('outbox_emails', schema=None) as batch_op:
        batch_op.drop_column('headers')
        batch_op.drop_column('next_attempt_at')

    with op.batch_alter_table('ticket_followers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ticket_followers_user_id'))

    op.drop_table('ticket_followers')
    with op.batch_alter_table('notification_cursors', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_notification_cursors_user_id'))
        batch_op.drop_index(batch_op.f('ix_notification_cursors_pending_since'))

    op.drop_table('notification_cursors')
    op.drop_table('notification_prefs')
    op.drop_table('job_cursors')
