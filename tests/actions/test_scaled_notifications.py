"""Notifications when the worker is a process of its own (Redis, PostgreSQL): it sees who is on a ticket
through the shared presence, so a client connected to the ticket gets no e-mail, and its overdue notices
reach the engineers' pages on the web processes."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx
import pytest
import redis.asyncio as aioredis

from tests.conftest import Deployment, _deployment, token_for
from tests.realtime.helpers import connected, open_ticket
from tests.smtp import Inbox, body_of, smtp_server
from tests.utils import QUIET, Server, cli, free_port, run_server


@dataclass
class Scaled:
    server: Server
    d: Deployment
    inbox: Inbox
    env: dict[str, str]

    async def worker(self, at: datetime) -> str:
        """One run of the worker process at `at`; returns once what it delivered is in the inbox."""
        before = len(self.inbox.messages)
        done = await asyncio.to_thread(cli, self.d, "worker", "--once", "--now", at.isoformat(), **self.env)
        assert done.returncode == 0, done.stderr
        await self.inbox.delivered_by(before, done.stdout)
        return done.stdout

    async def shared_presence(self, ticket_id: int, who: str, present: bool, timeout: float = 15) -> None:
        """Wait until the presence the processes share in Redis (what the worker reads) has `who` on the ticket,
        or not."""
        client = aioredis.Redis.from_url(self.env["REDIS_URL"])
        user_id = self.d.users[who]["id"]
        try:
            deadline = time.monotonic() + timeout
            while True:
                fields = await client.hkeys(f"{self.env['REDIS_PREFIX']}presence:{{ticket:{ticket_id}}}")
                if any(f.decode().endswith(f":{user_id}") for f in fields) == present:
                    return
                assert time.monotonic() < deadline, f"{who} {'never came' if present else 'never left'}: {fields}"
                await asyncio.sleep(0.05)
        finally:
            await client.aclose()


@pytest.fixture(scope="module")
async def scaled(redis_url: tuple[str, str]) -> AsyncIterator[Scaled]:
    url, prefix = redis_url
    inbox, smtp_port, port = Inbox(), free_port(), free_port()
    with smtp_server(inbox, smtp_port):
        async for d in _deployment("postgres"):
            env = {"REDIS_URL": url, "REDIS_PREFIX": prefix, "SMTP_URL": f"smtp://127.0.0.1:{smtp_port}",
                   "BASE_URL": f"http://127.0.0.1:{port}", "PRESENCE_TTL": "6"}
            async with run_server(d.env(**env), port=port) as srv:  # with Redis, the worker is separate
                yield Scaled(srv, d, inbox, env)


async def test_a_client_connected_to_the_ticket_gets_no_mail(scaled: Scaled) -> None:
    srv, d = scaled.server, scaled.d
    tid = await open_ticket(srv, d, "Backups failing PR-1")
    alice = d.users["client"]["email"]
    async with connected(srv, d, "client") as client:
        await client.join(f"ticket:{tid}")  # connected, reading nothing back (no `seen`)
        async with connected(srv, d, "engineer") as eng:
            for body in ("The disk is full. PR-WATCHED-1", "Cleaning up now. PR-WATCHED-2"):
                assert (await eng.request({"type": "chat", "topic": f"ticket:{tid}", "body": body}))["ok"]
        await client.presence(1)  # she is on it
        await scaled.shared_presence(tid, "client", present=True)  # and the worker process can see it
        out = await scaled.worker(datetime.now(UTC) + timedelta(minutes=6))
        assert "update e-mails 0" in out
        assert scaled.inbox.about(alice, f"[#{tid}]") == []
    # Gone: the next message comes by e-mail, alone (the first two were seen live).
    async with connected(srv, d, "engineer") as eng:
        assert (await eng.request({"type": "chat", "topic": f"ticket:{tid}", "body": "All done. PR-AWAY-3"}))["ok"]
    await scaled.shared_presence(tid, "client", present=False)  # her closed connection is gone for the worker too
    await scaled.worker(datetime.now(UTC) + timedelta(minutes=12))
    (mail,) = scaled.inbox.about(alice, f"[#{tid}]")
    text = body_of(mail)
    assert "PR-AWAY-3" in text and "PR-WATCHED" not in text


async def test_a_ticket_turning_overdue_is_announced_to_its_engineers(scaled: Scaled) -> None:
    srv, d = scaled.server, scaled.d
    tid = await open_ticket(srv, d, "Server room too hot OD-1")
    dana = d.users["engineer"]["id"]
    token = await token_for(srv, d, "client")
    async with httpx.AsyncClient(base_url=srv.url) as http:
        due = datetime.fromisoformat((await http.get(f"/api/tickets/{tid}", headers={
            "Authorization": f"Bearer {token}"})).json()["next_update_at"])
    async with connected(srv, d, "engineer") as eng, connected(srv, d, "engineer2") as sam:
        await eng.join(f"user:{dana}")
        assert (await sam.request({"type": "assign", "topic": f"ticket:{tid}", "assignees": [dana]}))["ok"]
        await eng.expect(type="notice", kind="assigned")
        assert "overdue notices 0" in await scaled.worker(due - timedelta(minutes=1))
        assert "overdue notices 1" in await scaled.worker(due + timedelta(minutes=1))
        notice = await eng.expect(type="notice", kind="overdue")
        assert notice["ticket"] == {"id": tid, "subject": "Server room too hot OD-1"}
        assert notice["url"] == f"/tickets/{tid}" and notice["next_update_at"].endswith("Z")
        assert "overdue notices 0" in await scaled.worker(due + timedelta(minutes=2))  # once
        await eng.drain(QUIET)  # after the run that sent nothing, a quiet period: no second notice comes
        assert [f for f in eng.inbox if f.get("kind") == "overdue"] == []
