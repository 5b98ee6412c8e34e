"""Fault fixtures: a Redis server, or a Redis Cluster, of the test's own, that the test may restart, kill or reshard."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import redis.asyncio as aioredis

from tests.conftest import unavailable
from tests.redis_cluster import LocalCluster, local_cluster
from tests.utils import free_port


class OwnRedis:
    """A redis-server this test started; nothing else uses it, so stopping it hurts nobody."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.dir = Path(tempfile.mkdtemp(prefix="livesupport-redis-"))
        self.proc: subprocess.Popen[bytes] | None = None

    async def start(self) -> None:
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.dir), "--loglevel", "warning"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        client = aioredis.Redis.from_url(self.url)
        try:
            for _ in range(100):
                try:
                    await client.ping()
                    return
                except Exception:  # noqa: BLE001 - not up yet
                    await asyncio.sleep(0.05)
            raise RuntimeError("redis-server did not start")
        finally:
            await client.aclose()

    def stop(self, kill: bool = False) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.kill() if kill else self.proc.terminate()
            self.proc.wait(10)
        self.proc = None

    async def restart(self, down_for: float = 0.5) -> None:
        self.stop(kill=True)
        await asyncio.sleep(down_for)
        await self.start()


@pytest.fixture
async def own_redis() -> AsyncIterator[OwnRedis]:
    if shutil.which("redis-server") is None:
        unavailable("redis-server (to start a Redis of the test's own)")
    r = OwnRedis()
    await r.start()
    try:
        yield r
    finally:
        r.stop(kill=True)
        shutil.rmtree(r.dir, ignore_errors=True)


@pytest.fixture
def cluster() -> Iterator[LocalCluster]:
    """A Redis Cluster of the test's own (3 masters with a replica each): it may lose a master or move a slot."""
    with local_cluster() as c:
        yield c
