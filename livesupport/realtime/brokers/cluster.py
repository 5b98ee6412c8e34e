"""Redis Cluster with sharded pub/sub: a ticket's traffic touches only the master that owns its slot.

Channels are shard channels (SPUBLISH/SSUBSCRIBE, Redis 7) whose names carry a hash tag: `t:ticket:12`
travels as `<prefix>t:{ticket:12}`, in the same slot as the ticket's presence key `<prefix>presence:{ticket:12}`.

The subscriber side holds one link to every master, each with a control channel of its own that lives in
one of that master's slots. The broker is healthy only while every link is up, so a publish never waits on a
dead master. Sharded pub/sub is at-most-once like plain pub/sub, and redis-py's ClusterPubSub would move
subscriptions to a new master silently, hiding what was lost meanwhile. So here nothing reconnects quietly:
a link that breaks (a master killed, a failover), a subscription the server drops (its slot moved to another
master: Redis sends SUNSUBSCRIBE), or a failed publish marks the broker down; it then re-reads the slot map,
links to every master again and awaits `on_resync`, which fetches from the database what may have been missed.
"""

from __future__ import annotations

import asyncio
import logging
import os
from typing import Any

import redis.asyncio as aioredis
from redis.asyncio.cluster import ClusterNode
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff, NoBackoff
from redis.exceptions import RedisError

from livesupport import metrics
from livesupport.realtime.brokers.base import BrokerError, OnMessage, OnResync
from livesupport.realtime.redis_client import cluster_from_url, cluster_nodes, safe_url

log = logging.getLogger("livesupport.broker")

SUBSCRIBE_TIMEOUT = 5.0
PUBLISH_TIMEOUT = 5.0  # a whole SPUBLISH (or pipeline) round trip
SLOTS = 16384


def shard_channel(prefix: str, channel: str) -> str:
    """The cluster name of a hub channel: what follows the kind is the hash tag (`t:ticket:12` → `t:{ticket:12}`)."""
    kind, sep, rest = channel.partition(":")
    return f"{prefix}{kind}:{{{rest}}}" if sep and rest else f"{prefix}{{{channel}}}"


class _Link:
    """A subscriber connection to one master, never reconnected underneath us."""

    def __init__(self, node: ClusterNode, client: aioredis.Redis, control: bytes) -> None:
        self.node, self.client, self.control = node, client, control
        self.pubsub = client.pubsub()
        self.up = asyncio.Event()

    async def close(self) -> None:
        for closing in (self.pubsub.aclose, self.client.aclose):
            try:
                await closing()
            except Exception:  # noqa: BLE001, S110 - the link is already broken
                pass


class ClusterBroker:
    def __init__(self, url: str, prefix: str = "livesupport:", name: str = "") -> None:
        self.url = url
        self.prefix = prefix
        self.healthy = False
        self.connected = asyncio.Event()
        self.status = "connecting to Redis Cluster"
        self._password = cluster_nodes(url)[0]
        self._label = f"livesupport-{name or os.getpid()}"
        self._control_base = f"{prefix}ctl:{os.getpid()}:{id(self):x}"
        # Publishing may retry (MOVED and failovers are followed): a message arriving twice is dropped by seq. No
        # socket timeout, as in brokers/redis.py (it writes each command a loop turn late): PUBLISH_TIMEOUT and
        # SUBSCRIBE_TIMEOUT bound the round trips instead.
        self._cluster = cluster_from_url(
            url, retry=Retry(ExponentialBackoff(cap=1.0, base=0.05), 3), socket_keepalive=True,
            socket_connect_timeout=2, socket_timeout=None, client_name=self._label + "-pub",
        )
        self._channels: dict[bytes, str] = {}  # cluster name -> hub channel, of what we listen to
        self._leaving: dict[bytes, int] = {}  # SUNSUBSCRIBEs we sent whose confirmation is still to come
        self._waiting: dict[bytes, asyncio.Future[None]] = {}
        self._links: dict[str, _Link] = {}  # master name -> its link, while healthy
        self._broken: asyncio.Future[str] | None = None
        self._task: asyncio.Task[None] | None = None
        self._on_message: OnMessage | None = None
        self._on_resync: OnResync | None = None
        self._resync: asyncio.Future[None] | None = None
        self._tried = asyncio.Event()  # the first attempt to link is over (linked or failed)

    async def start(self, on_message: OnMessage, on_resync: OnResync) -> None:
        self._on_message, self._on_resync = on_message, on_resync
        self._task = asyncio.create_task(self._run(), name="redis-cluster-broker")

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        await self._cluster.aclose()

    # -- subscriptions ---------------------------------------------------------------

    def _link_for(self, name: bytes) -> _Link | None:
        node = self._cluster.nodes_manager.get_node_from_slot(self._cluster.keyslot(name))
        return self._links.get(node.name)

    async def subscribe(self, channel: str) -> None:
        name = shard_channel(self.prefix, channel).encode()
        self._channels[name] = channel
        if not self.healthy and not self._tried.is_set():  # starting: wait for the first link rather than
            try:                                           # open a topic that would miss its first events
                await asyncio.wait_for(self._tried.wait(), SUBSCRIBE_TIMEOUT)
            except TimeoutError:
                return
        link = self._link_for(name) if self.healthy else None
        if link is None:
            if self.healthy:
                self._break(f"no link to the master of {channel}'s slot")
            return  # the next link subscribes everything, then resyncs
        fut = self._waiting.setdefault(name, asyncio.get_running_loop().create_future())
        try:
            await link.pubsub.ssubscribe(name)
            await asyncio.wait_for(asyncio.shield(fut), SUBSCRIBE_TIMEOUT)
        except (RedisError, OSError, TimeoutError) as exc:
            log.warning("subscribe to %s not confirmed (%s); relinking with a resync", channel, exc)
            self._break(f"subscribe to {channel} not confirmed")
        finally:
            if self._waiting.get(name) is fut and fut.done():
                del self._waiting[name]

    async def unsubscribe(self, channel: str) -> None:
        name = shard_channel(self.prefix, channel).encode()
        if self._channels.pop(name, None) is None:
            return
        link = self._link_for(name) if self.healthy else None
        if link is not None:
            self._leaving[name] = self._leaving.get(name, 0) + 1
            try:
                await link.pubsub.sunsubscribe(name)
            except (RedisError, OSError):
                pass  # the link is going down anyway; the next one will not carry it

    # -- publishing ------------------------------------------------------------------

    async def publish(self, channel: str, data: bytes) -> None:
        await self.publish_many([(channel, data)])

    async def publish_many(self, messages: list[tuple[str, bytes]]) -> None:
        if not self.healthy:
            raise BrokerError(self.status)  # fail fast: the events are stored, resync announces them
        try:
            async with asyncio.timeout(PUBLISH_TIMEOUT):
                if len(messages) == 1:
                    channel, data = messages[0]
                    await self._cluster.spublish(shard_channel(self.prefix, channel), data)
                    return
                # The pipeline sends each master its share in one round trip, in order per master (so per ticket).
                async with self._cluster.pipeline() as pipe:
                    for channel, data in messages:
                        pipe.spublish(shard_channel(self.prefix, channel), data)
                    await pipe.execute()
        except (RedisError, OSError) as exc:
            # Some may not have arrived: relink, so that the resync afterwards announces how far tickets got.
            self._break(f"publish failed ({exc.__class__.__name__}: {exc})")
            raise BrokerError(f"Redis Cluster publish failed: {exc}") from exc

    # -- the links -------------------------------------------------------------------

    def _break(self, why: str) -> None:
        if self._broken is not None and not self._broken.done():
            self._broken.set_result(why)

    def _down(self, why: str) -> None:
        metrics.BROKER_UP.set(0)
        if self.healthy or self.status != why:
            log.error("cross-process delivery is DOWN: %s; serving this process's clients only, retrying", why)
        self.healthy = False
        self.connected.clear()
        self.status = why

    async def _run(self) -> None:
        delay = 0.1
        first = True
        while True:
            links: list[_Link] = []
            readers: list[asyncio.Task[None]] = []
            try:
                subscribed = set(self._channels)
                links = await self._connect(subscribed)
                readers = [asyncio.create_task(self._read(link), name=f"cluster-link-{link.node.name}")
                           for link in links]
                ups = [asyncio.ensure_future(link.up.wait()) for link in links]
                done, _ = await asyncio.wait([*readers, *ups], timeout=SUBSCRIBE_TIMEOUT,
                                             return_when=asyncio.FIRST_EXCEPTION)
                for up in ups:
                    up.cancel()
                for task in done:
                    if task in readers:
                        task.result()  # raises what broke it
                if not all(link.up.is_set() for link in links):
                    raise ConnectionError("a master did not confirm our subscriptions in time")
                await self._late(links, subscribed)
                self._broken = asyncio.get_running_loop().create_future()
                self._links = {link.node.name: link for link in links}
                self.healthy = True
                self.connected.set()
                self.status = f"connected to Redis Cluster ({len(links)} masters)"
                self._tried.set()
                metrics.BROKER_UP.set(1)
                delay = 0.1
                if not first:
                    metrics.BROKER_RECONNECTS.inc()
                    log.warning("cross-process delivery is back; fetching what may have been missed")
                    if self._on_resync is not None:
                        self._resync = asyncio.ensure_future(self._on_resync())
                first = False
                watched: list[asyncio.Future[Any]] = [*readers, self._broken]
                ended, _ = await asyncio.wait(watched, return_when=asyncio.FIRST_COMPLETED)
                for fut in ended:
                    if fut is self._broken:
                        raise ConnectionError(self._broken.result())
                    fut.result()
                raise ConnectionError("a cluster link ended")
            except asyncio.CancelledError:
                await self._close(links, readers)
                raise
            except Exception as exc:  # noqa: BLE001 - whatever broke, relink and resync; never stop
                self._down(f"Redis Cluster at {safe_url(self.url)}: {exc.__class__.__name__}: {exc}")
                first = False
                self._tried.set()
                await self._close(links, readers)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 2.0)  # a failover takes a few seconds: look often

    async def _close(self, links: list[_Link], readers: list[asyncio.Task[None]]) -> None:
        self._links = {}
        self._leaving.clear()
        for task in readers:
            task.cancel()
        await asyncio.gather(*readers, return_exceptions=True)
        for link in links:
            await link.close()

    async def _late(self, links: list[_Link], subscribed: set[bytes]) -> None:
        """Subscribe what was asked for while linking (not in `subscribed`), and wait for it, before going healthy."""
        by_name = {link.node.name: link for link in links}
        loop = asyncio.get_running_loop()
        while late := [name for name in self._channels if name not in subscribed]:
            waits = []
            for name in late:
                subscribed.add(name)
                waits.append(self._waiting.setdefault(name, loop.create_future()))
                node = self._cluster.nodes_manager.get_node_from_slot(self._cluster.keyslot(name))
                link = by_name.get(node.name)
                if link is None:
                    raise ConnectionError(f"no link to {node.name}, which now owns a slot")
                await link.pubsub.ssubscribe(name)
            await asyncio.wait_for(asyncio.shield(asyncio.gather(*waits)), SUBSCRIBE_TIMEOUT)

    async def _connect(self, subscribed: set[bytes]) -> list[_Link]:
        """Re-read the slot map, then subscribe on every master: `subscribed` by slot, its control channel last."""
        async with asyncio.timeout(SUBSCRIBE_TIMEOUT):
            if self._cluster._initialize:  # the first time: nodes, and the command table that routes by key
                await self._cluster.initialize()
            else:
                await self._cluster.nodes_manager.initialize()
        slots = self._cluster.nodes_manager.slots_cache
        if len(slots) < SLOTS:
            raise ConnectionError(f"the cluster serves {len(slots)} of {SLOTS} slots")
        links: list[_Link] = []
        try:
            for node in self._cluster.get_primaries():
                client = aioredis.Redis(
                    host=node.host, port=int(node.port), password=self._password, retry=Retry(NoBackoff(), 0),
                    socket_keepalive=True, socket_connect_timeout=2, client_name=self._label + "-sub",
                )
                links.append(_Link(node, client, self._control_for(node).encode()))
            by_node: dict[str, dict[int, list[bytes]]] = {}
            for name in subscribed:
                slot = self._cluster.keyslot(name)
                by_node.setdefault(slots[slot][0].name, {}).setdefault(slot, []).append(name)
            for link in links:
                for names in by_node.get(link.node.name, {}).values():
                    await link.pubsub.ssubscribe(*names)  # one slot per command (CROSSSLOT otherwise)
                await link.pubsub.ssubscribe(link.control)
        except BaseException:
            for link in links:
                await link.close()
            raise
        return links

    def _control_for(self, node: ClusterNode) -> str:
        """A control channel of this process that lives in one of `node`'s slots."""
        slots = self._cluster.nodes_manager.slots_cache
        for i in range(100000):
            name = f"{self._control_base}:{{{i}}}"
            if slots[self._cluster.keyslot(name)][0].name == node.name:
                return name
        raise ConnectionError(f"master {node.name} serves no slot")

    async def _read(self, link: _Link) -> None:
        while True:
            msg: dict[str, Any] | None = await link.pubsub.get_message(timeout=None)
            if msg is None:
                continue
            kind, name = msg["type"], msg["channel"]
            if kind == "smessage":
                channel = self._channels.get(name)
                if channel is not None and self._on_message is not None:
                    self._on_message(channel, msg["data"])
            elif kind == "ssubscribe":
                if name == link.control:
                    link.up.set()
                fut = self._waiting.pop(name, None)
                if fut is not None and not fut.done():
                    fut.set_result(None)
            elif kind == "sunsubscribe":
                left = self._leaving.pop(name, 0)
                if left > 0:
                    if left > 1:
                        self._leaving[name] = left - 1
                    continue
                raise ConnectionError(f"master {link.node.name} dropped our subscriptions (a slot moved)")
