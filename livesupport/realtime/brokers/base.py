"""The broker interface: publish bytes on a channel, deliver what arrives on subscribed ones."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Protocol

OnMessage = Callable[[str, bytes], None]
OnResync = Callable[[], Awaitable[None]]


class Broker(Protocol):
    #: False while messages from other processes may be missed.
    healthy: bool
    #: One sentence for operators: why it is not healthy.
    status: str

    async def start(self, on_message: OnMessage, on_resync: OnResync) -> None:
        """Begin delivering; `on_resync` is awaited after a link that may have lost messages is back."""

    async def stop(self) -> None: ...

    async def subscribe(self, channel: str) -> None:
        """Returns once messages published on `channel` from now on will be delivered (or the link is down)."""

    async def unsubscribe(self, channel: str) -> None: ...

    async def publish(self, channel: str, data: bytes) -> None:
        """Raises BrokerError when the message could not be handed over."""

    async def publish_many(self, messages: list[tuple[str, bytes]]) -> None:
        """Several messages in order, in one round trip where the broker allows; raises BrokerError."""


class BrokerError(Exception):
    pass
