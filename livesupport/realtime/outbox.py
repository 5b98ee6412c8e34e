"""One connection's bounded outbound queue: a slow reader overflows into a 1013 close, never a stall."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any

from livesupport import metrics
from livesupport.domain.people import Person

SLOW_CONSUMER = 1013


class Outbox:
    """Frames waiting for one socket, written by a single pump task in order.

    A plain deque and one waiter future: lighter than asyncio.Queue, which matters once per frame per
    recipient on the fan-out path.
    """

    __slots__ = ("person", "credential", "maxsize", "frames", "close_code", "close_reason", "topics", "on_close",
                 "_waiter", "_space")

    def __init__(self, person: Person, maxsize: int, credential: str = "") -> None:
        self.person = person
        self.credential = credential  # the hash of the session or token that opened it, to revoke it
        self.maxsize = maxsize
        self.frames: deque[str] = deque()
        self.close_code: int | None = None
        self.close_reason = ""
        self.topics: set[str] = set()
        self.on_close: Callable[[], Any] | None = None
        self._waiter: asyncio.Future[None] | None = None  # the pump, sleeping on an empty queue
        self._space: asyncio.Future[None] | None = None  # a replay, waiting for room

    def send_nowait(self, text: str) -> None:
        """Live frames: never wait for a slow reader."""
        if self.close_code is not None:
            return
        if len(self.frames) >= self.maxsize:
            metrics.SLOW_CONSUMERS.inc()
            self.close(SLOW_CONSUMER, "You fell behind; reconnect and resume with since.")
            return
        self.frames.append(text)
        waiter = self._waiter
        if waiter is not None:
            self._waiter = None
            if not waiter.done():
                waiter.set_result(None)

    async def send(self, text: str) -> None:
        """Replies to this connection's own requests and replay: wait for room instead of dropping."""
        while len(self.frames) >= self.maxsize and self.close_code is None:
            self._space = asyncio.get_running_loop().create_future()
            await self._space
        self.send_nowait(text)

    def close(self, code: int, reason: str) -> None:
        if self.close_code is None:
            self.close_code, self.close_reason = code, reason
            self.frames.clear()
            for waiting in (self._space, self._waiter):
                if waiting is not None and not waiting.done():
                    waiting.set_result(None)
            if self.on_close is not None:
                self.on_close()

    async def pump(self, send: Callable[[dict[str, Any]], Awaitable[None]]) -> None:
        """Write queued frames to the socket (raw ASGI send) until cancelled."""
        frames = self.frames
        loop = asyncio.get_running_loop()
        while True:
            while frames:
                await send({"type": "websocket.send", "text": frames.popleft()})
                space = self._space
                if space is not None and len(frames) < self.maxsize:
                    self._space = None
                    if not space.done():
                        space.set_result(None)
            self._waiter = loop.create_future()
            await self._waiter
