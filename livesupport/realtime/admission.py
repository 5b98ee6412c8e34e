"""Setting up connections without drowning the database: a bounded gate, shared reads, and load shed with 1013.

After a deploy every client reconnects at once. Each new socket may need its token looked up, and each join a
snapshot of its ticket. `SetupGate` lets a few of those run at a time (fewer than the database pool holds, so
the chats and pages of the sockets already open still get a connection), and counts who waits. When more wait
than `max_pending`, a new socket is closed at once with 1013 and a delay to retry after, instead of waiting
until it times out. `SharedReads` lets the joins of one ticket by the same person that queued up together share
one read.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Hashable
from contextlib import asynccontextmanager
from typing import Generic, TypeVar

from livesupport import metrics

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

TRY_AGAIN_LATER = 1013
MAX_RETRY_AFTER = 30  # seconds


class SetupGate:
    def __init__(self, limit: int, max_pending: int) -> None:
        self.limit, self.max_pending = limit, max_pending
        self._slots = asyncio.Semaphore(limit)
        self.waiting = 0  # set-up work queued for a slot
        self.running = 0
        self._hold = 0.005  # seconds a slot is held, a moving average (for the retry delay)

    @property
    def full(self) -> bool:
        """More set-up work waits than the bound: shed new sockets."""
        return self.waiting >= self.max_pending

    def retry_after(self) -> int:
        """Whole seconds until the queue has likely drained (at least 1): what a shed socket is told."""
        drain = (self.waiting + self.running) * self._hold / max(1, self.limit)
        return max(1, min(MAX_RETRY_AFTER, math.ceil(drain)))

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        self.waiting += 1
        metrics.SETUP_WAITING.inc()
        asked = time.perf_counter()
        try:
            await self._slots.acquire()
        finally:
            self.waiting -= 1
            metrics.SETUP_WAITING.dec()
        started = time.perf_counter()
        metrics.SETUP_WAIT.observe(started - asked)
        self.running += 1
        try:
            yield
        finally:
            self.running -= 1
            self._slots.release()
            self._hold = 0.9 * self._hold + 0.1 * (time.perf_counter() - started)


def busy_reason(seconds: int) -> str:
    """The close reason of a shed socket; protocol.md: the number after "retry after" is the delay in seconds."""
    return f"The server is busy connecting others; retry after {seconds} s."


class SharedReads(Generic[K, V]):
    """`get(key)` runs `read(key)` in a slot of the gate; callers asking for the same key while that read still
    waits for its slot share its answer (or its error). A caller arriving once the read has started starts a new
    one: everything the answer says was read after the caller asked."""

    def __init__(self, read: Callable[[K], Awaitable[V]], gate: SetupGate) -> None:
        self.read, self.gate = read, gate
        self._queued: dict[K, asyncio.Future[V]] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    async def get(self, key: K) -> V:
        future = self._queued.get(key)
        if future is None:
            future = self._queued[key] = asyncio.get_running_loop().create_future()
            task = asyncio.create_task(self._run(key, future))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        else:
            metrics.SHARED_READS.inc()
        return await asyncio.shield(future)

    async def _run(self, key: K, future: asyncio.Future[V]) -> None:
        try:
            async with self.gate.slot():
                if self._queued.get(key) is future:
                    del self._queued[key]  # from here on, newcomers start a read of their own
                result = await self.read(key)
        except BaseException as exc:  # noqa: BLE001 - every caller sharing it gets the same error
            if self._queued.get(key) is future:
                del self._queued[key]
            if isinstance(exc, asyncio.CancelledError):
                future.cancel()
                raise
            if not future.done():
                future.set_exception(exc)
                future.exception()  # retrieved: no "never retrieved" warning when every caller left
            return
        future.set_result(result)
