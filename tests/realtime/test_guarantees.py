"""Guarantees of the socket through a real server: a connection that keeps flooding is closed with 1008, and
ALLOWED_ORIGINS decides which pages may open a socket with the session cookie."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import orjson
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from tests.conftest import Deployment, token_for
from tests.utils import Server, run_server, signed_in
from tests.web.guarantee_helpers import new_account


@pytest.fixture(scope="module")
async def slow(sqlite_deployment: Deployment) -> AsyncIterator[Server]:
    """One frame every 5 seconds per connection, bursts of 2: no token comes back during a flood."""
    async with run_server(sqlite_deployment.env(WS_RATE="0.2", WS_BURST="2")) as srv:
        srv.deployment = sqlite_deployment  # type: ignore[attr-defined]
        yield srv


async def test_a_connection_that_keeps_flooding_is_closed_with_1008(slow: Server) -> None:
    d: Deployment = slow.deployment  # type: ignore[attr-defined]
    token = await token_for(slow, d, "engineer")
    answers: list[dict[str, object]] = []
    async with connect(f"{slow.ws_url}?token={token}") as ws:
        for i in range(300):
            try:
                await ws.send(orjson.dumps({"type": "ping", "ref": f"p{i}"}).decode())
            except ConnectionClosed:
                break
        with pytest.raises(ConnectionClosed) as closed:
            while True:
                answers.append(orjson.loads(await asyncio.wait_for(ws.recv(), 10)))
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1008, closed.value
    assert "slow down" in closed.value.rcvd.reason
    assert [a["type"] for a in answers[:2]] == ["pong", "pong"]  # the burst
    refused = answers[2:]
    # Refused one by one first (the client may slow down), closed only when it keeps on.
    assert len(refused) >= 20 and all(a["type"] == "reply" and a["error"]["code"] == "rate_limited"  # type: ignore[index]
                                      for a in refused)
    async with connect(f"{slow.ws_url}?token={token}") as again:  # the person is not banned: a new connection works
        await again.send('{"type": "ping", "ref": "back"}')
        assert orjson.loads(await asyncio.wait_for(again.recv(), 10))["type"] == "pong"


LISTED = "https://support.example.com"
ALSO = "https://portal.example.net"


@pytest.fixture(scope="module")
async def behind_origins(sqlite_deployment: Deployment) -> AsyncIterator[Server]:
    """Pages served from other origins, written as an operator might (capitals, a trailing slash, spaces)."""
    env = sqlite_deployment.env(ALLOWED_ORIGINS="https://Support.Example.com/ , https://portal.example.net")
    async with run_server(env) as srv:
        srv.deployment = sqlite_deployment  # type: ignore[attr-defined]
        yield srv


async def socket_answer(srv: Server, origin: str | None, cookie: str | None = None, token: str | None = None) -> str:
    """"pong" when the socket opened and answered, else its close code."""
    url = srv.ws_url + (f"?token={token}" if token else "")
    headers = {"Cookie": cookie} if cookie else {}
    async with connect(url, additional_headers=headers, origin=origin) as ws:  # type: ignore[arg-type]
        try:
            await ws.send('{"type": "ping", "ref": "o"}')
            return str(orjson.loads(await asyncio.wait_for(ws.recv(), 10))["type"])
        except ConnectionClosed as exc:
            return str(exc.rcvd.code if exc.rcvd else None)


async def test_allowed_origins_decide_who_may_open_a_session_socket(behind_origins: Server) -> None:
    srv = behind_origins
    d: Deployment = srv.deployment  # type: ignore[attr-defined]
    email, _ = await new_account(d)
    async with signed_in(srv, email) as http:
        cookie = "; ".join(f"{k}={v}" for k, v in http.cookies.items())
    assert await socket_answer(srv, LISTED, cookie) == "pong"
    assert await socket_answer(srv, ALSO, cookie) == "pong"
    for foreign in ("https://evil.example", "http://support.example.com", "https://support.example.com.evil.example",
                    srv.url, None):  # the list replaces the default (the server's own origin); no Origin at all
        assert await socket_answer(srv, foreign, cookie) == "4403", foreign
    # A token is not a cookie a foreign page could borrow: token sockets are not bound to an origin.
    async with signed_in(srv, email) as http:
        token = (await http.post("/api/tokens", json={"email": email, "password": "correct horse battery staple"}
                                 )).json()["token"]
    assert await socket_answer(srv, "https://evil.example", token=token) == "pong"
