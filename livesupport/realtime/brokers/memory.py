"""The in-process broker: one process, no network, nothing to run."""

from __future__ import annotations

from livesupport import metrics
from livesupport.realtime.brokers.base import OnMessage, OnResync


class MemoryBroker:
    healthy = True
    status = "in-process broker (single process)"

    def __init__(self) -> None:
        self._channels: set[str] = set()
        self._on_message: OnMessage | None = None

    async def start(self, on_message: OnMessage, on_resync: OnResync) -> None:
        metrics.BROKER_UP.set(1)
        self._on_message = on_message

    async def stop(self) -> None:
        self._on_message = None

    async def subscribe(self, channel: str) -> None:
        self._channels.add(channel)

    async def unsubscribe(self, channel: str) -> None:
        self._channels.discard(channel)

    async def publish(self, channel: str, data: bytes) -> None:
        if self._on_message is not None and channel in self._channels:
            self._on_message(channel, data)

    async def publish_many(self, messages: list[tuple[str, bytes]]) -> None:
        for channel, data in messages:
            await self.publish(channel, data)
