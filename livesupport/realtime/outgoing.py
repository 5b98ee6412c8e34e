"""What goes to the other processes: one queue, sent in order by one task, in pipelined batches."""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Awaitable
from typing import Any

from livesupport import metrics
from livesupport.realtime.brokers.base import Broker, BrokerError

log = logging.getLogger("livesupport.hub")


class Outgoing:
    """The hub's link to the broker; `Hub.__init__` sets these attributes."""

    broker: Broker
    _origin_b: bytes
    _tasks: set[asyncio.Task[Any]]
    _outgoing: deque[tuple[str, bytes, int, int]]  # channel, message, seq (events) or 0, when queued
    _outgoing_ready: asyncio.Event
    _idle: asyncio.Event
    _unsent: dict[str, int]

    def _spawn(self, coro: Awaitable[Any]) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _publish(self, channel: str, kind: bytes, body: bytes, seq: int = 0) -> None:
        """Queue a message for the other processes; `seq` marks an event whose loss must be announced later."""
        self._outgoing.append((channel, kind + b"|" + self._origin_b + b"|" + body, seq, time.monotonic_ns()))
        self._idle.clear()
        self._outgoing_ready.set()

    async def _send_outgoing(self) -> None:
        """Send queued messages in order, many per round trip; remember the tickets of those that failed."""
        outgoing, ready = self._outgoing, self._outgoing_ready
        while True:
            await ready.wait()
            ready.clear()
            while outgoing:
                batch = [outgoing.popleft() for _ in range(min(len(outgoing), 500))]
                try:
                    await self.broker.publish_many([(channel, data) for channel, data, _, _ in batch])
                except BrokerError as exc:
                    # Stored already; other processes catch up by seq on their next event, or our resync hint.
                    log.debug("cross-process publish failed: %s", exc)
                    for channel, _, seq, _ in batch:
                        if seq:
                            self._unsent[channel] = max(seq, self._unsent.get(channel, 0))
                else:
                    answered = time.monotonic_ns()
                    for _, _, seq, queued in batch:
                        if seq:
                            metrics.stage("broker", queued, answered)
            self._idle.set()

    async def flush(self) -> None:
        """Wait until what was queued for the other processes has been handed to the broker (a short-lived CLI)."""
        await self._idle.wait()
