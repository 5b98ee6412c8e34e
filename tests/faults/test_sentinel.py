"""Redis behind Sentinel: the servers find the master through it, and follow a failover without losing events."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import tempfile
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from pathlib import Path

import pytest
import redis.asyncio as aioredis

from tests.conftest import Deployment, token_for, unavailable
from tests.faults.helpers import Watcher, assert_exact, wait_until
from tests.realtime.helpers import open_ticket
from tests.utils import free_port, run_server, ws_client


class SentinelSetup:
    """A master, a replica and one Sentinel, all the test's own, on their own ports."""

    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="livesupport-sentinel-"))
        self.master_port, self.replica_port, self.sentinel_port = free_port(), free_port(), free_port()
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self.url = f"redis+sentinel://127.0.0.1:{self.sentinel_port}/lsmaster/0"

    def _redis(self, name: str, port: int, *extra: str) -> None:
        self.procs[name] = subprocess.Popen(
            ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.dir), "--loglevel", "warning", *extra],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )

    async def start(self) -> None:
        self._redis("master", self.master_port)
        self._redis("replica", self.replica_port, "--replicaof", "127.0.0.1", str(self.master_port))
        conf = self.dir / "sentinel.conf"
        conf.write_text(
            f"port {self.sentinel_port}\nbind 127.0.0.1\n"
            f"sentinel monitor lsmaster 127.0.0.1 {self.master_port} 1\n"
            "sentinel down-after-milliseconds lsmaster 1000\nsentinel failover-timeout lsmaster 5000\n"
        )
        self.procs["sentinel"] = subprocess.Popen(["redis-server", str(conf), "--sentinel"],
                                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        sentinel = aioredis.Redis(port=self.sentinel_port)
        try:
            # Sentinel learns of replicas from the master's INFO, which it reads every 10 s: allow three rounds.
            for _ in range(600):
                try:
                    info = await sentinel.execute_command("SENTINEL", "REPLICAS", "lsmaster")
                    if info:
                        return
                except Exception:  # noqa: BLE001 - not up yet
                    pass
                await asyncio.sleep(0.05)
            raise RuntimeError("sentinel did not see the replica")
        finally:
            await sentinel.aclose()

    async def master_port_now(self) -> int:
        sentinel = aioredis.Redis(port=self.sentinel_port)
        try:
            host, port = await sentinel.execute_command("SENTINEL", "GET-MASTER-ADDR-BY-NAME", "lsmaster")
            return int(port)
        finally:
            await sentinel.aclose()

    def stop(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.kill()
                proc.wait(10)
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture
async def sentinel() -> AsyncIterator[SentinelSetup]:
    if shutil.which("redis-server") is None:
        unavailable("redis-server (for Sentinel)")
    s = SentinelSetup()
    try:
        await s.start()
        yield s
    finally:
        s.stop()


async def test_failover_behind_sentinel_loses_nothing(postgres_deployment: Deployment, sentinel: SentinelSetup) -> None:
    d = postgres_deployment
    env = d.env(REDIS_URL=sentinel.url, WS_RATE="0", CHAT_RATE="0")
    async with run_server(env) as a, run_server(env) as b:
        tid = await open_ticket(a, d, "Failover")
        topic = f"ticket:{tid}"
        async with AsyncExitStack() as stack:
            publisher = await stack.enter_async_context(ws_client(a, await token_for(a, d, "engineer")))
            far = await stack.enter_async_context(ws_client(b, await token_for(b, d, "client")))
            await far.join(topic)
            watcher = Watcher(far)
            task = asyncio.create_task(watcher.run())
            await publisher.join(topic)
            sent = []
            for i in range(300):
                if i == 50:
                    sentinel.procs["master"].kill()  # the master dies; Sentinel promotes the replica
                r = await publisher.request({"type": "chat", "topic": topic, "body": f"f{i}"})
                assert r["ok"], r
                sent.append(r["seq"])
                await asyncio.sleep(0.02)
            for _ in range(200):  # Sentinel notices in a second, then promotes the replica
                if await sentinel.master_port_now() == sentinel.replica_port:
                    break
                await asyncio.sleep(0.1)
            else:
                raise AssertionError("Sentinel did not fail over")
            await wait_until(lambda: len(watcher.seqs) >= len(sent), 30, "every message across the failover")
            await far.close()
            await task
        assert_exact(watcher.seqs, sent, "the client on B")
