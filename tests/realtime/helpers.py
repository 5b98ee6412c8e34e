"""Shared steps of the protocol tests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager

import httpx

from tests.conftest import Deployment, token_for
from tests.utils import Client, Server, run_server, ws_client


async def open_ticket(srv: Server, d: Deployment, subject: str = "Printer on fire", who: str = "client") -> int:
    token = await token_for(srv, d, who)
    async with httpx.AsyncClient(base_url=srv.url) as http:
        r = await http.post("/api/tickets", json={"subject": subject, "body": "It started this morning."},
                            headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


@asynccontextmanager
async def connected(srv: Server, d: Deployment, who: str) -> AsyncIterator[Client]:
    async with ws_client(srv, await token_for(srv, d, who)) as c:
        yield c


async def http_get(srv: Server, d: Deployment, who: str, path: str) -> httpx.Response:
    token = await token_for(srv, d, who)
    async with httpx.AsyncClient(base_url=srv.url) as http:
        return await http.get(path, headers={"Authorization": f"Bearer {token}"})


async def list_row(srv: Server, d: Deployment, who: str, ticket_id: int) -> dict[str, object]:
    """The ticket's row in `who`'s GET /api/tickets, following `next` page by page (other tests' tickets share the
    database, some dated ahead by their injected clocks, so it need not be on the first page)."""
    path = "/api/tickets?limit=100"
    while True:
        page = (await http_get(srv, d, who, path)).json()
        for row in page["tickets"]:
            if row["id"] == ticket_id:
                return dict(row)
        assert page["next"], f"ticket {ticket_id} is not in {who}'s list"
        path = f"/api/tickets?{httpx.QueryParams(limit=100, cursor=page['next'])}"


@asynccontextmanager
async def on_ticket(srv: Server, d: Deployment, topic: str, *who: str) -> AsyncIterator[list[Client]]:
    """One connection per name, each joined to `topic` in that order."""
    async with AsyncExitStack() as stack:
        clients = [await stack.enter_async_context(connected(srv, d, w)) for w in who]
        for c in clients:
            await c.join(topic)
        yield clients


async def store_chat(d: Deployment, ticket_id: int, count: int, internal_every: int = 10) -> tuple[list[int], list[int]]:
    """`count` chat events written straight to the database in one transaction (the hub is not told: readers
    fetch them). Every `internal_every`-th is an internal note. Returns the seqs a client may see and all of them."""
    from datetime import UTC, datetime

    from livesupport.domain.people import Person, Role
    from livesupport.store import tickets as store
    from livesupport.store.database import Database

    staff = d.users["engineer"]
    actor = Person(staff["id"], staff["name"], Role.STAFF, tier=2)
    payloads = [("internal" if i % internal_every == internal_every - 1 else "public",
                 {"body": f"bulk {i}", "visibility": "internal" if i % internal_every == internal_every - 1
                  else "public"}) for i in range(count)]
    db = Database(d.database_url)
    try:
        async with db.write() as s:
            events = await store.append_events(s, ticket_id, kind="chat", actor=actor, payloads=payloads,
                                               now=datetime.now(UTC))
    finally:
        await db.dispose()
    return ([e.seq for e, (vis, _) in zip(events, payloads, strict=True) if vis == "public"],
            [e.seq for e in events])


async def all_events(srv: Server, d: Deployment, who: str, ticket_id: int) -> list[dict]:
    """Every event of a ticket this user may see, page by page."""
    out: list[dict] = []
    while True:
        since = out[-1]["seq"] if out else 0
        page = (await http_get(srv, d, who, f"/api/tickets/{ticket_id}/events?since={since}")).json()
        out += page["events"]
        if not page["more"]:
            return out


@asynccontextmanager
async def server_pair(d: Deployment, redis_url: tuple[str, str], **env: str) -> AsyncIterator[tuple[Server, Server]]:
    """Two server processes on one database and one Redis: the cross-process tests' stage."""
    url, prefix = redis_url
    settings = d.env(REDIS_URL=url, REDIS_PREFIX=prefix, **env)
    async with run_server(settings) as a, run_server(settings) as b:
        for s in (a, b):
            s.deployment = d  # type: ignore[attr-defined]
        yield a, b
