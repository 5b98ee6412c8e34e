"""A page turned away in a reconnect storm (1013, "retry after N s") says it is waiting, comes back no sooner than
the server asked (within N to 2N seconds), not even when the network comes back meanwhile, and goes live once the
server has room.

The server sets up one connection at a time and sheds new sockets once one more waits (CONNECT_CONCURRENCY=1,
MAX_PENDING_CONNECTS=1). Another program holds a lock on the token table, so two sockets with unknown tokens keep
the queue full for as long as the test wants: one looks its token up and waits for the lock, the other waits for
the slot. The page's session is already in the server's token cache, so its pages load meanwhile. The page runs on
Playwright's clock, paused, so the test moves its time on instead of waiting.
"""

from __future__ import annotations

import asyncio
import re
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from typing import Any

import asyncpg
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from tests.browser.helpers import LIVE, expect, log_in
from tests.conftest import Deployment, LiveServer
from tests.faults.helpers import metric
from tests.utils import Server, run_server

SHED = "livesupport_shed_connections_total"
# Counts the sockets the page opens (each still a real WebSocket): read in the page, so a socket opened by an
# event handler is counted by the time the test asks.
COUNT_SOCKETS = """
window.__socketsOpened = 0;
window.WebSocket = class extends window.WebSocket {
  constructor(...args) { super(...args); window.__socketsOpened += 1; }
};
"""
WAITING = "livesupport_setup_waiting"


@pytest.fixture
async def small_server(postgres_deployment: Deployment) -> AsyncIterator[LiveServer]:
    d = postgres_deployment
    env = d.env(CONNECT_CONCURRENCY="1", MAX_PENDING_CONNECTS="1", DB_WAIT_TIMEOUT="120", TOKEN_CACHE_SECONDS="600")
    async with run_server(env) as srv:
        yield LiveServer(srv.url, {k: (v["email"], v["password"]) for k, v in d.users.items()}, srv, d)


@asynccontextmanager
async def storm(srv: Server, d: Deployment) -> AsyncIterator[None]:
    """The server's set-up queue is full from entry to exit: token lookups wait on a lock another program holds."""
    dsn = d.database_url.replace("postgresql+asyncpg", "postgresql")
    holder = await asyncpg.connect(dsn)
    stuck: list[asyncio.Task[None]] = []
    try:
        async with holder.transaction():
            await holder.execute("LOCK TABLE api_tokens IN ACCESS EXCLUSIVE MODE")
            stuck = [asyncio.create_task(unknown_token(srv)) for _ in range(2)]
            await until_metric(srv, WAITING, 1)  # one looks up (held by the lock), one waits: full
            yield
    finally:
        await holder.close()  # the lock goes; the stuck lookups end (4401)
        await asyncio.gather(*stuck)
        await until_metric(srv, WAITING, 0)


async def unknown_token(srv: Server) -> None:
    try:
        async with connect(f"{srv.ws_url}?token={secrets.token_urlsafe(16)}", compression=None,
                           open_timeout=150) as ws:
            await ws.recv()
    except (ConnectionClosed, InvalidStatus):
        pass


async def until_metric(srv: Server, name: str, value: float) -> None:
    for _ in range(600):
        if await metric(srv, name) == value:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"{name} never reached {value}: {await metric(srv, name)}")


async def opened(page: Any) -> int:
    return int(await page.evaluate("() => window.__socketsOpened"))


async def shed_reason(srv: Server) -> str:
    """What a new socket is told now: the close reason of a 1013."""
    try:
        async with connect(srv.ws_url, compression=None) as ws:
            await ws.recv()
    except ConnectionClosed as exc:
        assert exc.rcvd is not None and exc.rcvd.code == 1013, exc
        return exc.rcvd.reason
    raise AssertionError("the socket was not closed")


async def test_a_shed_page_waits_as_told_then_goes_live(browser: Any, small_server: LiveServer) -> None:
    srv, d = small_server._server, small_server._deployment
    ticket = await small_server.new_ticket("Everyone reconnects at once", "After the deploy.")
    client = await log_in(browser, small_server, "client")  # the session is now in the server's token cache
    page = client.page
    await page.add_init_script(COUNT_SOCKETS)
    try:
        start = datetime.now().replace(microsecond=0)
        await page.clock.install(time=start)
        await page.clock.pause_at(start + timedelta(seconds=1))  # the page's time moves only when the test says
        async with storm(srv, d):
            seconds = int(re.search(r"retry after (\d+) s", await shed_reason(srv)).group(1))  # type: ignore[union-attr]
            shed = await metric(srv, SHED)
            await page.goto(f"{small_server.url}/tickets/{ticket}")
            await until_metric(srv, SHED, shed + 1)  # the page's socket was turned away
            conn = page.locator("#conn-state")
            await expect(conn).to_have_attribute("data-state", "reconnecting")
            assert await opened(page) == 1
            await expect(conn).to_have_text(re.compile(r"^\s*Server busy – reconnecting in \d+ s…\s*$"))
            left = int(re.findall(r"\d+", await conn.inner_text())[0])
            assert seconds <= left <= 2 * seconds, (left, seconds)  # N to 2N seconds: no sooner, and spread out
            await expect(page.locator("#conn-retry")).to_be_hidden()  # "Try now" would be turned away too
            await client.shot("shed-waiting")

            # Just before the server's delay: still waiting, no new socket. The network dropping and coming back
            # meanwhile does not cut the wait short either.
            await page.clock.run_for(seconds * 1000 - 100)
            await client.context.set_offline(True)
            await client.context.set_offline(False)
            await page.clock.run_for(50)
            await expect(conn).to_have_attribute("data-state", "reconnecting")
            assert await opened(page) == 1

        # The storm is over. The page comes back within twice the delay, and goes live.
        await page.clock.run_for(seconds * 1000 + 100)
        await expect(conn).to_have_text(LIVE)
        assert await opened(page) == 2
        assert await metric(srv, SHED) == shed + 1
        client.assert_clean()
    finally:
        await client.context.close()


async def test_the_list_and_the_transfer_board_say_the_server_is_busy(browser: Any, small_server: LiveServer) -> None:
    """The pages beside the ticket say why they wait too ("Server busy"), count down, and go live after."""
    srv, d = small_server._server, small_server._deployment
    people = [await log_in(browser, small_server, "client"), await log_in(browser, small_server, "engineer")]
    pages = [(people[0], "/tickets", "#list-conn"), (people[1], "/transfers", "#transfer-conn")]
    try:
        start = datetime.now().replace(microsecond=0)
        for person in people:
            await person.page.clock.install(time=start)
            await person.page.clock.pause_at(start + timedelta(seconds=1))
        async with storm(srv, d):
            seconds = int(re.search(r"retry after (\d+) s", await shed_reason(srv)).group(1))  # type: ignore[union-attr]
            for person, path, conn in pages:
                await person.page.goto(f"{small_server.url}{path}")  # its socket is turned away (the board opens
                state = person.page.locator(conn)  # two: its own and the notifications')
                await expect(state).to_have_attribute("data-state", "reconnecting")
                await expect(state).to_have_text(re.compile(r"^\s*Server busy – reconnecting in \d+ s…\s*$"))
                left = int(re.findall(r"\d+", await state.inner_text())[0])
                await person.page.clock.run_for(1000)  # it counts down
                await expect(state).to_have_text(re.compile(rf"^\s*Server busy – reconnecting in {left - 1} s…\s*$"))
            await people[0].shot("shed-list-waiting")
        for person, _, conn in pages:
            await person.page.clock.run_for(2 * seconds * 1000 + 100)
            await expect(person.page.locator(conn)).to_have_text(LIVE)
            person.assert_clean()
    finally:
        for person in people:
            await person.context.close()
