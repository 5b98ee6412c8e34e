"""A busy database: concurrent writers lose nothing and see no 500; a write that truly fails is refused, retryably."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager

import asyncpg
import httpx

from tests.conftest import Deployment, token_for
from tests.realtime.helpers import http_get, open_ticket
from tests.utils import QUIET, Client, Server, run_server, ws_client

WRITERS, EACH = 12, 25


async def burst(c: Client, topic: str, who: int) -> list[dict]:
    """Pipelined: every frame is sent before any answer is awaited."""
    refs = [f"w{who}-{i}" for i in range(EACH)]
    for i, ref in enumerate(refs):
        await c.send({"type": "chat", "topic": topic, "body": f"writer {who} message {i}", "ref": ref})
    return [await c.expect(lambda f, ref=ref: f.get("ref") == ref, timeout=60) for ref in refs]


async def test_concurrent_writers_lose_nothing(deployment: Deployment) -> None:
    """On SQLite two processes share the file; on PostgreSQL two processes share the database."""
    d = deployment
    env = d.env(WS_RATE="0", CHAT_RATE="0")
    async with run_server(env) as a, run_server(env) as b:
        tid = await open_ticket(a, d, "Busy database")
        topic = f"ticket:{tid}"
        async with AsyncExitStack() as stack:
            clients = []
            for i in range(WRITERS):
                srv = (a, b)[i % 2]
                clients.append(await stack.enter_async_context(ws_client(srv, await token_for(srv, d, "engineer"))))

            async def open_many(srv: Server) -> list[int]:
                token = await token_for(srv, d, "client")
                async with httpx.AsyncClient(base_url=srv.url, timeout=60) as http:
                    rs = await asyncio.gather(*(http.post("/api/tickets", json={"subject": f"t{i}", "body": "b"},
                                                          headers={"Authorization": f"Bearer {token}"})
                                                for i in range(10)))
                return [r.status_code for r in rs]

            results = await asyncio.gather(*(burst(c, topic, i) for i, c in enumerate(clients)), open_many(a),
                                           open_many(b))
        replies = [r for rs in results[:WRITERS] for r in rs]
        assert all(r["ok"] for r in replies), [r for r in replies if not r["ok"]][:3]
        assert sorted(r["seq"] for r in replies) == list(range(2, WRITERS * EACH + 2))
        assert results[WRITERS] == results[WRITERS + 1] == [201] * 10
        events = (await http_get(a, d, "engineer", f"/api/tickets/{tid}/events?since=0")).json()["events"]
        assert [e["seq"] for e in events] == list(range(1, WRITERS * EACH + 2))
        bodies = [e["data"]["body"] for e in events[1:]]
        assert len(set(bodies)) == len(bodies) == WRITERS * EACH  # each stored exactly once


@asynccontextmanager
async def write_lock_held(d: Deployment, ticket_id: int) -> AsyncIterator[None]:
    """Another program holds the lock a write to the ticket needs: from when it is known to be held until the
    block ends (however long the server waits)."""
    if d.kind == "sqlite":
        held, release = threading.Event(), threading.Event()

        def hold() -> None:
            conn = sqlite3.connect(d.database_url.split("///", 1)[1], isolation_level=None)
            try:
                conn.execute("BEGIN IMMEDIATE")  # returns once the write lock is ours
                held.set()
                release.wait(60)
                conn.execute("ROLLBACK")
            finally:
                conn.close()

        holder = asyncio.create_task(asyncio.to_thread(hold))
        try:
            while not held.is_set():
                assert not holder.done(), holder.result()
                await asyncio.sleep(0.01)
            yield
        finally:
            release.set()
            await holder
        return
    dsn = d.database_url.replace("postgresql+asyncpg", "postgresql")
    conn, observer = await asyncpg.connect(dsn), await asyncpg.connect(dsn)
    try:
        async with conn.transaction():
            await conn.execute("SELECT id FROM tickets WHERE id = $1 FOR UPDATE", ticket_id)
            pid = await conn.fetchval("SELECT pg_backend_pid()")
            assert await observer.fetchval(  # PostgreSQL itself says the lock is held
                "SELECT count(*) FROM pg_locks WHERE pid = $1 AND relation = 'tickets'::regclass AND granted",
                pid) >= 1
            yield
    finally:
        await conn.close()
        await observer.close()


async def test_a_write_that_truly_fails_is_refused_and_not_published(deployment: Deployment) -> None:
    d = deployment
    async with run_server(d.env(DB_WAIT_TIMEOUT="0.5")) as srv:
        tid = await open_ticket(srv, d, "Locked out")
        topic = f"ticket:{tid}"
        async with ws_client(srv, await token_for(srv, d, "client")) as author, \
                ws_client(srv, await token_for(srv, d, "engineer")) as watcher:
            await author.join(topic)
            await watcher.join(topic)
            async with write_lock_held(d, tid):
                r = await author.request({"type": "chat", "topic": topic, "body": "while locked"})
                assert r["ok"] is False and r["error"]["code"] == "unavailable"
                assert "try again" in r["error"]["message"]
            # The refusal was answered: had anything been published, it would arrive within the quiet period.
            assert not [f for f in await watcher.drain(QUIET) if f["type"] == "event"]
            r = await author.request({"type": "chat", "topic": topic, "body": "after the lock"})
            assert r["ok"] is True and r["seq"] == 2  # the failed write left no hole
            assert (await watcher.expect(type="event"))["seq"] == 2
        events = (await http_get(srv, d, "engineer", f"/api/tickets/{tid}/events?since=0")).json()["events"]
        assert [e["data"]["body"] for e in events][1:] == ["after the lock"]
