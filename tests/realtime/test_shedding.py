"""A reconnect storm is shed with 1013 and a delay to retry after, instead of sockets waiting until they time out.

The server here sets up one connection at a time (CONNECT_CONCURRENCY=1) and sheds new sockets once two wait
(MAX_PENDING_CONNECTS=2). A flood of sockets with unknown tokens (each a database lookup) keeps the queue full;
a client's socket is then closed with 1013 and "retry after N s", and once the flood stops it connects and joins.
"""

from __future__ import annotations

import asyncio
import re
import secrets
from collections.abc import AsyncIterator

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from tests.conftest import Deployment, token_for
from tests.realtime.helpers import open_ticket
from tests.utils import Client, Server, run_server, ws_client


@pytest.fixture(scope="module")
async def small(sqlite_deployment: Deployment) -> AsyncIterator[Server]:
    env = sqlite_deployment.env(CONNECT_CONCURRENCY="1", MAX_PENDING_CONNECTS="2", TOKEN_CACHE_SECONDS="0")
    async with run_server(env) as srv:
        srv.deployment = sqlite_deployment  # type: ignore[attr-defined]
        yield srv


async def flood(srv: Server, stop: asyncio.Event) -> None:
    """Sockets with tokens nobody has, one after another, until told to stop."""
    while not stop.is_set():
        try:
            async with connect(f"{srv.ws_url}?token={secrets.token_urlsafe(16)}", compression=None) as ws:
                await ws.recv()
        except (ConnectionClosed, InvalidStatus, OSError, TimeoutError):
            pass


async def close_of(srv: Server, token: str) -> tuple[int, str] | None:
    """(code, reason) when this socket is closed before it answers a ping; None when it answers."""
    async with connect(f"{srv.ws_url}?token={token}", compression=None) as ws:
        c = Client(ws)
        try:
            await c.send({"type": "ping", "ref": "p"})
            await c.expect(type="pong", timeout=30)
        except ConnectionClosed as exc:
            return (exc.rcvd.code, exc.rcvd.reason) if exc.rcvd else (1006, "")
        return None


async def test_a_storm_is_shed_with_1013_and_a_retry_delay_then_the_client_gets_in(small: Server) -> None:
    d: Deployment = small.deployment  # type: ignore[attr-defined]
    token = await token_for(small, d, "client")
    tid = await open_ticket(small, d)
    stop = asyncio.Event()
    flooders = [asyncio.create_task(flood(small, stop)) for _ in range(40)]
    try:
        async with asyncio.timeout(120):  # a condition, waited for: the queue is full at some moment
            while (closed := await close_of(small, token)) is None or closed[0] != 1013:
                pass
    finally:
        stop.set()
        await asyncio.gather(*flooders)
    code, reason = closed
    seconds = re.search(r"retry after (\d+) s", reason)
    assert code == 1013 and seconds is not None and 1 <= int(seconds.group(1)) <= 30, reason

    async with ws_client(small, token) as c:  # the storm is over: in, and joined
        joined = await c.join(f"ticket:{tid}", since=0)
        assert joined["type"] == "joined", joined
