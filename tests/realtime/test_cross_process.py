"""Two server processes sharing one PostgreSQL database and a broker: the machine's Redis, or a Redis Cluster of
the module's own (sharded pub/sub)."""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import AsyncIterator

import httpx
import pytest

from tests.conftest import Deployment
from tests.realtime.helpers import connected, open_ticket, server_pair
from tests.utils import Server, run_server

TTL = 3.0


@pytest.fixture(scope="module", params=["redis", "cluster"])
def backend(request: pytest.FixtureRequest, redis_url: tuple[str, str]) -> tuple[str, str, list[str]]:
    """(REDIS_URL, key prefix, the plain URL of every node to administer)."""
    url, prefix = redis_url
    if request.param == "redis":
        return url, prefix, [os.environ.get("TEST_REDIS", "redis://127.0.0.1:6379/0")]
    cluster = request.getfixturevalue("redis_cluster")
    return cluster.url, prefix, [f"redis://127.0.0.1:{port}/0" for port in cluster.ports]


@pytest.fixture(scope="module")
async def pair(postgres_deployment: Deployment, backend: tuple[str, str, list[str]]) -> AsyncIterator[tuple[Server, Server]]:
    async with server_pair(postgres_deployment, backend[:2], PRESENCE_TTL=str(TTL)) as servers:
        for s in servers:
            s.nodes = backend[2]  # type: ignore[attr-defined]
        yield servers


def presence_of(n: int):  # noqa: ANN201
    return lambda f: f["type"] == "presence" and f["viewers"] == n


async def test_chat_and_presence_cross_processes(pair: tuple[Server, Server]) -> None:
    a, b = pair
    d: Deployment = a.deployment  # type: ignore[attr-defined]
    tid = await open_ticket(a, d, "Cross-process")
    topic = f"ticket:{tid}"
    async with connected(a, d, "client") as client, connected(b, d, "engineer") as eng, \
            connected(a, d, "engineer2") as senior:
        await client.join(topic)
        await eng.join(topic)
        await senior.join(topic)
        pa = await client.presence(3)
        pb = await eng.presence(3)
        assert {m["id"] for m in pa["members"]} == {m["id"] for m in pb["members"]}

        r = await client.request({"type": "chat", "topic": topic, "body": "hello from A"})
        ev = await eng.expect(type="event", seq=r["seq"])
        assert ev["data"]["body"] == "hello from A"
        r = await eng.request({"type": "chat", "topic": topic, "body": "hello from B"})
        assert (await client.expect(type="event", seq=r["seq"]))["data"]["body"] == "hello from B"

        note = await eng.request({"type": "chat", "topic": topic, "body": "internal from B", "visibility": "internal"})
        assert (await senior.expect(type="event", seq=note["seq"]))["data"]["visibility"] == "internal"
        after = await eng.request({"type": "chat", "topic": topic, "body": "public after"})
        await client.expect(type="event", seq=after["seq"])
        assert not [f for f in client.inbox if f.get("seq") == note["seq"]]  # the note in between never came

        await eng.send({"type": "typing", "topic": topic})
        assert (await client.expect(type="typing"))["user"]["id"] == d.users["engineer"]["id"]
        await eng.send({"type": "activity", "topic": topic, "state": "working"})
        p = await client.expect(lambda f: f["type"] == "presence" and any(m["state"] == "working" for m in f["members"]))
        assert p["viewers"] == 3

        await senior.close()
        pa = await client.presence(2)
        pb = await eng.presence(2)
        assert pa["members"] == pb["members"]


async def test_resume_on_the_other_process(pair: tuple[Server, Server]) -> None:
    a, b = pair
    d: Deployment = a.deployment  # type: ignore[attr-defined]
    tid = await open_ticket(a, d, "Resume")
    topic = f"ticket:{tid}"
    async with connected(a, d, "engineer") as eng:
        await eng.join(topic)
        for i in range(5):
            await eng.request({"type": "chat", "topic": topic, "body": f"m{i}"})
    async with connected(b, d, "client") as client:
        await client.join(topic, since=2)
        seqs = [(await client.expect(type="event"))["seq"] for _ in range(4)]
        assert seqs == [3, 4, 5, 6]


async def test_presence_of_a_killed_process_expires(postgres_deployment: Deployment,
                                                    backend: tuple[str, str, list[str]]) -> None:
    url, prefix, _ = backend
    d = postgres_deployment
    env = d.env(REDIS_URL=url, REDIS_PREFIX=prefix + "kill:", PRESENCE_TTL=str(TTL))
    async with run_server(env) as a, run_server(env) as b:
        tid = await open_ticket(a, d, "Ghosts")
        topic = f"ticket:{tid}"
        async with connected(a, d, "client") as client, connected(b, d, "engineer") as eng:
            await client.join(topic)
            await eng.join(topic)
            await client.presence(2)
            os.kill(b.proc.pid, signal.SIGKILL)
            b.proc.wait()
            loop = asyncio.get_running_loop()
            started = loop.time()
            p = await client.expect(presence_of(1), timeout=TTL * 3)  # the first frame that drops the ghost
            assert [m["id"] for m in p["members"]] == [d.users["client"]["id"]]
            assert loop.time() - started <= TTL + 1.5  # within the presence TTL, with slack for the sweep


async def test_revoking_a_token_closes_its_sockets_on_every_process(pair: tuple[Server, Server]) -> None:
    import httpx
    from websockets.exceptions import ConnectionClosed

    from tests.utils import ws_client

    a, b = pair
    d: Deployment = a.deployment  # type: ignore[attr-defined]
    async with httpx.AsyncClient(base_url=a.url) as http:
        user = d.users["client2"]
        token = (await http.post("/api/tokens", json={"email": user["email"], "password": user["password"]})).json()["token"]
        async with ws_client(b, token) as c:
            assert (await c.request({"type": "ping"}))["type"] == "pong"
            r = await http.delete("/api/tokens", headers={"Authorization": f"Bearer {token}"})
            assert r.status_code == 204
            with pytest.raises(ConnectionClosed) as closed:
                await c.expect(type="never", timeout=5)
            assert closed.value.rcvd is not None and closed.value.rcvd.code == 4401
        r = await http.get("/api/tickets", headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 401


async def test_a_process_whose_redis_link_is_killed_misses_nothing(pair: tuple[Server, Server]) -> None:
    """CLIENT KILL on one process's Redis connections (on every node of a cluster) while it sends: the other still
    gets every event, in order."""
    import redis.asyncio as aioredis

    a, b = pair
    d: Deployment = a.deployment  # type: ignore[attr-defined]
    tid = await open_ticket(a, d, "Link killed")
    topic = f"ticket:{tid}"
    admins = [aioredis.Redis.from_url(url) for url in a.nodes]  # type: ignore[attr-defined]
    try:
        async with connected(a, d, "engineer") as eng, connected(b, d, "client") as client:
            await eng.join(topic)
            await client.join(topic)
            killed = 0
            for admin in admins:
                clients = await admin.client_list()
                mine = [c["id"] for c in clients if c.get("name", "").startswith(f"livesupport-{a.proc.pid}-")]
                for cid in mine:
                    await admin.client_kill_filter(_id=cid)
                killed += len(mine)
            assert killed, "the server's Redis connections are named after its process"
            sent = [(await eng.request({"type": "chat", "topic": topic, "body": f"k{i}"}))["seq"] for i in range(20)]
            got = [(await client.expect(type="event", timeout=15))["seq"] for _ in range(20)]
            assert got == sent == list(range(2, 22))
    finally:
        for admin in admins:
            await admin.aclose()


async def stage_counts(server: Server) -> dict[str, float]:
    """How many observations each stage of the delivery histogram holds on this process."""
    from prometheus_client.parser import text_string_to_metric_families

    async with httpx.AsyncClient(base_url=server.url) as http:
        text = (await http.get("/metrics")).text
    return {s.labels["stage"]: s.value for family in text_string_to_metric_families(text)
            if family.name == "livesupport_delivery_seconds" for s in family.samples if s.name.endswith("_count")}


async def test_one_message_is_timed_stage_by_stage_on_both_processes(pair: tuple[Server, Server]) -> None:
    a, b = pair
    d: Deployment = a.deployment  # type: ignore[attr-defined]
    tid = await open_ticket(a, d, "Stages")
    topic = f"ticket:{tid}"
    async with connected(a, d, "client") as client, connected(b, d, "engineer") as eng:
        await client.join(topic)
        await eng.join(topic)
        before_a, before_b = await stage_counts(a), await stage_counts(b)
        r = await client.request({"type": "chat", "topic": topic, "body": "timed"})
        await client.expect(type="event", seq=r["seq"])
        await eng.expect(type="event", seq=r["seq"])

        async def grown(server: Server, before: dict[str, float], stages: set[str]) -> bool:
            now = await stage_counts(server)
            return all(now.get(s, 0) > before.get(s, 0) for s in stages)

        # The author's process: read, committed, written here, answered by Redis; the other: received, written.
        for server, before, stages in ((a, before_a, {"queued", "commit", "local", "broker", "delivered"}),
                                       (b, before_b, {"received", "remote", "delivered"})):
            for _ in range(100):  # the broker's answer is counted just after the event went out
                if await grown(server, before, stages):
                    break
                await asyncio.sleep(0.05)
            assert await grown(server, before, stages), await stage_counts(server)
