"""The search index in the store, on SQLite and PostgreSQL: migration 0019's back-fill, the kept-newest cap,
and every odd query the domain tests list read by the database itself."""

from __future__ import annotations

import asyncio
import secrets
import tempfile
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from sqlalchemy import column, insert, select, table, text

from livesupport.actions.accounts import Accounts
from livesupport.clock import SystemClock
from livesupport.domain.people import Person, Role
from livesupport.domain.search import MAX_INDEXED
from livesupport.store import search
from livesupport.store import tickets as store
from livesupport.store.database import Database
from livesupport.store.migrate import alembic_config, upgrade
from livesupport.store.models import TicketEvent
from tests.conftest import Deployment, _drop_postgres_database, _pg_url, _postgres_database
from tests.domain.test_search_query import CASES

#: The tickets table as migration 0018 left it (the model has grown since: reports' columns, 0023).
TICKETS_AT_0018 = table("tickets", *(column(name) for name in (
    "id", "org_id", "opened_by", "subject", "status", "priority", "last_seq", "created_at", "updated_at",
    "public_updated_at")))
NOW = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)


@pytest.fixture(params=["sqlite", "postgres"])
async def fresh_url(request: pytest.FixtureRequest) -> AsyncIterator[str]:
    """An empty database of the test's own."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{Path(tempfile.mkdtemp(prefix='livesupport-search-')) / 'old.db'}"
        return
    name = await _postgres_database()
    try:
        yield _pg_url(name)
    finally:
        await _drop_postgres_database(name)


async def found(db: Database, q: str, *, staff: bool) -> dict[int, str]:
    """What `q` finds, best first, with snippets."""
    async with db.read() as s:
        stmt = search.matching_tickets(q, dialect=search.dialect_of(s), staff=staff)
        sub = stmt.subquery()
        ids = [int(i) for i in (await s.execute(select(sub.c.ticket_id).order_by(sub.c.rank.desc()))).scalars()]
        snippets = await search.snippets(s, q, ids, staff=staff)
    return {i: snippets[i] for i in ids}


async def test_the_migration_back_fills_existing_tickets(fresh_url: str) -> None:
    await asyncio.to_thread(command.upgrade, alembic_config(fresh_url), "0018")
    db = Database(fresh_url)
    try:
        person = await Accounts(db, SystemClock()).add_user(
            email="old@acme.test", password="correct horse battery", role="client", name="Old", org="Acme")
        events: list[dict[str, Any]] = []

        def event(ticket_id: int, kind: str, visibility: str, data: dict[str, Any]) -> None:
            events.append({"ticket_id": ticket_id, "seq": len(events) + 1, "kind": kind, "visibility": visibility,
                           "actor_id": person.id, "at": NOW, "data": data, "actor": {}})

        async with db.write() as s:
            made = await s.execute(insert(TICKETS_AT_0018).returning(TICKETS_AT_0018.c.id), [
                {"org_id": person.org_id, "opened_by": person.id, "subject": subject, "status": "new",
                 "priority": "normal", "last_seq": 100, "created_at": NOW, "updated_at": NOW, "public_updated_at": NOW}
                for subject in ("Printers offline", "Quiet ticket")])
            first, second = made.scalars().all()
            event(first, "chat", "public", {"body": "The <b>toner</b> light blinks", "visibility": "public"})
            event(first, "chat", "internal", {"body": "Ghostly firmware bug", "visibility": "internal"})
            event(first, "task", "public", {"task": {"title": "Order drums", "note": "Vendor password hunter2"}})
            event(first, "member", "public", {"user": {}, "change": "invited", "message": "Bring the ladder"})
            event(first, "status", "public", {"status": "triage"})
            event(second, "chat", "public", {"body": "x" * (MAX_INDEXED + 10) + " newestword",
                                             "visibility": "public"})
            await s.execute(insert(TicketEvent), events)
        await asyncio.to_thread(upgrade, fresh_url)

        assert list(await found(db, "printer toner", staff=False)) == [first]
        assert "<mark>toner</mark>" in (await found(db, "toner", staff=False))[first]
        assert list(await found(db, "drum", staff=False)) == [first]  # a task's title is public
        for internal in ("ghostly firmware", "hunter2", "ladder"):
            assert list(await found(db, internal, staff=True)) == [first]
            assert await found(db, internal, staff=False) == {}
        assert list(await found(db, "newestword", staff=False)) == [second]  # the newest text is kept

        # A back-filled document grows with the next message, in that message's transaction.
        actor = Person(person.id, "Old", Role.CLIENT, org_id=person.org_id)
        async with db.write() as s:
            await store.append_event(s, first, kind="chat", visibility="public", actor=actor,
                                     data={"body": "Also the scanner", "visibility": "public"}, now=NOW)
        assert list(await found(db, "scanner toner", staff=False)) == [first]
    finally:
        await db.dispose()


async def client_ticket(deployment: Deployment, db: Database, subject: str) -> tuple[Person, int]:
    """The test client, as the store sees them, and a ticket of theirs with this subject."""
    client = deployment.users["client"]
    actor = Person(client["id"], client["name"], Role.CLIENT, org_id=client["org_id"])
    async with db.write() as s:
        ticket = await store.create(s, org_id=actor.org_id, opened_by=actor.id,  # type: ignore[arg-type]
                                    subject=subject, priority="normal", now=NOW)
    return actor, ticket.id


async def say(db: Database, actor: Person, ticket_id: int, body: str, visibility: str = "public") -> None:
    async with db.write() as s:
        await store.append_event(s, ticket_id, kind="chat", visibility=visibility, actor=actor,
                                 data={"body": body, "visibility": visibility}, now=NOW)


async def test_a_long_ticket_keeps_its_newest_text_and_its_subject(deployment: Deployment) -> None:
    db = Database(deployment.database_url)
    tag = "zq" + secrets.token_hex(4)
    try:
        actor, tid = await client_ticket(deployment, db, f"Long {tag}subject")
        await say(db, actor, tid, f"{tag}oldest")
        for i in range(MAX_INDEXED // 9_000 + 1):  # distinct words, as PostgreSQL's vectors grow most with them
            await say(db, actor, tid, " ".join(f"w{i}x{j}" for j in range(1_500))[:9_000])
        await say(db, actor, tid, f"{tag}newest")
        assert list(await found(db, f"{tag}newest", staff=False)) == [tid]
        assert list(await found(db, f"{tag}subject", staff=False)) == [tid]
        assert await found(db, f"{tag}oldest", staff=False) == {}  # pushed out of the kept text
    finally:
        await db.dispose()


@pytest.mark.parametrize("typed", [c[0] for c in CASES])
async def test_the_database_reads_every_translated_query(deployment: Deployment, typed: str) -> None:
    db = Database(deployment.database_url)
    try:
        for staff in (True, False):
            await found(db, typed, staff=staff)  # no error, whatever was typed
    finally:
        await db.dispose()


async def test_a_ticket_without_a_document_gets_one_with_its_next_message(deployment: Deployment) -> None:
    db = Database(deployment.database_url)
    tag = "zq" + secrets.token_hex(4)
    try:
        actor, tid = await client_ticket(deployment, db, f"Orphan {tag}subject")
        key = "ticket_id" if deployment.kind == "postgres" else "rowid"
        async with db.write() as s:  # as if stored by some other way
            await s.execute(text(f"DELETE FROM ticket_search WHERE {key} = :id"), {"id": tid})
        assert await found(db, f"{tag}subject", staff=True) == {}
        await say(db, actor, tid, f"{tag}note", "internal")
        assert list(await found(db, f"{tag}subject {tag}note", staff=True)) == [tid]
        assert await found(db, f"{tag}note", staff=False) == {}
    finally:
        await db.dispose()
