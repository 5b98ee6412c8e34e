"""Migration 0023 gives tickets that existed before it their report facts, replayed from their events."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from alembic import command
from sqlalchemy import create_engine, text

from livesupport.store.migrate import alembic_config


def test_back_fill_replays_events() -> None:
    url = f"sqlite+aiosqlite:///{Path(tempfile.mkdtemp()) / 'old.db'}"
    command.upgrade(alembic_config(url), "0022")
    engine = create_engine(url.replace("+aiosqlite", ""))
    staff = {"id": 1, "name": "Sam", "role": "staff"}
    client = {"id": 2, "name": "Alice", "role": "client"}
    with engine.begin() as c:
        c.execute(text("INSERT INTO organisations (id, name, kind, created_at) VALUES (1, 'Acme', 'client', '2021-03-01')"))
        c.execute(text("INSERT INTO users (id, email, name, password_hash, role, created_at) VALUES "
                       "(2, 'a@acme.test', 'Alice', '!', 'client', '2021-03-01')"))
        c.execute(text("INSERT INTO tickets (id, org_id, opened_by, subject, status, priority, next_update_source, "
                       "last_seq, last_public_seq, created_at, updated_at, public_updated_at) VALUES (1, 1, 2, 'x', "
                       "'in_progress', 'normal', 'sla', 4, 4, '2021-03-01 15:00:00', '2021-03-01 15:00:00', "
                       "'2021-03-01 15:00:00')"))
        events = [  # opened Mon 10:00 New York (due 14:00); answered 11:00; resolved 12:00; reopened Tue 9:00
            (1, "chat", client, "2021-03-01 15:00:00", '{"body": "help"}'),
            (2, "chat", staff, "2021-03-01 16:00:00", '{"body": "on it", "next_update_at": "2021-03-02T00:00:00Z"}'),
            (3, "status", staff, "2021-03-01 17:00:00", '{"status": "resolved", "next_update_at": null}'),
            (4, "status", client, "2021-03-02 14:00:00",
             '{"status": "in_progress", "next_update_at": "2021-03-02T18:00:00Z"}'),
        ]
        for seq, kind, actor, at, data in events:
            c.execute(text("INSERT INTO ticket_events (ticket_id, seq, kind, visibility, actor_id, at, data, actor) "
                           "VALUES (1, :seq, :kind, 'public', NULL, :at, :data, :actor)"),
                      {"seq": seq, "kind": kind, "at": at, "data": data, "actor": json.dumps(actor)})
    engine.dispose()
    command.upgrade(alembic_config(url), "head")
    engine = create_engine(url.replace("+aiosqlite", ""))
    with engine.connect() as c:
        row = c.execute(text("SELECT first_response_at, first_response_bh - created_bh AS fr, solved_at, "
                             "promises_kept, promises_missed FROM tickets WHERE id = 1")).one()
    engine.dispose()
    assert str(row.first_response_at).startswith("2021-03-01 16:00:00")
    assert row.fr == 3600
    assert row.solved_at is None  # reopened: unsolved until solved again
    assert (row.promises_kept, row.promises_missed) == (2, 0)
