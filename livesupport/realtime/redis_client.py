"""Redis clients from a URL: a plain server (redis://, rediss://, unix://) or a Sentinel-watched master.

`redis+sentinel://[:password@]host1:26379,host2:26379/<service>/<db>` asks the Sentinels where the
master of <service> is, and asks again after a failover (our connections drop, we reconnect and resync).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote

import redis.asyncio as aioredis

SENTINEL = "redis+sentinel://"


def redis_from_url(url: str, **kwargs: Any) -> aioredis.Redis:
    if not url.startswith(SENTINEL):
        return aioredis.Redis.from_url(url, **kwargs)
    from redis.asyncio.sentinel import Sentinel

    rest = url[len(SENTINEL):]
    password = None
    if "@" in rest:
        auth, rest = rest.rsplit("@", 1)
        password = unquote(auth.split(":", 1)[1] if ":" in auth else auth) or None
    hosts, _, path = rest.partition("/")
    service, _, db = path.partition("/")
    if not service:
        raise ValueError("redis+sentinel:// URLs name the service: redis+sentinel://host:26379/mymaster/0")
    nodes = [(h.rsplit(":", 1)[0], int(h.rsplit(":", 1)[1]) if ":" in h else 26379) for h in hosts.split(",")]
    sentinel = Sentinel(nodes, socket_timeout=kwargs.get("socket_connect_timeout", 2))
    return sentinel.master_for(service, db=int(db or 0), password=password, **kwargs)


def safe_url(url: str) -> str:
    """The URL without its password, for logs and the health endpoint."""
    if "@" in url:
        scheme, rest = url.split("://", 1)
        return f"{scheme}://***@{rest.rsplit('@', 1)[1]}"
    return url
