"""A client that stops reading is cut off with 1013, and the others do not wait for it."""

from __future__ import annotations

import asyncio
import os
import socket
import statistics
import time
from contextlib import AsyncExitStack

import orjson
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from tests.conftest import Deployment, token_for
from tests.faults.helpers import Watcher, metric, wait_until
from tests.realtime.helpers import open_ticket
from tests.utils import Client, Server, run_server, ws_client

WATCHERS = 10
PERF = os.environ.get("LIVESUPPORT_PERF") == "1"  # a performance run (not `make test`): latency ratios are asserted
RATE = 200  # messages per second
PAD = "x" * 9900  # large frames fill the kernel's socket buffers (megabytes) sooner


def p99(values: list[float]) -> float:
    return statistics.quantiles(values, n=100)[98]


async def stalled_reader(srv: Server, token: str, topic: str) -> ClientConnection:
    """A reader that stops reading until asked: a tiny receive buffer, and a client that pauses after one frame."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(("127.0.0.1", srv.port))
    ws = await connect(f"{srv.ws_url}?token={token}", sock=sock, max_queue=1, compression=None)
    await ws.send(f'{{"type": "join", "topic": "{topic}"}}')
    return ws


async def cut_off(srv: Server) -> float:
    """Wait until the server has cut a slow consumer off (30 s at most); how many it has."""
    deadline = time.monotonic() + 30
    while (dropped := await metric(srv, "livesupport_slow_consumers_total")) < 1 and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    return dropped


async def publish(publisher: Client, topic: str, count: int) -> None:
    start = time.monotonic()
    for i in range(count):
        r = await publisher.request({"type": "chat", "topic": topic, "body": f"t={time.time():.6f} {PAD}"})
        assert r["ok"], r
        await asyncio.sleep(max(0.0, start + (i + 1) / RATE - time.monotonic()))


async def test_slow_consumer_is_dropped_without_slowing_the_others(sqlite_deployment: Deployment) -> None:
    d = sqlite_deployment
    async with run_server(d.env(WS_RATE="0", CHAT_RATE="0")) as srv:
        tid = await open_ticket(srv, d, "Slow consumer")
        topic = f"ticket:{tid}"
        token = await token_for(srv, d, "engineer")
        watchers = []
        async with AsyncExitStack() as stack:
            publisher = await stack.enter_async_context(ws_client(srv, await token_for(srv, d, "engineer2")))
            await publisher.join(topic)
            clients = [await stack.enter_async_context(ws_client(srv, token)) for _ in range(WATCHERS)]
            for c in clients:
                await c.join(topic)
                watchers.append(Watcher(c))
            tasks = [asyncio.create_task(w.run()) for w in watchers]

            await publish(publisher, topic, 3 * RATE)  # the baseline
            await wait_until(lambda: all(len(w.latencies) >= 3 * RATE for w in watchers), 10, "baseline delivered")
            baseline = [x for w in watchers for x in w.latencies]
            for w in watchers:
                w.latencies.clear()

            slow = await stalled_reader(srv, token, topic)
            publishing = asyncio.create_task(publish(publisher, topic, 8 * RATE))
            dropped = await cut_off(srv)

            # Reading again, the slow client finds what was queued for it, then the 1013 close. It reads as soon
            # as it was cut off: the server waits only so long for a reader to take its close before it drops it.
            code = None
            try:
                async with asyncio.timeout(15):
                    while True:
                        await slow.recv()
            except ConnectionClosed as exc:
                code = exc.rcvd.code if exc.rcvd else None
            await publishing
            await wait_until(lambda: all(len(w.latencies) >= 8 * RATE for w in watchers), 10, "all delivered")
            during = [x for w in watchers for x in w.latencies]
            for c in clients:
                await c.close()
            await asyncio.gather(*tasks)

    base99, during99 = p99(baseline), p99(during)
    print(f"others' p99 latency: {base99 * 1000:.1f} ms without a slow consumer, {during99 * 1000:.1f} ms with one")
    assert dropped >= 1, "the stalled reader was never cut off"
    assert code == 1013
    assert all(w.close_code is None for w in watchers), "a healthy watcher was disconnected"
    # Nobody waited on the stalled reader: it read nothing for seconds, and the others' messages still came within
    # a bound no busy machine reaches unless the fan-out waits for it.
    assert during99 < 1.0, (base99, during99)
    if PERF:  # on a quiet machine: within 2x of the baseline, with 5 ms of slack
        assert during99 <= 2 * base99 + 0.005, (base99, during99)


async def test_a_reader_that_pauses_catches_up_without_being_dropped(sqlite_deployment: Deployment) -> None:
    """Back-pressure for a while is not a slow consumer: the frames wait, then arrive, all and in order."""
    d = sqlite_deployment
    async with run_server(d.env(WS_RATE="0", CHAT_RATE="0")) as srv:
        tid = await open_ticket(srv, d, "Pausing reader")
        topic = f"ticket:{tid}"
        token = await token_for(srv, d, "engineer")
        async with ws_client(srv, await token_for(srv, d, "engineer2")) as publisher:
            await publisher.join(topic)
            paused = await stalled_reader(srv, token, topic)
            waits_before = await metric(srv, "livesupport_send_waits_total")
            seqs = [(await publisher.request({"type": "chat", "topic": topic, "body": f"{i} {PAD}"}))["seq"]
                    for i in range(300)]
            assert await metric(srv, "livesupport_send_waits_total") > waits_before, "the socket never filled up"
            got = []
            async with asyncio.timeout(30):
                while len(got) < len(seqs):
                    frame = orjson.loads(await paused.recv())
                    if frame["type"] == "event":
                        got.append(frame["seq"])
            assert got == seqs
            assert await metric(srv, "livesupport_slow_consumers_total") == 0
            await paused.close()
