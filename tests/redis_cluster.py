"""A real Redis Cluster of the test's own: three masters with a replica each, on free loopback ports.

Each node also listens on its port + 10000 (the cluster bus), so ports are chosen at most 55000 with both
free. The machine's Redis (6379) is never touched. Everything lives in a temporary folder removed after.
"""

from __future__ import annotations

import asyncio
import random
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import redis.asyncio as aioredis

NODE_TIMEOUT_MS = 1000  # how long a master may be silent before its replica is promoted


def _free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def cluster_ports(count: int) -> list[int]:
    """`count` ports whose bus ports (+10000) are free too; none is 6379 or above 55000."""
    ports: list[int] = []
    while len(ports) < count:
        port = random.randint(20000, 45000)  # noqa: S311 - not a secret
        if port not in ports and port + 10000 not in ports and port != 6379 and _free(port) and _free(port + 10000):
            ports.append(port)
    return ports


def redis_server_7() -> None:
    """Fail (in CI) or skip unless redis-server 7 or newer is installed: sharded pub/sub came with 7."""
    from tests.conftest import unavailable

    if shutil.which("redis-server") is None or shutil.which("redis-cli") is None:
        unavailable("redis-server and redis-cli (for a local Redis Cluster; `make test` installs them)")
    out = subprocess.run(["redis-server", "--version"], capture_output=True, text=True, check=False).stdout
    found = re.search(r"v=(\d+)\.", out)
    if not found or int(found.group(1)) < 7:
        unavailable(f"redis-server 7 or newer (sharded pub/sub), not {out.strip()!r}")


class LocalCluster:
    def __init__(self, masters: int = 3, replicas: int = 1) -> None:
        self.masters, self.replicas = masters, replicas
        self.dir = Path(tempfile.mkdtemp(prefix="livesupport-cluster-"))
        self.ports = cluster_ports(masters * (1 + replicas))
        self.procs: dict[int, subprocess.Popen[bytes]] = {}
        self.url = "redis+cluster://" + ",".join(f"127.0.0.1:{p}" for p in self.ports)

    def node(self, port: int) -> aioredis.Redis:
        return aioredis.Redis(port=port, socket_connect_timeout=2, socket_timeout=5)

    def _spawn(self, port: int) -> None:
        home = self.dir / str(port)
        home.mkdir(exist_ok=True)
        self.procs[port] = subprocess.Popen(
            ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--cluster-enabled", "yes",
             "--cluster-config-file", "nodes.conf", "--cluster-node-timeout", str(NODE_TIMEOUT_MS),
             "--save", "", "--appendonly", "no", "--dir", str(home), "--loglevel", "warning"],
            stdout=subprocess.DEVNULL, stderr=(home / "stderr").open("wb"),
        )

    def start(self) -> None:
        """Start the nodes, join them into a cluster, and wait until it serves every slot with its replicas synced
        (synchronous, so that fixtures of any kind can call it)."""
        for port in self.ports:
            self._spawn(port)
        for port in self.ports:
            self._until(port, lambda info: True, "redis-server to start")
        done = subprocess.run(
            ["redis-cli", "--cluster", "create", *[f"127.0.0.1:{p}" for p in self.ports],
             "--cluster-replicas", str(self.replicas), "--cluster-yes"],
            capture_output=True, text=True, check=False, timeout=60,
        )
        if done.returncode != 0:
            raise RuntimeError(f"redis-cli --cluster create failed: {(done.stdout + done.stderr)[-2000:]}")
        total = len(self.ports)
        for port in self.ports:
            self._until(port, lambda info: info.get("cluster_state") == "ok"
                        and info.get("cluster_known_nodes") == str(total)
                        and info.get("cluster_slots_ok") == "16384", "the cluster to form")
        for port in self.ports:  # every replica has its master's data: it may be promoted
            self._until(port, lambda info: info.get("role") == "master" or info.get("master_link_status") == "up",
                        "the replica to catch up", "INFO", "replication")

    def _until(self, port: int, ok, what: str, *command: str, timeout: float = 30) -> None:  # noqa: ANN001
        import redis

        deadline = time.monotonic() + timeout
        client = redis.Redis(port=port, socket_connect_timeout=2, socket_timeout=5)
        try:
            while True:
                try:
                    raw = client.execute_command(*(command or ("CLUSTER", "INFO")))
                    if isinstance(raw, dict):  # INFO comes parsed
                        info = {k: str(v) for k, v in raw.items()}
                    else:
                        text = raw.decode() if isinstance(raw, bytes) else str(raw)
                        info = dict(line.split(":", 1) for line in text.split() if ":" in line)
                    if ok(info):
                        return
                except redis.RedisError:
                    pass  # not up yet
                if time.monotonic() > deadline:
                    raise RuntimeError(f"timed out waiting for {what} on port {port}")
                time.sleep(0.05)
        finally:
            client.close()

    async def owner(self, key: str) -> int:
        """The port of the master that owns `key`'s slot now (asked of a live node)."""
        for port in self.ports:
            if self.procs[port].poll() is not None:
                continue
            client = self.node(port)
            try:
                slot = int(await client.execute_command("CLUSTER", "KEYSLOT", key))
                for start, end, master, *_ in await client.execute_command("CLUSTER", "SLOTS"):
                    if int(start) <= slot <= int(end):
                        return int(master[1])
            except Exception:  # noqa: BLE001, S112 - try the next node
                continue
            finally:
                await client.aclose()
        raise RuntimeError("no live node answers")

    async def kill_owner(self, key: str) -> int:
        """SIGKILL the master of `key`'s slot; returns its port."""
        port = await self.owner(key)
        self.procs[port].kill()
        self.procs[port].wait(10)
        return port

    async def wait_failover(self, key: str, dead: int, timeout: float = 30) -> int:
        """Until a replica has taken over `key`'s slot from the dead master and the cluster is whole again."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            try:
                port = await self.owner(key)
                if port != dead and await self._state_ok(port):
                    return port
            except RuntimeError:
                pass
            if loop.time() > deadline:
                raise AssertionError(f"no replica took over from the master on {dead}")
            await asyncio.sleep(0.1)

    async def _ask(self, port: int, *command: str | int, asking: bool = False) -> object:
        """One command to the node at `port`; with `asking`, preceded by ASKING (for a slot it is importing)."""
        client = self.node(port)
        try:
            if not asking:
                return await client.execute_command(*command)
            async with client.pipeline(transaction=False) as p:  # one connection: ASKING holds for the next command
                p.execute_command("ASKING")
                p.execute_command(*command)
                return (await p.execute())[1]
        finally:
            await client.aclose()

    async def master_ports(self) -> list[int]:
        """The ports of the masters that serve slots now."""
        ports = set()
        for _, _, master, *_ in await self._ask(await self.owner("any"), "CLUSTER", "SLOTS"):  # type: ignore[misc]
            ports.add(int(master[1]))
        return sorted(ports)

    async def begin_slot_move(self, key: str) -> tuple[int, int, int]:
        """Start moving `key`'s slot to another master, as `redis-cli --cluster reshard` does: the target IMPORTING,
        the owner MIGRATING, every key of the slot MIGRATEd. The owner still serves the slot's shard channels
        until `end_slot_move`. Returns (slot, from port, to port)."""
        source = await self.owner(key)
        target = next(port for port in await self.master_ports() if port != source)
        slot = int(await self._ask(source, "CLUSTER", "KEYSLOT", key))  # type: ignore[call-overload]
        await self._ask(target, "CLUSTER", "SETSLOT", slot, "IMPORTING", await self._id(source))
        await self._ask(source, "CLUSTER", "SETSLOT", slot, "MIGRATING", await self._id(target))
        await self.migrate_keys(slot, source, target)
        return slot, source, target

    async def migrate_keys(self, slot: int, source: int, target: int) -> None:
        """MIGRATE what `source` still holds of `slot` to `target` (keys written meanwhile are redirected with ASK)."""
        while keys := await self._ask(source, "CLUSTER", "GETKEYSINSLOT", slot, 100):
            await self._ask(source, "MIGRATE", "127.0.0.1", target, "", 0, 5000, "KEYS", *keys)  # type: ignore[misc]

    async def end_slot_move(self, slot: int, source: int, target: int) -> None:
        """Hand `slot` to `target` on every master, the target first: the source then drops the slot's shard
        subscribers (Redis 7 sends them SUNSUBSCRIBE)."""
        await self.migrate_keys(slot, source, target)
        target_id = await self._id(target)
        others = [port for port in await self.master_ports() if port not in (source, target)]
        for port in (target, source, *others):
            await self._ask(port, "CLUSTER", "SETSLOT", slot, "NODE", target_id)

    async def _id(self, port: int) -> str:
        raw = await self._ask(port, "CLUSTER", "MYID")
        return raw.decode() if isinstance(raw, bytes) else str(raw)

    def pause(self, port: int) -> None:
        """SIGSTOP the node: its sockets stay open and take what is sent, and nothing is answered (a node that
        hangs). Past NODE_TIMEOUT_MS its replica takes over."""
        self.procs[port].send_signal(signal.SIGSTOP)

    def resume(self, port: int) -> None:
        self.procs[port].send_signal(signal.SIGCONT)

    async def wait_whole(self, timeout: float = 30) -> None:
        """Until every node says the cluster is ok (a paused or restarted node has rejoined)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        for port in self.ports:
            while not await self._state_ok(port):
                if loop.time() > deadline:
                    raise AssertionError(f"the node on {port} does not see the cluster whole")
                await asyncio.sleep(0.1)

    async def _state_ok(self, port: int) -> bool:
        client = self.node(port)
        try:
            raw = await client.execute_command("CLUSTER", "INFO")
            return b"cluster_state:ok" in (raw if isinstance(raw, bytes) else str(raw).encode())
        finally:
            await client.aclose()

    def stop(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.kill()
                proc.wait(10)
        shutil.rmtree(self.dir, ignore_errors=True)


@contextmanager
def local_cluster() -> Iterator[LocalCluster]:
    redis_server_7()
    cluster = LocalCluster()
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.stop()
