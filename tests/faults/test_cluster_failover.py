"""Redis Cluster: the master owning a busy ticket's slot is killed mid-stream; its replica takes over and the
client on the other process still gets every event exactly once, in order."""

from __future__ import annotations

import asyncio
from contextlib import AsyncExitStack

from livesupport.realtime.brokers.cluster import shard_channel
from tests.conftest import Deployment, token_for
from tests.faults.helpers import Watcher, assert_exact, health, metric, wait_until
from tests.realtime.helpers import open_ticket
from tests.redis_cluster import LocalCluster
from tests.utils import Server, run_server, ws_client

PREFIX = "failover:"


async def test_master_killed_mid_stream_loses_nothing(postgres_deployment: Deployment, cluster: LocalCluster) -> None:
    d = postgres_deployment
    env = d.env(REDIS_URL=cluster.url, REDIS_PREFIX=PREFIX, WS_RATE="0", CHAT_RATE="0")
    async with run_server(env) as a, run_server(env) as b:
        tid = await open_ticket(a, d, "Failover in the cluster")
        topic = f"ticket:{tid}"
        async with AsyncExitStack() as stack:
            publisher = await stack.enter_async_context(ws_client(a, await token_for(a, d, "engineer")))
            far = await stack.enter_async_context(ws_client(b, await token_for(b, d, "client")))
            await far.join(topic)
            watcher = Watcher(far)
            task = asyncio.create_task(watcher.run())
            await publisher.join(topic)
            sent: list[int] = []
            dead = 0
            for i in range(300):
                if i == 50:  # the master carrying this ticket's shard channel dies; its replica is promoted
                    dead = await cluster.kill_owner(shard_channel(PREFIX, "t:" + topic))
                r = await publisher.request({"type": "chat", "topic": topic, "body": f"f{i}"})
                assert r["ok"], r
                sent.append(r["seq"])
                await asyncio.sleep(0.02)
            await cluster.wait_failover(shard_channel(PREFIX, "t:" + topic), dead)
            await wait_until(lambda: len(watcher.seqs) >= len(sent), 60, "every message across the failover")
            for srv in (a, b):  # both noticed the loss, and are linked to the new master again
                await wait_until_healthy(srv)
                assert await metric(srv, "livesupport_broker_reconnects_total") >= 1
            after = await publisher.request({"type": "chat", "topic": topic, "body": "after the failover"})
            sent.append(after["seq"])
            await wait_until(lambda: len(watcher.seqs) >= len(sent), 30, "a message after the failover")
            await far.close()
            await task
        assert_exact(watcher.seqs, sent, "the client on B")
        assert sent == list(range(sent[0], sent[0] + len(sent)))


async def wait_until_healthy(srv: Server) -> None:
    for _ in range(300):
        if (await health(srv))["broker_ok"]:
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"{srv.url} never relinked: {await health(srv)}")
