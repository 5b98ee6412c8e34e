"""python-socketio with AsyncRedisManager: the same fan-out the usual way.

A client emits `join` with a room name (acknowledged with "ok") and is put in that
room; the publisher emits `chat` with {"room", "body"} (acknowledged with "ok"), and
the server emits `chat` with the body to the room. AsyncRedisManager delivers to this
process's members at once and publishes the emit to Redis for the other processes.

Run with uvicorn and the same options as `livesupport serve` (see bench/run.py):
    BENCH_REDIS_URL=redis://127.0.0.1:6379/9 BENCH_CHANNEL=bench-x:sio \
    python -m uvicorn bench.servers.sio:app --port 9001 --loop uvloop --http httptools \
        --ws websockets-sansio --ws-max-size 65536 --ws-per-message-deflate False
"""

from __future__ import annotations

import os
from typing import Any

import socketio
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route

REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/9")
CHANNEL = os.environ.get("BENCH_CHANNEL", "bench-sio")

manager = socketio.AsyncRedisManager(REDIS_URL, channel=CHANNEL)
sio = socketio.AsyncServer(async_mode="asgi", client_manager=manager, cors_allowed_origins=[],
                           transports=["websocket"])


@sio.event
async def join(sid: str, room: Any) -> str:
    if not isinstance(room, str):
        return "bad room"
    await sio.enter_room(sid, room)
    return "ok"


@sio.event
async def chat(sid: str, data: Any) -> str:
    if not isinstance(data, dict) or not isinstance(data.get("room"), str):
        return "bad chat"
    await sio.emit("chat", data.get("body"), room=data["room"])
    return "ok"


async def healthz(request: object) -> PlainTextResponse:
    return PlainTextResponse("ok")


app = socketio.ASGIApp(sio, other_asgi_app=Starlette(routes=[Route("/healthz", healthz)]))
