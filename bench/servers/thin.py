"""The thin baseline: the smallest Starlette app that fans text frames out through Redis.

Every text frame a client sends is PUBLISHed, unchanged, to one Redis channel; one
subscription per process forwards every message on that channel to all of this
process's sockets (the sender included). No authentication, no parsing, no storage,
no ordering or loss recovery: what is left is the cost of uvicorn + Starlette +
websockets + redis-py per delivered frame.

Run with uvicorn and the same options as `livesupport serve` (see bench/run.py):
    BENCH_REDIS_URL=redis://127.0.0.1:6379/8 BENCH_CHANNEL=bench-x:thin \
    python -m uvicorn bench.servers.thin:app --port 9001 --loop uvloop --http httptools \
        --ws websockets-sansio --ws-max-size 65536 --ws-per-message-deflate False
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator

import redis.asyncio as aioredis
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/8")
CHANNEL = os.environ.get("BENCH_CHANNEL", "bench-thin")

sockets: set[WebSocket] = set()
state: dict[str, aioredis.Redis] = {}


async def forward(r: aioredis.Redis, ready: asyncio.Future[None]) -> None:
    async with r.pubsub(ignore_subscribe_messages=True) as pubsub:
        await pubsub.subscribe(CHANNEL)
        ready.set_result(None)
        async for message in pubsub.listen():
            text = message["data"]
            for ws in list(sockets):
                try:
                    await ws.send_text(text)
                except Exception:  # noqa: BLE001 - a socket that went away
                    sockets.discard(ws)


@contextlib.asynccontextmanager
async def lifespan(app: Starlette) -> AsyncIterator[None]:
    r = aioredis.Redis.from_url(REDIS_URL, decode_responses=True)
    state["redis"] = r
    ready: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    task = asyncio.create_task(forward(r, ready))
    await asyncio.wait_for(ready, 10)
    try:
        yield
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await r.aclose()


async def endpoint(ws: WebSocket) -> None:
    await ws.accept()
    sockets.add(ws)
    publish = state["redis"].publish
    try:
        while True:
            await publish(CHANNEL, await ws.receive_text())
    except WebSocketDisconnect:
        pass
    finally:
        sockets.discard(ws)


async def healthz(request: object) -> PlainTextResponse:
    return PlainTextResponse("ok")


app = Starlette(routes=[WebSocketRoute("/ws", endpoint), Route("/healthz", healthz)], lifespan=lifespan)
