"""Redis restarted, its connections killed, or absent at start: nothing is lost, and the server says so."""

from __future__ import annotations

import asyncio
import time
from contextlib import AsyncExitStack

import httpx
import pytest
import redis.asyncio as aioredis

from tests.conftest import Deployment, token_for
from tests.faults.conftest import OwnRedis
from tests.faults.helpers import Watcher, assert_exact, health, metric, wait_until
from tests.realtime.helpers import connected, open_ticket
from tests.utils import QUIET, run_server, ws_client

MESSAGES = 1000


async def inject(fault: str, own_redis: OwnRedis) -> None:
    if fault == "restart":
        await own_redis.restart(down_for=0.5)
        return
    admin = aioredis.Redis.from_url(own_redis.url)
    try:  # every connection but this one: the servers' subscribers and publishers alike
        await admin.execute_command("CLIENT", "KILL", "TYPE", "pubsub")
        await admin.execute_command("CLIENT", "KILL", "TYPE", "normal")
    finally:
        await admin.aclose()


@pytest.mark.parametrize("fault", ["restart", "client_kill"])
async def test_every_subscriber_gets_all_messages_through_a_redis_fault(
    postgres_deployment: Deployment, own_redis: OwnRedis, fault: str
) -> None:
    d = postgres_deployment
    env = d.env(REDIS_URL=own_redis.url, WS_RATE="0", CHAT_RATE="0")
    async with run_server(env) as a, run_server(env) as b:
        tid = await open_ticket(a, d, f"Redis {fault}")
        topic = f"ticket:{tid}"
        placements = [(a, "client"), (a, "engineer2"), (b, "client2"), (b, "engineer")]
        watchers: list[Watcher] = []
        tasks = []
        async with AsyncExitStack() as stack:
            publisher = await stack.enter_async_context(ws_client(a, await token_for(a, d, "engineer")))
            for srv, who in placements:
                c = await stack.enter_async_context(ws_client(srv, await token_for(srv, d, who)))
                await c.join(topic)
                w = Watcher(c)
                watchers.append(w)
                tasks.append(asyncio.create_task(w.run()))
            await publisher.join(topic)
            fault_task = None
            for i in range(MESSAGES):
                if i == MESSAGES // 3:
                    fault_task = asyncio.create_task(inject(fault, own_redis))
                r = await publisher.request({"type": "chat", "topic": topic, "body": f"m{i}"})
                assert r["ok"], r
            assert fault_task is not None
            await fault_task
            expected = list(range(2, MESSAGES + 2))
            await wait_until(lambda: all(len(w.seqs) >= MESSAGES for w in watchers), 30, "every message everywhere")
            await asyncio.sleep(QUIET)  # all arrived: anything more now would be a duplicate
            for (srv, who), w in zip(placements, watchers, strict=True):
                assert_exact(w.seqs, expected, f"{who} on {'A' if srv is a else 'B'}")
            for w in watchers:
                await w.client.close()
            await asyncio.gather(*tasks)
        for srv in (a, b):
            await wait_until_healthy(srv)
            assert await metric(srv, "livesupport_broker_reconnects_total") >= 1
        # B's link was down for at least its first backoff (0.1 s) while A went on storing messages: it could only
        # learn of what it missed from the database, whichever the fault.
        assert await metric(b, "livesupport_gap_events_total") > 0


async def wait_until_healthy(srv, timeout: float = 20) -> None:  # noqa: ANN001
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if (await health(srv))["status"] == "ok":
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"{srv.url} did not become healthy again")


async def test_starts_without_redis_serves_locally_and_joins_up_later(
    postgres_deployment: Deployment, own_redis: OwnRedis
) -> None:
    d = postgres_deployment
    own_redis.stop()
    env = d.env(REDIS_URL=own_redis.url, PRESENCE_TTL="5")
    async with run_server(env) as a:
        h = await health(a)
        assert h["status"] == "degraded" and h["broker_ok"] is False and "unreachable" in h["broker"]
        async with httpx.AsyncClient() as http:
            ready = await http.get(a.url + "/readyz")
        assert ready.status_code == 200 and ready.json()["database_ok"] is True
        assert "cross-process delivery is DOWN" in a.output() and "retrying" in a.output()

        tid = await open_ticket(a, d, "No Redis yet")
        topic = f"ticket:{tid}"
        async with connected(a, d, "client") as client, connected(a, d, "engineer") as eng:
            await client.join(topic)
            await eng.join(topic)
            r = await client.request({"type": "chat", "topic": topic, "body": "stored while Redis is away"})
            assert r["ok"]
            assert (await eng.expect(type="event", seq=r["seq"]))["data"]["body"] == "stored while Redis is away"

            await own_redis.start()
            await wait_until_healthy(a)  # it joins up by itself, with backoff
            async with run_server(env) as b, connected(b, d, "engineer2") as far:
                await far.join(topic, since=0)
                assert [(await far.expect(type="event"))["seq"] for _ in range(2)] == [1, 2]
                r = await client.request({"type": "chat", "topic": topic, "body": "now across processes"})
                assert (await far.expect(type="event", seq=r["seq"]))["data"]["body"] == "now across processes"
                assert (await client.presence(3))["viewers"] == 3
                assert (await far.presence(3))["viewers"] == 3
