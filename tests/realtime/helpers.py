"""Shared steps of the protocol tests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager

import httpx

from tests.conftest import Deployment, token_for
from tests.utils import Client, Server, ws_client


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


@asynccontextmanager
async def on_ticket(srv: Server, d: Deployment, topic: str, *who: str) -> AsyncIterator[list[Client]]:
    """One connection per name, each joined to `topic` in that order."""
    async with AsyncExitStack() as stack:
        clients = [await stack.enter_async_context(connected(srv, d, w)) for w in who]
        for c in clients:
            await c.join(topic)
        yield clients


async def all_events(srv: Server, d: Deployment, who: str, ticket_id: int) -> list[dict]:
    """Every event of a ticket this user may see, page by page."""
    out: list[dict] = []
    while True:
        since = out[-1]["seq"] if out else 0
        page = (await http_get(srv, d, who, f"/api/tickets/{ticket_id}/events?since={since}")).json()
        out += page["events"]
        if not page["more"]:
            return out
