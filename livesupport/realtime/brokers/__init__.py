"""Brokers carry frames between server processes; the backend is chosen by URL."""

from __future__ import annotations

from livesupport.realtime.brokers.base import Broker


def broker_for(url: str | None, prefix: str = "livesupport:", name: str = "") -> Broker:
    if not url or url.startswith("memory://"):
        from livesupport.realtime.brokers.memory import MemoryBroker

        return MemoryBroker()
    if url.startswith("redis+cluster://"):
        from livesupport.realtime.brokers.cluster import ClusterBroker

        return ClusterBroker(url, prefix, name)
    if url.startswith(("redis://", "rediss://", "unix://", "redis+sentinel://")):
        from livesupport.realtime.brokers.redis import RedisBroker

        return RedisBroker(url, prefix, name)
    raise ValueError(f"No broker for {url.split(':', 1)[0]!r} URLs; use redis://, redis+sentinel://, redis+cluster:// or leave REDIS_URL unset.")
