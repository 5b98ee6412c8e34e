"""Two servers sharing Redis and one database, and accounts of each test's own, for the access-change tests."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
from sqlalchemy import update
from websockets.exceptions import ConnectionClosed

from livesupport.actions.accounts import Accounts
from livesupport.clock import SystemClock
from livesupport.store.database import Database
from livesupport.store.models import Organisation
from tests.conftest import PASSWORD, Deployment
from tests.utils import Client, Server, cli, ws_client


async def new_account(d: Deployment, role: str, org: str | None = None, tier: int | None = None) -> dict[str, Any]:
    """An account of the test's own (its e-mail, id and organisation id)."""
    email = f"{role}-{secrets.token_hex(4)}@access.test"
    db = Database(d.database_url)
    try:
        person = await Accounts(db, SystemClock()).add_user(email=email, password=PASSWORD, role=role, org=org, tier=tier)
    finally:
        await db.dispose()
    return {"email": email, "id": person.id, "org_id": person.org_id, "name": person.name}


async def serve_through(d: Deployment, client_org: int, partner_org: int | None) -> None:
    """Setting up: `partner_org` manages `client_org` (as a partner's clients are recorded)."""
    db = Database(d.database_url)
    try:
        async with db.write() as s:
            await s.execute(update(Organisation).where(Organisation.id == client_org).values(partner_id=partner_org))
    finally:
        await db.dispose()


async def token_of(srv: Server, email: str) -> httpx.Response:
    """POST /api/tokens, from an address of its own: refusals here never count towards another test's lock."""
    address = f"10.{secrets.randbelow(250)}.{secrets.randbelow(250)}.{secrets.randbelow(250) + 1}"
    async with httpx.AsyncClient(base_url=srv.url, timeout=20, headers={"X-Forwarded-For": address}) as http:
        return await http.post("/api/tokens", json={"email": email, "password": PASSWORD})


@asynccontextmanager
async def socket_of(srv: Server, email: str) -> AsyncIterator[Client]:
    r = await token_of(srv, email)
    assert r.status_code == 201, r.text
    async with ws_client(srv, r.json()["token"]) as c:
        yield c


async def open_ticket_as(srv: Server, email: str, subject: str) -> int:
    token = (await token_of(srv, email)).json()["token"]
    async with httpx.AsyncClient(base_url=srv.url, timeout=20) as http:
        r = await http.post("/api/tickets", json={"subject": subject, "body": "It started this morning."},
                            headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


async def closed_with(c: Client, timeout: float = 5) -> int:
    """The close code this socket ends with (frames before it are kept in the inbox)."""
    async with asyncio.timeout(timeout):
        while True:
            try:
                await c.expect(lambda f: False, timeout=timeout)
            except ConnectionClosed as exc:
                assert exc.rcvd is not None
                return exc.rcvd.code


async def livesupport(d: Deployment, redis: tuple[str, str], *args: str) -> str:
    """Run the real `livesupport` command on the deployment, sharing its Redis: a process of its own."""
    done = await asyncio.to_thread(cli, d, *args, REDIS_URL=redis[0], REDIS_PREFIX=redis[1])
    assert done.returncode == 0, done.stderr
    return done.stdout
