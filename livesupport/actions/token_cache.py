"""Who a token belongs to, remembered per process for a short while: a reconnect storm asks once, not per socket.

An entry is dropped the moment its credential ends or its person's access changes, on this process and (through
the hub's control channel) on every other: revoke, logout, password change, an account disabled or removed, a
role, tier or organisation changed. The TTL is only a backstop. A lookup that was already on its way to the
database when something was evicted is not remembered (the `generation` says so), so a stale answer cannot be
put back after its eviction.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from livesupport.domain.people import Person

if TYPE_CHECKING:
    from livesupport.realtime.hub import Hub


@dataclass(frozen=True, slots=True)
class Known:
    person: Person
    kind: str  # "session" or "api"
    token_id: int
    last_used: datetime  # a session's last recorded use (its idle clock)
    expires: datetime
    fetched: datetime  # when the database said so (the TTL counts from here)


class TokenCache:
    def __init__(self, ttl: timedelta, size: int = 100_000) -> None:
        self.ttl, self.size = ttl, size
        self._by_hash: dict[str, Known] = {}
        self.generation = 0  # grows on every eviction

    def get(self, hashed: str, now: datetime) -> Known | None:
        known = self._by_hash.get(hashed)
        if known is None:
            return None
        if now - known.fetched >= self.ttl or now >= known.expires:
            del self._by_hash[hashed]
            return None
        return known

    def put(self, hashed: str, known: Known, generation: int) -> None:
        """Remember what the database said, unless something was evicted since the question was asked."""
        if self.ttl <= timedelta(0) or generation != self.generation:
            return
        self._by_hash.pop(hashed, None)
        if len(self._by_hash) >= self.size:  # the oldest entry makes room
            del self._by_hash[next(iter(self._by_hash))]
        self._by_hash[hashed] = known

    def forget_credential(self, hashed: str) -> None:
        self.generation += 1
        self._by_hash.pop(hashed, None)

    def forget_people(self, users: Iterable[int] = (), orgs: Iterable[int] = ()) -> None:
        """Every token of these people, and of everyone in these organisations."""
        users, orgs = frozenset(users), frozenset(orgs)
        self.generation += 1
        if not users and not orgs:
            return
        for hashed in [h for h, k in self._by_hash.items() if k.person.id in users or k.person.org_id in orgs]:
            del self._by_hash[hashed]

    def forget_all(self) -> None:
        self.generation += 1
        self._by_hash.clear()

    def __len__(self) -> int:
        return len(self._by_hash)


class Heard:
    """Whether a cache evicted by announcements can be trusted: every other process's evictions reach this one.
    Not while the broker link is down, nor for what was remembered before it came back (it may have missed some):
    `forget_all` empties the cache once per outage and once per return, and it stays unused until the link is up."""

    def __init__(self, hub: Hub | None, forget_all: Callable[[], None]) -> None:
        self.hub, self.forget_all = hub, forget_all
        self._resyncs = 0  # the hub's count of broker links come back, as the cache last saw it
        self._distrusted = False  # the broker link was down when last asked (the cache was emptied then)

    def __call__(self) -> bool:
        if self.hub is None:
            return True
        healthy = self.hub.broker.healthy
        if (not healthy and not self._distrusted) or (healthy and self.hub.resyncs != self._resyncs):
            self.forget_all()  # a lookup in flight is not kept either (its generation changed)
            self._resyncs = self.hub.resyncs
        self._distrusted = not healthy
        return healthy
