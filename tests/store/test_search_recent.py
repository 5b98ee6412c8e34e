"""PostgreSQL's recent search rows (migration 0027): a write adds a small row instead of rewriting the ticket's
document, searches read both, and folding them into the document changes no search's answer."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import text

from livesupport.actions.search_folding import SearchFolding
from livesupport.store import search
from livesupport.store.database import Database
from tests.conftest import Deployment
from tests.store.test_search_index import client_ticket, found, listed, say


@pytest.fixture
async def db(postgres_deployment: Deployment) -> AsyncIterator[Database]:
    database = Database(postgres_deployment.database_url)
    try:
        yield database
    finally:
        await database.dispose()


@pytest.fixture
def tag() -> str:
    return "zr" + secrets.token_hex(4)  # a word no other ticket holds


async def recent_rows(db: Database, ticket_id: int) -> int:
    async with db.read() as s:
        return int((await s.execute(text("SELECT count(*) FROM ticket_search_recent WHERE ticket_id = :id"),
                                    {"id": ticket_id})).scalar_one())


async def document_text(db: Database, ticket_id: int) -> tuple[str, str]:
    async with db.read() as s:
        row = (await s.execute(text("SELECT public_text, internal_text FROM ticket_search WHERE ticket_id = :id"),
                               {"id": ticket_id})).one()
    return row.public_text, row.internal_text


async def test_a_message_adds_a_row_and_leaves_the_document_alone(
        postgres_deployment: Deployment, db: Database, tag: str) -> None:
    actor, tid = await client_ticket(postgres_deployment, db, f"Recent {tag}subject")
    await say(db, actor, tid, f"the {tag}printer jams")
    await say(db, actor, tid, f"{tag}memo for staff", "internal")
    assert await recent_rows(db, tid) == 2
    assert await document_text(db, tid) == ("", "")  # not rewritten by the writes
    assert await SearchFolding(db).fold_all() >= 2
    assert await recent_rows(db, tid) == 0
    assert await document_text(db, tid) == (f"\nthe {tag}printer jams", f"\n{tag}memo for staff")


async def test_every_search_answers_the_same_before_and_after_folding(
        postgres_deployment: Deployment, db: Database, tag: str) -> None:
    """Words in the document and words in recent rows: all must match across both, an exclusion in either one
    excludes, a client never finds or sees internal text, ranks and snippets read both."""
    actor, tid = await client_ticket(postgres_deployment, db, f"Folding {tag}subject")
    _, other = await client_ticket(postgres_deployment, db, f"Other {tag}subject")
    await say(db, actor, tid, f"old {tag}printer text")
    await say(db, actor, other, f"old {tag}printer text too")
    await SearchFolding(db).fold_all()
    await say(db, actor, tid, f"new {tag}toner text")
    await say(db, actor, other, f"new {tag}drum text")
    await say(db, actor, tid, f"{tag}secret words", "internal")
    queries = [(f"{tag}printer {tag}toner", False), (f"{tag}printer -{tag}toner", False),
               (f"{tag}printer -{tag}drum", True), (f"{tag}subject {tag}drum", False),
               (f"{tag}secret", False), (f"{tag}secret {tag}printer", True), (f'"{tag}toner text"', False),
               (f"{tag}printer OR {tag}drum", False)]
    before = {q: await found(db, q, staff=staff) for q, staff in queries}
    listed_before = await listed(db, actor, f"{tag}printer {tag}toner")
    assert await recent_rows(db, tid) == 2
    await SearchFolding(db).fold_all()
    assert await recent_rows(db, tid) == 0
    after = {q: await found(db, q, staff=staff) for q, staff in queries}
    assert {q: list(v) for q, v in before.items() if " OR " not in q} == {
        f"{tag}printer {tag}toner": [tid], f"{tag}printer -{tag}toner": [other],
        f"{tag}printer -{tag}drum": [tid], f"{tag}subject {tag}drum": [other], f"{tag}secret": [],
        f"{tag}secret {tag}printer": [tid], f'"{tag}toner text"': [tid],
    }
    assert set(before[f"{tag}printer OR {tag}drum"]) == {tid, other}
    assert before == after  # the same tickets, in the same order, with the same snippets
    assert f"<mark>{tag}toner</mark>" in before[f"{tag}printer {tag}toner"][tid]  # cut from a recent row
    assert "secret" not in before[f"{tag}printer -{tag}toner"][other]
    assert listed_before == await listed(db, actor, f"{tag}printer {tag}toner") == [tid]


async def test_two_folds_at_once_move_each_row_once(
        postgres_deployment: Deployment, db: Database, tag: str) -> None:
    actor, tid = await client_ticket(postgres_deployment, db, f"Twice {tag}subject")
    for i in range(20):
        await say(db, actor, tid, f"{tag}line{i}")

    async def fold() -> int:
        async with db.write() as s:
            return await search.fold_recent(s, tid)

    moved = await asyncio.gather(fold(), fold(), fold())
    assert sorted(moved) == [0, 0, 20]  # one of them took all 20
    public, _ = await document_text(db, tid)
    assert public == "".join(f"\n{tag}line{i}" for i in range(20))  # in order, each once
