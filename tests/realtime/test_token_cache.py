"""The token cache never lets an ended credential in: what is revoked, logged out or disabled through one process
is refused at once by another that had it cached.

Both servers remember a token for an hour here (TOKEN_CACHE_SECONDS=3600), so only the announced eviction can
refuse it. Each test first has server B look the credential up (a socket and an API call there), then ends it
through server A or the `livesupport` command, then asks B again straight away.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from tests.conftest import Deployment
from tests.realtime.access_helpers import closed_with, livesupport, new_account, token_of
from tests.realtime.helpers import server_pair
from tests.utils import Client, Server, csrf_of, signed_in, ws_client


@pytest.fixture(scope="module")
async def pair(deployment: Deployment, redis_url: tuple[str, str]) -> AsyncIterator[tuple[Server, Server]]:
    async with server_pair(deployment, redis_url, TOKEN_CACHE_SECONDS="3600") as servers:
        yield servers


async def answers(srv: Server, token: str) -> int:
    """The status of an API call with this bearer token."""
    async with httpx.AsyncClient(base_url=srv.url, timeout=20) as http:
        return (await http.get("/api/tickets", headers={"Authorization": f"Bearer {token}"})).status_code


async def socket_code(srv: Server, token: str | None = None, cookie: str | None = None) -> int | str:
    """"open" when a socket with this credential is accepted and answers a ping, else its close code."""
    headers = {"Cookie": cookie} if cookie else {}
    url = srv.ws_url + (f"?token={token}" if token else "")
    async with connect(url, additional_headers=headers, origin=srv.url, compression=None) as ws:  # type: ignore[arg-type]
        c = Client(ws)
        try:
            await c.send({"type": "ping", "ref": "p"})
            await c.expect(type="pong", timeout=10)
        except ConnectionClosed as exc:  # closed instead of answering
            return exc.rcvd.code if exc.rcvd else "dropped"
        return "open"


async def test_a_token_revoked_on_one_process_is_refused_at_once_by_another(pair: tuple[Server, Server]) -> None:
    a, b = pair
    d: Deployment = a.deployment  # type: ignore[attr-defined]
    who = await new_account(d, "client", org="Acme")
    token = (await token_of(a, who["email"])).json()["token"]
    assert await socket_code(b, token) == "open" and await answers(b, token) == 200  # B has it cached now
    async with ws_client(b, token) as held:
        async with httpx.AsyncClient(base_url=a.url, timeout=20) as http:
            r = await http.delete("/api/tokens", headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 204, r.text
        assert await socket_code(b, token) == 4401
        assert await answers(b, token) == 401
        assert await closed_with(held) == 4401  # the socket it had open there closes too


async def test_a_disabled_account_is_refused_at_once_by_every_process(
        pair: tuple[Server, Server], redis_url: tuple[str, str]) -> None:
    a, b = pair
    d: Deployment = a.deployment  # type: ignore[attr-defined]
    who = await new_account(d, "client", org="Acme")
    token = (await token_of(a, who["email"])).json()["token"]
    for srv in (a, b):
        assert await socket_code(srv, token) == "open" and await answers(srv, token) == 200
    await livesupport(d, redis_url, "user", "disable", "--email", who["email"])  # a process of its own
    for srv in (a, b):
        assert await socket_code(srv, token) == 4401
        assert await answers(srv, token) == 401


async def test_a_session_logged_out_on_one_process_is_refused_at_once_by_another(
        pair: tuple[Server, Server]) -> None:
    a, b = pair
    d: Deployment = a.deployment  # type: ignore[attr-defined]
    who = await new_account(d, "client", org="Acme")
    async with signed_in(a, who["email"]) as http:
        cookie = "; ".join(f"{k}={v}" for k, v in http.cookies.items())
        assert await socket_code(b, cookie=cookie) == "open"
        async with httpx.AsyncClient(base_url=b.url, timeout=20, headers={"Cookie": cookie}) as on_b:
            assert (await on_b.get("/tickets")).status_code == 200
            page = await http.get("/tickets")
            out = await http.post("/logout", data={"csrf": csrf_of(page.text)})
            assert out.status_code == 303
            assert await socket_code(b, cookie=cookie) == 4401
            assert (await on_b.get("/tickets", follow_redirects=False)).status_code in (302, 303)


async def test_a_changed_role_is_seen_at_once_by_another_process(
        pair: tuple[Server, Server], redis_url: tuple[str, str]) -> None:
    a, b = pair
    d: Deployment = a.deployment  # type: ignore[attr-defined]
    who = await new_account(d, "staff", tier=2)
    token = (await token_of(a, who["email"])).json()["token"]
    async with ws_client(b, token) as c:
        assert (await c.join("queue"))["type"] == "joined"  # staff may open the queue; B has them cached
    await livesupport(d, redis_url, "user", "set", "--email", who["email"], "--role", "client", "--org", "Acme")
    async with ws_client(b, token) as c:
        refused = await c.join("queue")
        assert refused["type"] == "reply" and refused["ok"] is False, refused
