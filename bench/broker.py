"""Messages through the broker: one Redis against a local Redis Cluster (3 masters + 3 replicas), sharded pub/sub.

    .venv/bin/python bench/broker.py [--messages 20000] [--tickets 200] [--listeners 2]

One publisher broker sends `--messages` events round-robin over `--tickets` ticket channels in batches of 100
(as the hub's sender does); `--listeners` subscriber brokers (standing in for other server processes) listen to
every ticket. Measured per backend: messages/s until every listener has every message (this one Python process
is the ceiling here, not Redis), and the Redis CPU (user+sys, from INFO cpu; summed over the masters for the
cluster, less what they burn idle) per message published, which is what decides when one Redis is outgrown. Every Redis is the run's own,
on free loopback ports (never 6379), removed at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import redis.asyncio as aioredis

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from livesupport.realtime.brokers import broker_for  # noqa: E402
from tests.redis_cluster import LocalCluster, cluster_ports  # noqa: E402


async def redis_cpu(ports: list[int]) -> float:
    total = 0.0
    for port in ports:
        client = aioredis.Redis(port=port)
        try:
            info = await client.info("cpu")
            total += float(info["used_cpu_user"]) + float(info["used_cpu_sys"])
        finally:
            await client.aclose()
    return total


async def measure(url: str, masters: list[int], args: argparse.Namespace) -> dict[str, float]:
    async def nothing() -> None: ...

    counts = [0] * args.listeners
    listeners = [broker_for(url, "bench:", f"l{i}") for i in range(args.listeners)]
    for i, b in enumerate(listeners):
        await b.start(lambda ch, data, i=i: counts.__setitem__(i, counts[i] + 1), nothing)
    pub = broker_for(url, "bench:", "pub")
    await pub.start(lambda ch, data: None, nothing)
    while not all(b.healthy for b in [*listeners, pub]):
        await asyncio.sleep(0.05)
    channels = [f"t:ticket:{t}" for t in range(args.tickets)]
    for b in listeners:
        for ch in channels:
            await b.subscribe(ch)
    body = b"E|bench|" + b"x" * 100
    idle0, i0 = await redis_cpu(masters), time.perf_counter()  # what the servers burn doing nothing (cluster cron,
    await asyncio.sleep(2)                                       # bus pings, replication): subtracted below
    idle_rate = (await redis_cpu(masters) - idle0) / (time.perf_counter() - i0)
    cpu0, t0 = await redis_cpu(masters), time.perf_counter()
    for start in range(0, args.messages, 100):
        await pub.publish_many([(channels[n % len(channels)], body) for n in range(start, min(start + 100, args.messages))])
    while min(counts) < args.messages:
        await asyncio.sleep(0.005)
    elapsed = time.perf_counter() - t0
    cpu = max(0.0, await redis_cpu(masters) - cpu0 - idle_rate * elapsed)
    for b in [*listeners, pub]:
        await b.stop()
    return {"msg_per_s": args.messages / elapsed, "redis_cpu_us_per_msg": cpu / args.messages * 1e6}


async def main(args: argparse.Namespace) -> None:
    home = Path(tempfile.mkdtemp(prefix="livesupport-bench-redis-"))
    port = cluster_ports(1)[0]
    single = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                               "--appendonly", "no", "--dir", str(home)], stdout=subprocess.DEVNULL)
    cluster = LocalCluster()
    try:
        cluster.start()
        await asyncio.sleep(0.5)
        masters = [p for p in cluster.ports if (await aioredis.Redis(port=p).info("replication"))["role"] == "master"]
        rows = []
        for run in range(args.runs):  # interleaved, so that a busy moment of the machine hits both
            rows.append(("one Redis", run, await measure(f"redis://127.0.0.1:{port}/0", [port], args)))
            rows.append(("cluster (3 masters)", run, await measure(cluster.url, masters, args)))
        print(f"{args.messages} messages over {args.tickets} tickets, {args.listeners} listening processes\n")
        print("| backend | run | messages/s (end to end) | Redis CPU µs per message |\n|---|---|---|---|")
        for name, run, r in rows:
            print(f"| {name} | {run + 1} | {r['msg_per_s']:,.0f} | {r['redis_cpu_us_per_msg']:.1f} |")
    finally:
        single.kill()
        cluster.stop()
        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--messages", type=int, default=20000)
    p.add_argument("--tickets", type=int, default=200)
    p.add_argument("--listeners", type=int, default=2)
    p.add_argument("--runs", type=int, default=3)
    asyncio.run(main(p.parse_args()))
