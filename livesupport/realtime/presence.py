"""Who is on a topic, across processes.

Each process writes its own members of a topic into one Redis hash per topic
(field `<origin>:<user id>`) and keeps a liveness key alive; fields of a process
whose liveness key expired are dropped by whoever reads them. Without Redis the
local view is the whole view. The hash's key carries the topic as its hash tag
(`presence:{ticket:12}`): on Redis Cluster it lives in the slot of the ticket's
shard channel. Nothing here spans two slots in one command (no MULTI, no MGET).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, cast

import orjson

log = logging.getLogger("livesupport.presence")

Member = dict[str, Any]
RANK = {"working": 2, "typing": 1, "viewing": 0}


def merge(views: list[dict[int, Member]]) -> list[Member]:
    """One entry per user (tabs and processes fold into one), the busiest state winning."""
    out: dict[int, Member] = {}
    for view in views:
        for uid, member in view.items():
            seen = out.get(uid)
            if seen is None or RANK[member["state"]] > RANK[seen["state"]]:
                out[uid] = member
    return sorted(out.values(), key=lambda m: (-RANK[m["state"]], m["name"], m["id"]))


class MemoryPresence:
    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def put(self, topic: str, local: dict[int, Member]) -> None: ...

    async def get(self, topic: str, local: dict[int, Member]) -> list[Member]:
        return merge([local])

    async def get_many(self, topics: list[str]) -> list[list[Member]]:
        return [[] for _ in topics]  # one process: what it does not hold locally, nobody holds


class RedisPresence:
    def __init__(self, url: str, prefix: str, origin: str, ttl: float) -> None:
        from livesupport.realtime.redis_client import CLUSTER, cluster_from_url, redis_from_url

        self._cluster = url.startswith(CLUSTER)
        self._r: Any = (cluster_from_url if self._cluster else redis_from_url)(
            url, socket_connect_timeout=2, socket_timeout=5)
        self.prefix, self.origin, self.ttl = prefix, origin, ttl
        self._alive_key = f"{prefix}proc:{origin}"
        self._written: dict[str, set[int]] = {}
        self._task: asyncio.Task[None] | None = None

    def _key(self, topic: str) -> str:
        return f"{self.prefix}presence:{{{topic}}}"

    async def start(self) -> None:
        self._task = asyncio.create_task(self._heartbeat(), name="presence-heartbeat")

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        try:  # leave no ghosts behind on a clean shutdown
            async with self._r.pipeline(transaction=False) as p:
                for topic, uids in self._written.items():
                    if uids:
                        p.hdel(self._key(topic), *[f"{self.origin}:{u}" for u in uids])
                p.delete(self._alive_key)
                await p.execute()
        except Exception as exc:  # noqa: BLE001
            log.warning("could not clear presence on shutdown: %s", exc)
        await self._r.aclose()

    async def _heartbeat(self) -> None:
        while True:
            try:
                await self._r.set(self._alive_key, b"1", px=int(self.ttl * 1000 * 2 / 3))
            except Exception as exc:  # noqa: BLE001
                log.warning("presence heartbeat failed: %s", exc)
            await asyncio.sleep(self.ttl / 6)

    async def put(self, topic: str, local: dict[int, Member]) -> None:
        before = self._written.get(topic, set())
        gone = before - local.keys()
        key = self._key(topic)
        # One round trip; atomic on a single Redis. On a cluster the two keys live in different slots, which no
        # transaction spans, so the members are added before the leavers are removed: a reader in between sees
        # someone twice (folded by user), never nobody.
        async with self._r.pipeline(transaction=not self._cluster) as p:
            if local:
                p.hset(key, mapping={f"{self.origin}:{u}": orjson.dumps(m) for u, m in local.items()})
                p.pexpire(key, int(self.ttl * 4000))
            if gone:
                p.hdel(key, *[f"{self.origin}:{u}" for u in gone])
            p.set(self._alive_key, b"1", px=int(self.ttl * 1000 * 2 / 3))
            await p.execute()
        if local:
            self._written[topic] = set(local)
        else:
            self._written.pop(topic, None)

    async def get(self, topic: str, local: dict[int, Member]) -> list[Member]:
        return (await self._read([topic], [local]))[0]

    async def get_many(self, topics: list[str]) -> list[list[Member]]:
        """Who is on each of these topics (held by other processes): one round trip for the lot, not one each."""
        return await self._read(topics, [{} for _ in topics])

    async def _read(self, topics: list[str], locals_: list[dict[int, Member]]) -> list[list[Member]]:
        keys = [self._key(t) for t in topics]
        async with self._r.pipeline(transaction=False) as p:
            for key in keys:
                p.hgetall(key)
            raws = cast(list[dict[bytes, bytes]], await p.execute())
        views: list[dict[str, dict[int, Member]]] = []
        for raw in raws:
            by_origin: dict[str, dict[int, Member]] = {}
            for field, value in raw.items():
                origin, _, uid = field.decode().rpartition(":")
                if origin != self.origin:
                    by_origin.setdefault(origin, {})[int(uid)] = orjson.loads(value)
            views.append(by_origin)
        origins = sorted({o for view in views for o in view})
        if origins:
            async with self._r.pipeline(transaction=False) as p:  # not MGET: on a cluster the keys span slots
                for o in origins:
                    p.exists(f"{self.prefix}proc:{o}")
                alive = await p.execute()
            dead = {o for o, a in zip(origins, alive, strict=True) if not a}
            if dead:
                async with self._r.pipeline(transaction=False) as p:
                    for key, view in zip(keys, views, strict=True):
                        fields = [f"{o}:{u}" for o in dead if o in view for u in view.pop(o)]
                        if fields:
                            p.hdel(key, *fields)
                    await p.execute()
        return [merge([local, *view.values()]) for local, view in zip(locals_, views, strict=True)]
