"""One contract suite, run against every broker backend."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator

import pytest

from livesupport.realtime.brokers import broker_for
from livesupport.realtime.brokers.base import Broker, BrokerError
from livesupport.realtime.brokers.cluster import shard_channel


@pytest.fixture(params=["memory", "redis", "cluster"])
async def broker(request: pytest.FixtureRequest) -> AsyncIterator[tuple[Broker, list, list]]:
    if request.param == "memory":
        b = broker_for(None)
    elif request.param == "cluster":
        b = broker_for(request.getfixturevalue("redis_cluster").url, "contract:")
    else:
        url, prefix = request.getfixturevalue("redis_url")
        b = broker_for(url, prefix + "contract:")
    got, resyncs = await started(b)
    yield b, got, resyncs
    await b.stop()


async def started(b: Broker) -> tuple[list[tuple[str, bytes]], list[int]]:
    """Start a broker that records what it delivers and each resync; wait until it is connected."""
    got: list[tuple[str, bytes]] = []
    resyncs: list[int] = []

    async def on_resync() -> None:
        resyncs.append(1)

    await b.start(lambda ch, data: got.append((ch, data)), on_resync)
    await wait_for(lambda: b.healthy)
    return got, resyncs


async def wait_for(cond, timeout: float = 5) -> None:  # noqa: ANN001
    for _ in range(int(timeout / 0.02)):
        if cond():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("condition not met in time")


async def test_delivers_what_is_published_after_subscribe(broker) -> None:  # noqa: ANN001
    b, got, _ = broker
    assert b.healthy
    await b.subscribe("t:ticket:1")
    # subscribe() returns only once the subscription is active: nothing published now is lost
    for i in range(100):
        await b.publish("t:ticket:1", b"m%d" % i)
    await wait_for(lambda: len(got) == 100)
    assert got == [("t:ticket:1", b"m%d" % i) for i in range(100)]


async def test_only_subscribed_channels_arrive(broker, request: pytest.FixtureRequest) -> None:  # noqa: ANN001
    b, got, _ = broker
    await b.subscribe("t:a")
    await b.subscribe("t:barrier")
    await b.publish("t:b", b"not for us")
    await b.publish("t:a", b"for us")
    await wait_for(lambda: len(got) == 1)
    await b.unsubscribe("t:a")
    if "cluster" in request.node.callspec.id:  # the master of the slot has taken the unsubscribe in
        await until_unsubscribed(request.getfixturevalue("redis_cluster"), "contract:t:{a}")
    elif "redis" in request.node.callspec.id:  # Redis has taken the unsubscribe in (it came on another link)
        import redis.asyncio as aioredis

        url, prefix = request.getfixturevalue("redis_url")
        client = aioredis.Redis.from_url(url)
        try:
            channel = f"{prefix}contract:t:a"
            for _ in range(250):
                if dict(await client.pubsub_numsub(channel)).get(channel.encode(), 0) == 0:
                    break
                await asyncio.sleep(0.02)
            else:
                raise AssertionError("Redis still has the subscription")
        finally:
            await client.aclose()
    await b.publish("t:a", b"after unsubscribe")
    await b.publish("t:barrier", b"last")  # published after it, on the same link: it arrives after it
    await wait_for(lambda: ("t:barrier", b"last") in got)
    assert got == [("t:a", b"for us"), ("t:barrier", b"last")]


async def test_redis_link_killed_is_noticed_and_resynced(redis_url: tuple[str, str]) -> None:
    import redis.asyncio as aioredis

    url, prefix = redis_url
    b = broker_for(url, prefix + "kill:")
    got, resyncs = await started(b)
    await b.subscribe("t:x")
    admin = aioredis.Redis.from_url(url)
    try:
        await admin.execute_command("CLIENT", "KILL", "TYPE", "pubsub")
        await wait_for(lambda: bool(resyncs), timeout=10)
        await wait_for(lambda: b.healthy)
        await b.publish("t:x", b"after")
        await wait_for(lambda: got == [("t:x", b"after")])
    finally:
        await admin.aclose()
        await b.stop()


async def test_a_channel_asked_for_while_relinking_is_subscribed(redis_url: tuple[str, str]) -> None:
    """A subscribe that comes while the new link's SUBSCRIBE waits for its answer (held here by CLIENT PAUSE) is
    not lost: once the link is back, that channel delivers too."""
    import redis.asyncio as aioredis

    url, prefix = redis_url
    b = broker_for(url, prefix + "relink:")
    got, resyncs = await started(b)
    admin = aioredis.Redis.from_url(url)
    try:
        await admin.execute_command("CLIENT", "KILL", "TYPE", "pubsub")
        await wait_for(lambda: not b.healthy)  # it waits a tenth of a second, then relinks
        await admin.execute_command("CLIENT", "PAUSE", "1500", "ALL")  # the relink's SUBSCRIBE waits
        await asyncio.sleep(0.5)  # the relink has asked for its channels and waits for the answer
        await b.subscribe("t:late")  # not yet healthy: remembered for later
        await wait_for(lambda: b.healthy, timeout=10)
        await b.publish("t:late", b"after")
        await wait_for(lambda: got == [("t:late", b"after")])
    finally:
        await admin.execute_command("CLIENT", "UNPAUSE")
        await admin.aclose()
        await b.stop()


async def until_unsubscribed(cluster, channel: str) -> None:  # noqa: ANN001
    """Until the master owning `channel`'s slot counts no subscriber of that shard channel."""
    client = cluster.node(await cluster.owner(channel))
    try:
        for _ in range(250):
            counts = await client.execute_command("PUBSUB", "SHARDNUMSUB", channel)
            if int(counts[1]) == 0:
                return
            await asyncio.sleep(0.02)
        raise AssertionError("the cluster still has the subscription")
    finally:
        await client.aclose()


async def test_cluster_channels_share_the_slot_of_their_ticket(redis_cluster) -> None:  # noqa: ANN001

    assert shard_channel("ls:", "t:ticket:12") == "ls:t:{ticket:12}"
    assert shard_channel("ls:", "f:org:3") == "ls:f:{org:3}"
    assert shard_channel("ls:", "ctl") == "ls:{ctl}"
    client = redis_cluster.node(redis_cluster.ports[0])
    try:
        slot = await client.execute_command("CLUSTER", "KEYSLOT", "ls:t:{ticket:12}")
        assert slot == await client.execute_command("CLUSTER", "KEYSLOT", "ls:presence:{ticket:12}")
    finally:
        await client.aclose()


async def test_cluster_links_killed_are_noticed_and_resynced(redis_cluster) -> None:  # noqa: ANN001
    """CLIENT KILL of the subscriber links on every master: the broker relinks everywhere, then resyncs once."""
    b = broker_for(redis_cluster.url, "kill:")
    got, resyncs = await started(b)
    await b.subscribe("t:x")
    try:
        for port in redis_cluster.ports:
            node = redis_cluster.node(port)
            try:
                await node.execute_command("CLIENT", "KILL", "TYPE", "pubsub")
            finally:
                await node.aclose()
        await wait_for(lambda: bool(resyncs), timeout=10)
        await wait_for(lambda: b.healthy)
        await b.publish("t:x", b"after")
        await wait_for(lambda: got == [("t:x", b"after")])
    finally:
        await b.stop()


def plain_subscriber(port: int, command: str, name: str) -> socket.socket:
    """A subscriber of its own on a blocking socket (RESP by hand: it must not need our event loop)."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    parts = [command.encode(), name.encode()]
    sock.sendall(b"*%d\r\n" % len(parts) + b"".join(b"$%d\r\n%s\r\n" % (len(p), p) for p in parts))
    confirmed = b""
    while name.encode() not in confirmed or not confirmed.endswith(b"\r\n:1\r\n"):
        confirmed += sock.recv(4096)
    return sock


@pytest.mark.parametrize("kind", ["redis", "cluster"])
async def test_a_publish_is_written_before_the_loop_runs_what_was_queued_after_it(
    kind: str, request: pytest.FixtureRequest
) -> None:
    """The hub queues its own sockets' fan-out right behind the sender task's wake-up (hub.publish_event): the other
    processes' copy must leave in that task's first step, not a loop turn later (a socket timeout made redis-py write
    from a task of its own, so every other process waited for this one's local fan-out). The callback queued after
    the publish blocks the loop and reads a plain subscriber: the message is there only if it was already written."""
    if kind == "cluster":
        cluster = request.getfixturevalue("redis_cluster")
        b, prefix = broker_for(cluster.url, "order:"), "order:"
        name = shard_channel(prefix, "t:ticket:1")
        sock = plain_subscriber(await cluster.owner(name), "SSUBSCRIBE", name)
    else:
        url, prefix = request.getfixturevalue("redis_url")
        b = broker_for(url, prefix + "order:")
        sock = plain_subscriber(int(url.rsplit(":", 1)[1].split("/")[0]), "SUBSCRIBE", prefix + "order:t:ticket:1")
    await started(b)
    try:
        for warm in range(2):  # the publishing connection is open: only a write remains
            await b.publish_many([("t:ticket:1", b"warm%d" % warm)])
        seen = b""
        while seen.count(b"warm") < 2:
            seen += sock.recv(4096)
        arrived: list[bytes] = []

        def blocking_read() -> None:
            sock.settimeout(2)
            try:
                arrived.append(sock.recv(4096))
            except TimeoutError:
                arrived.append(b"")

        publishing = asyncio.create_task(b.publish_many([("t:ticket:1", b"first")]))
        asyncio.get_running_loop().call_soon(blocking_read)
        await publishing
        assert b"first" in arrived[0], "the PUBLISH was not written in the publishing task's first step"
    finally:
        sock.close()
        await b.stop()


class FreezableProxy:
    """A TCP hop to Redis that can stop passing what clients send (a Redis that hangs, seen from our side)."""

    def __init__(self, port: int) -> None:
        self.target, self.frozen, self.port = port, False, 0
        self.server: asyncio.Server | None = None
        self.writers: list[asyncio.StreamWriter] = []

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target)
        self.writers += [writer, up_writer]

        async def pump(src: asyncio.StreamReader, dst: asyncio.StreamWriter, upstream: bool) -> None:
            while data := await src.read(65536):
                if not (upstream and self.frozen):
                    dst.write(data)

        await asyncio.gather(pump(reader, up_writer, True), pump(up_reader, writer, False), return_exceptions=True)
        for w in (writer, up_writer):
            w.close()

    async def stop(self) -> None:
        assert self.server is not None
        self.server.close()
        for writer in self.writers:
            writer.close()


async def test_a_publish_to_a_redis_that_hangs_fails_in_time(
    redis_url: tuple[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """No socket timeout on the publishing connection: the whole round trip has a deadline instead, and a Redis
    that takes the PUBLISH and never answers fails the publish then (the hub marks its tickets for a resync)."""
    from livesupport.realtime.brokers import redis as redis_broker

    monkeypatch.setattr(redis_broker, "PUBLISH_TIMEOUT", 0.5)
    url, prefix = redis_url
    proxy = FreezableProxy(int(url.rsplit(":", 1)[1].split("/")[0]))
    await proxy.start()
    b = broker_for(f"redis://127.0.0.1:{proxy.port}/{url.rsplit('/', 1)[1]}", prefix + "hang:")
    got, _ = await started(b)
    try:
        await b.subscribe("t:ticket:1")
        await b.publish_many([("t:ticket:1", b"before")])
        await wait_for(lambda: got == [("t:ticket:1", b"before")])
        proxy.frozen = True
        with pytest.raises(BrokerError):
            await asyncio.wait_for(b.publish_many([("t:ticket:1", b"lost")]), 5)
        with pytest.raises(BrokerError):
            await asyncio.wait_for(b.publish("t:ticket:1", b"lost too"), 5)
        proxy.frozen = False
        await b.publish_many([("t:ticket:1", b"after")])  # a new connection: nothing stale is read as its answer
        await wait_for(lambda: got[-1] == ("t:ticket:1", b"after"))
        assert b"lost" not in b"".join(data for _, data in got)
    finally:
        await b.stop()
        await proxy.stop()


async def test_a_publish_to_a_cluster_master_that_hangs_fails_in_time(
    redis_cluster, monkeypatch: pytest.MonkeyPatch  # noqa: ANN001
) -> None:
    """Redis Cluster too: the master of the ticket's slot stops answering (SIGSTOP: its sockets stay open) while a
    publish waits for it. The publish fails at its deadline, not when the node comes back; the broker relinks and
    publishes again once the cluster is whole (its replica took over, or the node came back)."""
    from livesupport.realtime.brokers import cluster as cluster_broker

    monkeypatch.setattr(cluster_broker, "PUBLISH_TIMEOUT", 0.5)
    b = broker_for(redis_cluster.url, "hang:")
    got, _ = await started(b)
    try:
        await b.subscribe("t:ticket:1")
        await b.publish_many([("t:ticket:1", b"before")])
        await wait_for(lambda: got == [("t:ticket:1", b"before")])
        owner = await redis_cluster.owner(shard_channel("hang:", "t:ticket:1"))
        redis_cluster.pause(owner)
        try:
            with pytest.raises(BrokerError):
                await asyncio.wait_for(b.publish_many([("t:ticket:1", b"lost")]), 5)
        finally:
            redis_cluster.resume(owner)
        await redis_cluster.wait_whole()
        for n in range(150):  # until the broker has relinked, a publish may reach no subscriber: publish again
            if any(data.startswith(b"after") for _, data in got):
                break
            if b.healthy:
                with contextlib.suppress(BrokerError):
                    await b.publish_many([("t:ticket:1", b"after%d" % n)])
            await asyncio.sleep(0.1)
        else:
            raise AssertionError(f"nothing published after the hang arrived: {got}")
        # ("lost" may arrive too: the paused node still holds it in its socket, and answers it when it goes on.)
    finally:
        await b.stop()
