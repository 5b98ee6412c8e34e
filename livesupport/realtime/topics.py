"""What a ticket topic holds on this process: its events, subscribers and where delivery has got to."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Protocol

from livesupport.domain.people import Person
from livesupport.realtime.outbox import Outbox
from livesupport.realtime.presence import Member


@dataclass(slots=True, frozen=True)
class Ev:
    """A durable event ready to send: encoded once, shared by every recipient."""

    seq: int
    internal: bool
    text: str
    sent: float = 0.0  # wall-clock time of the commit's publication, for the delivery histogram
    client_text: str | None = None  # what clients get instead of `text`, when it has staff-only details

    def text_for(self, person: Person) -> str:
        return self.text if self.client_text is None or person.is_staff else self.client_text


class History(Protocol):
    async def latest(self, ticket_id: int) -> int: ...

    async def fetch(self, ticket_id: int, after: int, upto: int | None) -> list[Ev]: ...


class PresenceStore(Protocol):
    async def put(self, topic: str, local: dict[int, Member]) -> None: ...

    async def get(self, topic: str, local: dict[int, Member]) -> list[Member]: ...

    async def get_many(self, topics: list[str]) -> list[list[Member]]: ...


@dataclass(slots=True, eq=False)
class Sub:
    person: Person
    state: str = "viewing"
    cursor: int = 0
    pending: list[Ev] | None = field(default_factory=list)


class Topic:
    __slots__ = ("name", "ticket_id", "channel", "subs", "last_seq", "held", "filling", "refill", "joining",
                 "ready", "local_view", "members", "presence_timer")

    def __init__(self, name: str, ticket_id: int) -> None:
        self.name = name
        self.ticket_id = ticket_id
        self.channel = "t:" + name
        self.subs: dict[Outbox, Sub] = {}
        self.last_seq: int | None = None
        self.held: dict[int, Ev] = {}
        self.filling = False
        self.refill = False  # a resync asked for a fetch while one was already running
        self.joining = 0
        self.ready: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.local_view: dict[int, Member] | None = None
        self.members: list[Member] | None = None
        self.presence_timer: asyncio.TimerHandle | None = None
