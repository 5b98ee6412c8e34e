"""The store on SQLite and PostgreSQL: seq allocation under concurrency, UTC times, migrations."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta, timezone

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import func, select, text

from livesupport.domain.people import Person, Role
from livesupport.store import huddle as huddle_store
from livesupport.store import search as search_store
from livesupport.store import tickets as store
from livesupport.store.database import Database
from livesupport.store.migrate import alembic_config, upgrade
from livesupport.store.models import Ticket, User
from tests.conftest import Deployment


async def test_concurrent_writers_never_share_a_seq(deployment: Deployment) -> None:
    db = Database(deployment.database_url)
    actor = Person(deployment.users["client"]["id"], "Alice", Role.CLIENT, org_id=deployment.users["client"]["org_id"])
    now = datetime.now(UTC)
    try:
        async with db.write() as s:
            ticket = await store.create(s, org_id=actor.org_id, opened_by=actor.id, subject="race",  # type: ignore[arg-type]
                                        priority="normal", now=now)

        async def write(i: int) -> int:
            async with db.write() as s:
                ev = await store.append_event(s, ticket.id, kind="chat", visibility="public", actor=actor,
                                              data={"body": str(i), "visibility": "public"}, now=now)
                return ev.seq

        seqs = await asyncio.gather(*(write(i) for i in range(25)))
        assert sorted(seqs) == list(range(1, 26))
        async with db.read() as s:
            events = await store.events_since(s, ticket.id, 0, staff=True)
            assert [e.seq for e in events] == list(range(1, 26))
            assert (await s.get(Ticket, ticket.id)).last_seq == 25  # type: ignore[union-attr]
    finally:
        await db.dispose()


async def test_times_come_back_as_the_same_instant_in_utc(deployment: Deployment) -> None:
    db = Database(deployment.database_url)
    actor = Person(deployment.users["engineer"]["id"], "Dana", Role.STAFF, tier=2)
    local = datetime(2030, 3, 10, 1, 30, tzinfo=timezone(timedelta(hours=-5)))
    try:
        async with db.write() as s:
            ticket = await store.create(s, org_id=deployment.users["client"]["org_id"], opened_by=actor.id,
                                        subject="tz", priority="low", now=local)
            ticket.next_update_at = local
        async with db.read() as s:
            got = await s.get(Ticket, ticket.id)
            assert got is not None and got.next_update_at == local and got.next_update_at.tzinfo is not None
            assert store.iso(got.next_update_at) == "2030-03-10T06:30:00Z"
    finally:
        await db.dispose()


async def test_migrate_is_idempotent(deployment: Deployment) -> None:
    head = ScriptDirectory.from_config(alembic_config(deployment.database_url)).get_current_head()
    db = Database(deployment.database_url)
    try:
        async with db.read() as s:
            before = (await s.execute(text("SELECT version_num FROM alembic_version"))).scalars().all()
            users = (await s.execute(select(func.count()).select_from(User))).scalar_one()
        assert before == [head]  # the fixture migrated to the newest revision
        await asyncio.to_thread(upgrade, deployment.database_url)  # already at head: nothing to do, no error
        async with db.read() as s:
            after = (await s.execute(text("SELECT version_num FROM alembic_version"))).scalars().all()
            assert after == [head]
            assert (await s.execute(select(func.count()).select_from(User))).scalar_one() == users  # data kept
            assert (await s.get(User, deployment.users["client"]["id"])) is not None
    finally:
        await db.dispose()


async def test_an_authors_read_mark_follows_their_own_events_only_when_it_was_up_to_date(
        deployment: Deployment) -> None:
    """What the write path does to read marks in the events' own statement (PostgreSQL: a CTE; SQLite: a trigger)."""
    db = Database(deployment.database_url)
    client = Person(deployment.users["client"]["id"], "Alice", Role.CLIENT, org_id=deployment.users["client"]["org_id"])
    staff = Person(deployment.users["engineer"]["id"], "Dana", Role.STAFF, tier=2)
    now = datetime(2030, 3, 10, 9, 0, tzinfo=UTC)

    async def say(who: Person | None, *bodies: str) -> list[int]:
        async with db.write() as s:
            events = await store.append_kinds(s, ticket.id, actor=who, now=now, events=[
                ("chat", "public", {"body": b, "visibility": "public"}) for b in bodies])
            return [e.seq for e in events]

    async def marks() -> dict[int, int]:
        async with db.read() as s:
            return await huddle_store.reviewed(s, ticket.id, [client.id, staff.id])

    try:
        async with db.write() as s:
            ticket = await store.create(s, org_id=client.org_id, opened_by=client.id,  # type: ignore[arg-type]
                                        subject="marks", priority="normal", now=now)
        assert await say(client, "opening") == [1]
        assert await marks() == {client.id: 1}  # the ticket's first event starts its author's mark
        assert await say(staff, "answer") == [2]
        assert await marks() == {client.id: 1}  # no mark is made for someone who never read the ticket
        assert await say(client, "one", "two") == [3, 4]
        assert await marks() == {client.id: 1}  # the staff answer is still new to the client: the mark stays
        async with db.write() as s:
            await huddle_store.mark_reviewed(s, client.id, ticket.id, 4, now)
            await huddle_store.mark_reviewed(s, staff.id, ticket.id, 4, now)
        assert await say(client, "three", "four", "five") == [5, 6, 7]
        assert await marks() == {client.id: 7, staff.id: 4}  # past all three of one's own; others' marks stay
        assert await say(None, "a reminder") == [8]  # the system has no mark and moves none
        assert await marks() == {client.id: 7, staff.id: 4}
        assert await say(staff, "late") == [9]
        assert await marks() == {client.id: 7, staff.id: 4}  # 5-8 are still new to staff
    finally:
        await db.dispose()


async def test_an_append_held_back_by_changed_sla_fields_writes_nothing(deployment: Deployment) -> None:
    db = Database(deployment.database_url)
    client = Person(deployment.users["client"]["id"], "Alice", Role.CLIENT, org_id=deployment.users["client"]["org_id"])
    now = datetime(2030, 3, 10, 9, 0, tzinfo=UTC)
    try:
        async with db.write() as s:
            ticket = await store.create(s, org_id=client.org_id, opened_by=client.id,  # type: ignore[arg-type]
                                        subject="guarded", priority="normal", now=now)
            await store.append_kinds(s, ticket.id, actor=client, now=now,
                                     events=[("chat", "public", {"body": "opening", "visibility": "public"})])
        stale = store.SlaFields("in_progress", "normal", None, "sla")  # the ticket is "new"
        with pytest.raises(store.TicketChanged):
            async with db.write() as s:
                await store.append_kinds(s, ticket.id, actor=client, now=now, unless_changed=stale, events=[
                    ("chat", "public", {"body": "zebracorn", "visibility": "public"})])
        async with db.read() as s:
            assert [e.seq for e in await store.events_since(s, ticket.id, 0, staff=True)] == [1]
            assert (await s.get(Ticket, ticket.id)).last_seq == 1  # type: ignore[union-attr]
            ids = (await s.execute(search_store.matching_ids("zebracorn", dialect=search_store.dialect_of(s),
                                                             staff=True))).scalars().all()
            assert ticket.id not in ids  # the search index took nothing either
        held = store.SlaFields("new", "normal", None, "sla")
        async with db.write() as s:  # as it is: stored
            (ev,) = await store.append_kinds(s, ticket.id, actor=client, now=now, unless_changed=held, events=[
                ("chat", "public", {"body": "zebracorn", "visibility": "public"})])
        assert ev.seq == 2
        async with db.read() as s:
            ids = (await s.execute(search_store.matching_ids("zebracorn", dialect=search_store.dialect_of(s),
                                                             staff=True))).scalars().all()
            assert ticket.id in ids
    finally:
        await db.dispose()
