"""One connection's bounded outbound queue: a slow reader overflows into a 1013 close, never a stall."""

from __future__ import annotations

import asyncio

from livesupport import metrics
from livesupport.domain.people import Person

SLOW_CONSUMER = 1013


class Outbox:
    __slots__ = ("person", "credential", "queue", "closed", "close_code", "close_reason", "topics")

    def __init__(self, person: Person, maxsize: int, credential: str = "") -> None:
        self.person = person
        self.credential = credential  # the hash of the session or token that opened it, to revoke it
        self.queue: asyncio.Queue[str] = asyncio.Queue(maxsize)
        self.closed: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.close_code: int | None = None
        self.close_reason = ""
        self.topics: set[str] = set()

    def send_nowait(self, text: str) -> None:
        """Live frames: never wait for a slow reader."""
        if self.close_code is not None:
            return
        try:
            self.queue.put_nowait(text)
        except asyncio.QueueFull:
            metrics.SLOW_CONSUMERS.inc()
            self.close(SLOW_CONSUMER, "You fell behind; reconnect and resume with since.")

    async def send(self, text: str) -> None:
        """Replies to this connection's own requests and replay: wait for room instead of dropping."""
        if self.close_code is None:
            await self.queue.put(text)

    def close(self, code: int, reason: str) -> None:
        if self.close_code is None:
            self.close_code, self.close_reason = code, reason
            if not self.closed.done():
                self.closed.set_result(None)

    async def pump(self, send_text: object) -> None:
        """Write queued frames to the socket until cancelled."""
        get = self.queue.get
        while True:
            await send_text(await get())  # type: ignore[operator]
