"""The search index in the store, on SQLite and PostgreSQL: migration 0019's back-fill, the kept-newest cap,
every odd query the domain tests list read by the database itself, and SQLite's scope (migration 0026) kept
current as tickets move and organisations change partners."""

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
from sqlalchemy import column, insert, select, table, text, update

from livesupport.actions.accounts import Accounts
from livesupport.actions.search_folding import SearchFolding
from livesupport.clock import SystemClock
from livesupport.domain.listing import parse_query
from livesupport.domain.people import Person, Role
from livesupport.domain.search import MAX_INDEXED, SCOPE_MARK, document_scope, scope_tokens
from livesupport.store import listing, search
from livesupport.store import tickets as store
from livesupport.store.database import Database
from livesupport.store.migrate import alembic_config, upgrade
from livesupport.store.models import Organisation, TicketEvent
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
        await SearchFolding(db).fold_all()  # PostgreSQL cuts the kept text when it folds the recent rows in
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
        assert await listed(db, actor, f"{tag}subject") == [tid]  # the new document has its scope (SQLite)
    finally:
        await db.dispose()


async def listed(db: Database, person: Person, q: str) -> list[int]:
    """What the ticket list finds for this person (visibility, scope and rank: store/listing.py)."""
    async with db.read() as s:
        rows, _ = await listing.page(s, person, parse_query({"q": [q]}), NOW, None)
    return [t.id for t, _ in rows]


async def scoped(db: Database, person: Person, q: str) -> set[int]:
    """The search's own ids for this person's scope, without the statement's visibility condition (SQLite: only
    the documents of their scope; PostgreSQL reads no scope)."""
    async with db.read() as s:
        stmt = search.matching_ids(q, dialect=search.dialect_of(s), staff=person.is_staff,
                                   scope=scope_tokens(person))
        return set((await s.execute(stmt)).scalars())


async def people_of(db: Database, tag: str) -> tuple[Person, Person, Person]:
    """A client of a new organisation, a client of another, and a partner of a third (serving nobody yet)."""
    made = []
    for role, org in (("client", f"One {tag}"), ("client", f"Two {tag}"), ("partner", f"Partner {tag}")):
        user = await Accounts(db, SystemClock()).add_user(email=f"{role}-{secrets.token_hex(4)}@scope.test",
                                                          password="correct horse battery", role=role, org=org)
        made.append(Person(user.id, user.name, Role(role), org_id=user.org_id))
    return made[0], made[1], made[2]


async def serve(db: Database, client_org: int, partner_org: int | None) -> None:
    async with db.write() as s:
        await s.execute(update(Organisation).where(Organisation.id == client_org).values(partner_id=partner_org))


async def test_a_search_reads_its_scope_which_follows_moves_and_partners(deployment: Deployment) -> None:
    db = Database(deployment.database_url)
    tag = "zq" + secrets.token_hex(4)
    sqlite = deployment.kind == "sqlite"
    staff = Person(deployment.users["engineer2"]["id"], "Sam", Role.STAFF, tier=3)
    try:
        one, two, partner = await people_of(db, tag)
        tickets = {}
        for who in (one, two, partner):
            async with db.write() as s:
                ticket = await store.create(s, org_id=who.org_id, opened_by=who.id,  # type: ignore[arg-type]
                                            subject=f"Printer {tag}", priority="normal", now=NOW)
            tickets[who.org_id] = ticket.id
            await say(db, who, ticket.id, f"The toner is low {tag}")
        first, second, own = tickets[one.org_id], tickets[two.org_id], tickets[partner.org_id]

        assert await listed(db, one, f"toner {tag}") == [first]
        assert await listed(db, two, f"toner {tag}") == [second]
        assert await listed(db, partner, f"toner {tag}") == [own]
        assert set(await listed(db, staff, f"toner {tag}")) == {first, second, own}
        if sqlite:  # the index itself reads only the scope's documents
            assert await scoped(db, one, f"toner {tag}") == {first}
            assert await scoped(db, partner, f"toner {tag}") == {own}

        # The first ticket moves to the second organisation (as a move is stored: its `moved` event's change).
        async with db.write() as s:
            await store.append_event(s, first, kind="moved", visibility="internal", actor=staff, now=NOW,
                                     data={"from": {"id": one.org_id}, "to": {"id": two.org_id}},
                                     changes={"org_id": two.org_id})
        assert await listed(db, one, f"toner {tag}") == []
        assert set(await listed(db, two, f"toner {tag}")) == {first, second}
        if sqlite:
            assert await scoped(db, one, f"toner {tag}") == set()

        # The second organisation gets the partner: the partner finds its tickets, then loses them with it.
        await serve(db, two.org_id, partner.org_id)  # type: ignore[arg-type]
        assert set(await listed(db, partner, f"toner {tag}")) == {first, second, own}
        assert set(await listed(db, two, f"toner {tag}")) == {first, second}  # its own people still do
        await serve(db, two.org_id, None)  # type: ignore[arg-type]
        assert await listed(db, partner, f"toner {tag}") == [own]
        if sqlite:
            assert await scoped(db, partner, f"toner {tag}") == {own}
            async with db.read() as s:
                rows = await s.execute(text("SELECT rowid, scope FROM ticket_search WHERE rowid IN (:a, :b)"),
                                       {"a": first, "b": second})
                kept = {int(i): str(scope) for i, scope in rows}
            assert kept == dict.fromkeys((first, second), document_scope(two.org_id, None))  # type: ignore[arg-type]
    finally:
        await db.dispose()


async def test_snippets_never_show_a_scope_token(deployment: Deployment) -> None:
    db = Database(deployment.database_url)
    tag = "zq" + secrets.token_hex(4)
    try:
        one, two, partner = await people_of(db, tag)
        await serve(db, one.org_id, partner.org_id)  # type: ignore[arg-type]
        async with db.write() as s:
            in_subject = await store.create(s, org_id=one.org_id, opened_by=one.id,  # type: ignore[arg-type]
                                            subject=f"Router {tag}", priority="normal", now=NOW)
            in_text = await store.create(s, org_id=one.org_id, opened_by=one.id,  # type: ignore[arg-type]
                                         subject="Quiet", priority="normal", now=NOW)
        await say(db, one, in_text.id, f"The router {tag} blinks")
        ids = [in_subject.id, in_text.id]
        for person in (one, partner, Person(deployment.users["engineer"]["id"], "Dana", Role.STAFF, tier=2)):
            async with db.read() as s:
                shown = await search.snippets(s, f"router {tag}", ids, staff=person.is_staff)
            assert set(shown) == set(ids)
            for snippet in shown.values():
                assert f"<mark>{tag}</mark>" in snippet
                assert SCOPE_MARK not in snippet and f"o{one.org_id}" not in snippet \
                    and f"p{partner.org_id}" not in snippet, snippet
    finally:
        await db.dispose()


async def test_migration_0026_copies_every_document_with_its_scope(fresh_url: str) -> None:
    """Documents made before the scope (0019's back-fill, 0024's trigger) are copied, text and all, tagged."""
    await asyncio.to_thread(command.upgrade, alembic_config(fresh_url), "0018")
    db = Database(fresh_url)
    tag = "zq" + secrets.token_hex(4)
    try:
        one, two, partner = await people_of(db, tag)
        await serve(db, two.org_id, partner.org_id)  # type: ignore[arg-type]
        async with db.write() as s:
            made = await s.execute(insert(TICKETS_AT_0018).returning(TICKETS_AT_0018.c.id), [
                {"org_id": who.org_id, "opened_by": who.id, "subject": f"Printer {tag}", "status": "new",
                 "priority": "normal", "last_seq": 2, "created_at": NOW, "updated_at": NOW, "public_updated_at": NOW}
                for who in (one, two)])
            first, second = made.scalars().all()
            await s.execute(insert(TicketEvent), [
                {"ticket_id": tid, "seq": 1, "kind": "chat", "visibility": vis, "actor_id": one.id, "at": NOW,
                 "data": {"body": f"{word} {tag}", "visibility": vis}, "actor": {}}
                for tid, vis, word in ((first, "public", "toner"), (second, "internal", "firmware"))])
        await asyncio.to_thread(command.upgrade, alembic_config(fresh_url), "0025")
        await asyncio.to_thread(upgrade, fresh_url)

        staff = Person(one.id, "Staff", Role.STAFF, tier=2)  # as staff sees: the store reads no account here
        assert await listed(db, one, f"printer toner {tag}") == [first]
        assert await listed(db, two, f"printer {tag}") == [second]
        assert await listed(db, two, f"firmware {tag}") == []  # internal text stays internal ...
        assert await listed(db, staff, f"firmware {tag}") == [second]  # ... and was copied
        assert await listed(db, partner, f"printer {tag}") == [second]
        if fresh_url.startswith("sqlite"):
            assert await scoped(db, one, f"printer {tag}") == {first}
            assert await scoped(db, partner, f"printer {tag}") == {second}
        await say(db, one, first, f"And the scanner {tag}")  # the event trigger writes to the new table
        assert await listed(db, one, f"scanner toner {tag}") == [first]
    finally:
        await db.dispose()
