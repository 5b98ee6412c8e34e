"""outbox: which messages hold a secret (a sign-in link, a PIN link, a transfer party's link), marked when made

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02

Messages already kept are marked by the paths their links have, once, here; new ones are marked by who sends them.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

_PAST = (("%/login/link/%", "a sign-in link"), ("%/pin/set/%", "a link to set a PIN"),
         ("%/transfer/%/p/%", "a personal transfer link"), ("%/transfer/resume/%", "a link to a saved survey"))


def upgrade() -> None:
    with op.batch_alter_table('outbox_emails', schema=None) as batch_op:
        batch_op.add_column(sa.Column('secret', sa.String(length=60), nullable=True))
    for pattern, what in _PAST:
        op.get_bind().execute(sa.text("UPDATE outbox_emails SET secret = :what WHERE secret IS NULL AND body LIKE "
                                      ":pattern"), {"what": what, "pattern": pattern})


def downgrade() -> None:
    with op.batch_alter_table('outbox_emails', schema=None) as batch_op:
        batch_op.drop_column('secret')
