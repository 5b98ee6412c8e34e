"""Redis pub/sub between processes, with resync after any link loss.

Redis pub/sub is at-most-once: whatever is published while our subscriber
link is down is gone. So the reader never reconnects silently: any error,
and any repeated subscribe confirmation of our control channel (redis-py can
reconnect underneath us), marks the link unhealthy and, once it is back,
awaits `on_resync`, which fetches what may have been missed from the database.
"""

from __future__ import annotations

import asyncio
import logging
import os

import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff, NoBackoff
from redis.exceptions import RedisError

from livesupport import metrics
from livesupport.realtime.brokers.base import BrokerError, OnMessage, OnResync
from livesupport.realtime.redis_client import redis_from_url, safe_url

log = logging.getLogger("livesupport.broker")

SUBSCRIBE_TIMEOUT = 5.0
PUBLISH_TIMEOUT = 5.0  # a whole PUBLISH (or pipeline) round trip


class RedisBroker:
    def __init__(self, url: str, prefix: str = "livesupport:", name: str = "") -> None:
        self.url = url
        self.prefix = prefix
        self.healthy = False
        self.connected = asyncio.Event()  # set while healthy: a short-lived command waits on it before announcing
        self.status = "connecting to Redis"
        self._control = f"{prefix}ctl:{os.getpid()}:{id(self):x}".encode()
        # Named connections let operators (and the fault tests) tell processes apart in CLIENT LIST.
        label = f"livesupport-{name or os.getpid()}"
        # Publishing may retry: a PUBLISH that reaches Redis twice is deduplicated by seq downstream. No socket
        # timeout (redis-py's default is 5 s): with one, each command is written from a task of its own
        # (`asyncio.wait_for`), a loop turn late, after this process's local fan-out, which then holds up the
        # other processes' copy; PUBLISH_TIMEOUT bounds the whole round trip instead.
        self._pub = redis_from_url(
            url, retry=Retry(ExponentialBackoff(cap=1.0, base=0.05), 3), socket_keepalive=True,
            socket_connect_timeout=2, socket_timeout=None, client_name=label + "-pub",
        )
        # The subscriber must never retry on its own: a silent reconnect would hide lost messages.
        self._sub = redis_from_url(
            url, retry=Retry(NoBackoff(), 0), socket_keepalive=True, socket_connect_timeout=2,
            client_name=label + "-sub",
        )
        self._channels: set[bytes] = set()
        self._waiting: dict[bytes, asyncio.Future[None]] = {}
        self._pubsub: aioredis.client.PubSub | None = None
        self._task: asyncio.Task[None] | None = None
        self._on_message: OnMessage | None = None
        self._on_resync: OnResync | None = None
        self._resync: asyncio.Future[None] | None = None  # held so the task is not collected mid-run

    async def start(self, on_message: OnMessage, on_resync: OnResync) -> None:
        self._on_message, self._on_resync = on_message, on_resync
        self._task = asyncio.create_task(self._run(), name="redis-broker")

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        for client in (self._pub, self._sub):
            await client.aclose()

    async def subscribe(self, channel: str) -> None:
        name = (self.prefix + channel).encode()
        self._channels.add(name)
        pubsub = self._pubsub
        if pubsub is None or not self.healthy:
            return  # the reader subscribes everything when the link is back, then resyncs
        fut = self._waiting.setdefault(name, asyncio.get_running_loop().create_future())
        try:
            await pubsub.subscribe(name)
            await asyncio.wait_for(asyncio.shield(fut), SUBSCRIBE_TIMEOUT)
        except (RedisError, OSError, TimeoutError) as exc:
            log.warning("subscribe to %s not confirmed (%s); it will be retried with a resync", channel, exc)
        finally:
            if self._waiting.get(name) is fut and fut.done():
                del self._waiting[name]

    async def unsubscribe(self, channel: str) -> None:
        name = (self.prefix + channel).encode()
        self._channels.discard(name)
        if self._pubsub is not None and self.healthy:
            try:
                await self._pubsub.unsubscribe(name)
            except (RedisError, OSError):
                pass  # the link is going down anyway; the next one will not carry it

    async def publish(self, channel: str, data: bytes) -> None:
        if not self.healthy:
            # Fail fast: a chat reply must not wait on retries against a Redis that is known to be down.
            raise BrokerError(self.status)
        try:
            async with asyncio.timeout(PUBLISH_TIMEOUT):
                await self._pub.publish(self.prefix + channel, data)
        except (RedisError, OSError) as exc:
            raise BrokerError(f"Redis publish failed: {exc}") from exc

    async def publish_many(self, messages: list[tuple[str, bytes]]) -> None:
        if not self.healthy:
            raise BrokerError(self.status)
        try:
            async with asyncio.timeout(PUBLISH_TIMEOUT), self._pub.pipeline(transaction=False) as pipe:
                for channel, data in messages:
                    pipe.publish(self.prefix + channel, data)
                await pipe.execute()
        except (RedisError, OSError) as exc:
            raise BrokerError(f"Redis publish failed: {exc}") from exc

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
            pubsub = self._sub.pubsub()
            asked = set(self._channels)  # what this link subscribes at once; later ones, once it is up
            try:
                await pubsub.subscribe(self._control, *asked)
                confirmed = False
                while True:
                    msg = await pubsub.get_message(timeout=None)
                    if msg is None:
                        continue
                    kind = msg["type"]
                    if kind == "message":
                        if self._on_message is not None:
                            self._on_message(msg["channel"].decode()[len(self.prefix):], msg["data"])
                    elif kind == "subscribe":
                        name = msg["channel"]
                        if name == self._control:
                            if confirmed:
                                raise ConnectionError("the Redis link was re-established underneath us")
                            confirmed = True
                            self._pubsub = pubsub
                            self.healthy = True
                            self.connected.set()
                            self.status = "connected to Redis"
                            metrics.BROKER_UP.set(1)
                            late = self._channels - asked  # asked for while this link waited for its answer
                            if late:  # (from now on subscribe() subscribes itself: the link is healthy)
                                await pubsub.subscribe(*late)
                            delay = 0.1
                            if not first:
                                metrics.BROKER_RECONNECTS.inc()
                                log.warning("cross-process delivery is back; fetching what may have been missed")
                                if self._on_resync is not None:
                                    self._resync = asyncio.ensure_future(self._on_resync())
                            first = False
                        fut = self._waiting.pop(name, None)
                        if fut is not None and not fut.done():
                            fut.set_result(None)
            except asyncio.CancelledError:
                await _close_quietly(pubsub)
                raise
            except (RedisError, OSError, ConnectionError) as exc:
                self._pubsub = None
                self._down(f"Redis at {safe_url(self.url)} is unreachable ({exc.__class__.__name__}: {exc})")
                first = False
                await _close_quietly(pubsub)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)


async def _close_quietly(pubsub: aioredis.client.PubSub) -> None:
    try:
        await pubsub.aclose()
    except Exception:  # noqa: BLE001 - the link is already broken
        pass

