"""Redis Cluster: a busy ticket's slot moves to another master mid-stream (the resharding steps of
`redis-cli --cluster reshard`); clients on both processes still get every event exactly once, in order, and live
delivery goes on at the new owner.

While the slot is MIGRATING its shard channel is still served by the old owner; once the slot is handed over, the
old owner sends its subscribers SUNSUBSCRIBE: each process must relink to the new owner and fetch the gap from the
database. The ticket's presence hash (same hash tag, same slot) moves with it.
"""

from __future__ import annotations

import asyncio
from contextlib import AsyncExitStack

from livesupport.realtime.brokers.cluster import shard_channel
from tests.conftest import Deployment, token_for
from tests.faults.helpers import Watcher, assert_exact, metric, wait_until
from tests.faults.test_cluster_failover import wait_until_healthy
from tests.realtime.helpers import open_ticket
from tests.redis_cluster import LocalCluster
from tests.utils import run_server, ws_client

PREFIX = "reshard:"


async def test_a_slot_moved_mid_stream_loses_nothing(postgres_deployment: Deployment, cluster: LocalCluster) -> None:
    d = postgres_deployment
    env = d.env(REDIS_URL=cluster.url, REDIS_PREFIX=PREFIX, WS_RATE="0", CHAT_RATE="0")
    async with run_server(env) as a, run_server(env) as b:
        tid = await open_ticket(a, d, "A slot on the move")
        topic = f"ticket:{tid}"
        channel = shard_channel(PREFIX, "t:" + topic)
        presence_key = f"{PREFIX}presence:{{{topic}}}"
        engineer, client = await token_for(a, d, "engineer"), await token_for(a, d, "client")
        async with AsyncExitStack() as stack:
            writers = [await stack.enter_async_context(ws_client(srv, engineer)) for srv in (a, b)]
            readers = [await stack.enter_async_context(ws_client(srv, client)) for srv in (a, b)]
            for c in (*writers, *readers):
                await c.join(topic)
            watchers = [Watcher(c) for c in readers]
            tasks = [asyncio.create_task(w.run()) for w in watchers]
            reconnects = [await metric(srv, "livesupport_broker_reconnects_total") for srv in (a, b)]

            sent: list[int] = []

            async def chat(i: int) -> None:  # from each process in turn: each side's own and the other's
                r = await writers[i % 2].request({"type": "chat", "topic": topic, "body": f"m{i}"})
                assert r["ok"], r
                sent.append(r["seq"])

            for i in range(40):
                await chat(i)
            await presence_fields(cluster, await cluster.owner(channel), presence_key, 4)  # 2 people on 2 processes
            slot, source, target = await cluster.begin_slot_move(channel)
            await presence_fields(cluster, target, presence_key, 4, asking=True)  # moved with the slot
            for i in range(40, 80):  # MIGRATING: the old owner still carries the shard channel
                await chat(i)
            # Someone arrives meanwhile: the presence write is redirected (ASK) to the hash's new home.
            late = await stack.enter_async_context(ws_client(b, await token_for(b, d, "engineer2")))
            await late.join(topic)
            await presence_fields(cluster, target, presence_key, 5, asking=True)
            await cluster.end_slot_move(slot, source, target)
            assert await cluster.owner(channel) == target
            for i in range(80, 200):  # the processes learn of the move (SUNSUBSCRIBE) and relink meanwhile
                await chat(i)
            await wait_until(lambda: all(len(w.seqs) >= len(sent) for w in watchers), 60, "every message across the move")
            for n, srv in enumerate((a, b)):  # both were dropped by the old owner and linked to the new one
                await wait_until_healthy(srv)
                assert await metric(srv, "livesupport_broker_reconnects_total") > reconnects[n]
            counts = await cluster._ask(target, "PUBSUB", "SHARDNUMSUB", channel)
            assert int(counts[1]) == 2, counts  # type: ignore[index]  # both processes listen at the new owner
            for i in range(200, 220):  # live again, through the new owner
                await chat(i)
            await wait_until(lambda: all(len(w.seqs) >= len(sent) for w in watchers), 30, "messages after the move")
            for c in readers:
                await c.close()
            await asyncio.gather(*tasks)
        for w, who in zip(watchers, ("the client on A", "the client on B"), strict=True):
            assert_exact(w.seqs, sent, who)
        assert sent == list(range(sent[0], sent[0] + len(sent)))


async def presence_fields(cluster: LocalCluster, port: int, key: str, count: int, asking: bool = False) -> None:
    """Until the presence hash `key` on the master at `port` holds `count` members (one per person and process)."""
    held: object = None
    for _ in range(200):
        held = await cluster._ask(port, "HLEN", key, asking=asking)
        if held == count:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"{key} on {port} holds {held} members, not {count}")
