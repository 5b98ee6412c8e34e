"""tickets: the facts reports read (first response, solved, business clock readings, promises kept and missed)

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-04

From now on store.tickets.append_kinds keeps them as events are written. Existing tickets get them here by
replaying their events with the same rules (docs/reports.md): the first public message by staff after the
opening one; solved_at, the last time the ticket became resolved or closed, cleared by a reopening; and each
"next update by" promise settled as kept (a public staff update, or a resolution, by then) or missed. Business
clock readings use COMPANY_TIMEZONE and HOLIDAYS as the server does (Monday to Friday, 09:00-17:00).
"""

from __future__ import annotations

import os
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from alembic import op

import livesupport.store.models
from livesupport.domain.business_hours import DeskHours
from livesupport.domain.sla import DEFAULT_TARGETS, parse_targets
from livesupport.domain.tickets import Priority

revision = '0023'
down_revision = '0022'
branch_labels = None
depends_on = None

SOLVED = {"resolved", "closed"}
STAFF = {"staff", "admin"}
BATCH = 2000


def _desk() -> DeskHours:
    days = [d.strip() for d in os.environ.get("HOLIDAYS", "").split(",") if d.strip()]
    return DeskHours(ZoneInfo(os.environ.get("COMPANY_TIMEZONE", "America/New_York")),
                     holidays=frozenset(date.fromisoformat(d) for d in days))


def upgrade() -> None:
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.add_column(sa.Column('created_bh', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('first_response_at', livesupport.store.models.UTCDateTime(timezone=True),
                                      nullable=True))
        batch_op.add_column(sa.Column('first_response_bh', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('solved_at', livesupport.store.models.UTCDateTime(timezone=True),
                                      nullable=True))
        batch_op.add_column(sa.Column('solved_bh', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('promises_kept', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('promises_missed', sa.Integer(), server_default='0', nullable=False))
        batch_op.create_index('ix_tickets_solved_at', ['solved_at'], unique=False)
    _back_fill(op.get_bind(), _desk())


def _back_fill(conn: Any, desk: DeskHours) -> None:
    tickets = sa.table('tickets', sa.column('id', sa.Integer()), sa.column('priority', sa.String()),
                       sa.column('created_at', livesupport.store.models.UTCDateTime()))
    events = sa.table('ticket_events', sa.column('ticket_id', sa.Integer()), sa.column('seq', sa.Integer()),
                      sa.column('kind', sa.String()), sa.column('visibility', sa.String()),
                      sa.column('at', livesupport.store.models.UTCDateTime()), sa.column('data', sa.JSON()),
                      sa.column('actor', sa.JSON()))
    # The opening promise is in no event's data: the SLA's response target for the priority the ticket opened with.
    targets = parse_targets(os.environ.get("SLA_TARGETS") or DEFAULT_TARGETS)
    opened_as: dict[int, str] = {}
    for e in conn.execute(sa.select(events.c.ticket_id, events.c.data).where(events.c.kind == "priority")
                          .order_by(events.c.ticket_id, events.c.seq.desc())):
        opened_as[e.ticket_id] = (e.data or {}).get("from", "")  # the earliest change is read last
    facts: dict[int, dict[str, Any]] = {}
    for row in conn.execute(sa.select(tickets.c.id, tickets.c.priority, tickets.c.created_at)):
        priority = opened_as.get(row.id) or row.priority
        due = row.created_at + targets[Priority(priority)].response if priority in {p.value for p in Priority} else None
        facts[row.id] = {"b_id": row.id, "created_bh": desk.reading(row.created_at), "first_response_at": None,
                         "first_response_bh": None, "solved_at": None, "solved_bh": None, "promises_kept": 0,
                         "promises_missed": 0, "_due": due}
    rows = conn.execute(sa.select(events).where(events.c.kind.in_(("chat", "status", "priority")))
                        .order_by(events.c.ticket_id, events.c.seq))
    for e in rows:
        f = facts.get(e.ticket_id)
        if f is not None:
            _replay(f, e.seq, e.kind, e.visibility, e.at, e.data or {}, (e.actor or {}).get("role") in STAFF, desk)
    t = sa.table('tickets', *(sa.column(c) for c in ('id', 'created_bh', 'first_response_bh', 'solved_bh',
                                                     'promises_kept', 'promises_missed')),
                 sa.column('first_response_at', livesupport.store.models.UTCDateTime()),
                 sa.column('solved_at', livesupport.store.models.UTCDateTime()))
    stmt = t.update().where(t.c.id == sa.bindparam('b_id')).values(
        {c: sa.bindparam(c) for c in ('created_bh', 'first_response_at', 'first_response_bh', 'solved_at',
                                      'solved_bh', 'promises_kept', 'promises_missed')})
    values = [{k: v for k, v in f.items() if k != "_due"} for f in facts.values()]
    for i in range(0, len(values), BATCH):
        conn.execute(stmt, values[i:i + BATCH])


def _replay(f: dict[str, Any], seq: int, kind: str, visibility: str, at: datetime, data: dict[str, Any],
            staff: bool, desk: DeskHours) -> None:
    """One event, by the rules append_kinds follows as it writes."""
    public = visibility == "public"
    status = data.get("status") if kind == "status" else None
    if (staff and public and kind in ("chat", "status")) or status in SOLVED:
        _settle(f, at, missed_only=False)
    elif "next_update_at" in data:
        _settle(f, at, missed_only=True)
    if staff and public and kind == "chat" and seq > 1 and f["first_response_at"] is None:
        f["first_response_at"], f["first_response_bh"] = at, desk.reading(at)
    if status in SOLVED and f["solved_at"] is None:
        f["solved_at"], f["solved_bh"] = at, desk.reading(at)
    elif status is not None and status not in SOLVED:
        f["solved_at"] = f["solved_bh"] = None
    if "next_update_at" in data:
        due = data["next_update_at"]
        f["_due"] = datetime.fromisoformat(due) if due else None


def _settle(f: dict[str, Any], at: datetime, *, missed_only: bool) -> None:
    due = f["_due"]
    if due is None:
        return
    if due < at:
        f["promises_missed"] += 1
    elif not missed_only:
        f["promises_kept"] += 1


def downgrade() -> None:
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.drop_index('ix_tickets_solved_at')
        for column in ('promises_missed', 'promises_kept', 'solved_bh', 'solved_at', 'first_response_bh',
                       'first_response_at', 'created_bh'):
            batch_op.drop_column(column)
