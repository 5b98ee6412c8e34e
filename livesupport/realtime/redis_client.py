"""Redis clients from a URL: a plain server (redis://, rediss://, unix://), a Sentinel-watched master, or a cluster.

`redis+sentinel://[:password@]host1:26379,host2:26379/<service>/<db>` asks the Sentinels where the
master of <service> is, and asks again after a failover (our connections drop, we reconnect and resync).
`redis+cluster://[:password@]host1:7000,host2:7001,...` names some nodes of a Redis Cluster (any of them
will do to find the rest); keys and shard channels go to the master that owns their slot.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote

import redis.asyncio as aioredis
from redis.asyncio.cluster import ClusterNode, RedisCluster

SENTINEL = "redis+sentinel://"
CLUSTER = "redis+cluster://"


def redis_from_url(url: str, **kwargs: Any) -> aioredis.Redis:
    if url.startswith(CLUSTER):
        raise ValueError("a redis+cluster:// URL needs cluster_from_url")
    if not url.startswith(SENTINEL):
        return aioredis.Redis.from_url(url, **kwargs)
    from redis.asyncio.sentinel import Sentinel

    password, hosts, path = _hosts(url[len(SENTINEL):], 26379)
    service, _, db = path.partition("/")
    if not service:
        raise ValueError("redis+sentinel:// URLs name the service: redis+sentinel://host:26379/mymaster/0")
    sentinel = Sentinel(hosts, socket_timeout=kwargs.get("socket_connect_timeout", 2))
    return sentinel.master_for(service, db=int(db or 0), password=password, **kwargs)


def cluster_from_url(url: str, **kwargs: Any) -> RedisCluster:
    """A cluster client that learns the slot map from the nodes named (it is fetched on first use)."""
    password, hosts, path = cluster_nodes(url)
    if path.strip("/") not in ("", "0"):
        raise ValueError("Redis Cluster has only database 0: use redis+cluster://host1:7000,host2:7001")
    return RedisCluster(startup_nodes=[ClusterNode(h, p) for h, p in hosts], password=password, **kwargs)


def cluster_nodes(url: str) -> tuple[str | None, list[tuple[str, int]], str]:
    """(password, [(host, port)...], the rest of the path) of a redis+cluster:// URL."""
    if not url.startswith(CLUSTER):
        raise ValueError(f"not a redis+cluster:// URL: {safe_url(url)}")
    return _hosts(url[len(CLUSTER):], 6379)


def _hosts(rest: str, default_port: int) -> tuple[str | None, list[tuple[str, int]], str]:
    password = None
    if "@" in rest:
        auth, rest = rest.rsplit("@", 1)
        password = unquote(auth.split(":", 1)[1] if ":" in auth else auth) or None
    hosts, _, path = rest.partition("/")
    nodes = []
    for h in hosts.split(","):
        host, _, port = h.rpartition(":") if ":" in h else (h, "", "")
        try:
            nodes.append((host, int(port) if port else default_port))
        except ValueError:
            raise ValueError(f"{h!r} is not host:port in the Redis URL") from None
    if not nodes or not all(host for host, _ in nodes):
        raise ValueError("the Redis URL names no host")
    return password, nodes, path


def safe_url(url: str) -> str:
    """The URL without its password, for logs and the health endpoint."""
    if "@" in url:
        scheme, rest = url.split("://", 1)
        return f"{scheme}://***@{rest.rsplit('@', 1)[1]}"
    return url
