"""What joining a ticket needs, remembered per process for a short while: a reconnect storm reads it once.

- **Whose a ticket is** (its organisation and that organisation's partner): with the person from the token cache,
  enough to answer "may they see it" (`can_see_org`) without the database. Everything that changes who may see a
  ticket (a ticket moved, an organisation's partner changed, a person's role, tier or organisation changed, an
  account disabled) announces an access change; every process then forgets everything here at once, as the token
  cache forgets its people. The TTL is only a backstop.
- **The `joined` snapshot** of a ticket as one person sees it, with the ticket's last seq it was read at
  (`upto`). A join may use it only while `upto` is at least the last seq this process has delivered on the topic
  it joined, and at least the `since` it resumes from (what it saw, perhaps through another process this one
  lags behind): every later event then reaches the new subscriber through the topic, so nothing is missed or
  sent twice. What can change without an event (a name) is at most `SNAPSHOT_TTL` old; what depends on the instant
  (overdue, may reopen, may rate) is worked out at each join.

A read that was on its way to the database when something was forgotten is not remembered (the `generation`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Generic, TypeVar

from livesupport.domain import sla
from livesupport.domain.outcomes import Policy, may_rate, may_reopen
from livesupport.domain.people import Person

SNAPSHOT_TTL = timedelta(seconds=1)

Snapshot = tuple[dict[str, Any], int, int]  # (state, the latest seq this person may see, the latest seq of all)

K = TypeVar("K")
V = TypeVar("V")


@dataclass(frozen=True, slots=True)
class Owner:
    org_id: int
    partner_id: int | None  # the organisation's partner, who sees its tickets too
    fetched: datetime


@dataclass(frozen=True, slots=True)
class Joined:
    """A ticket as `joined` shows it to one person, but for what depends on the instant (see `view`)."""

    state: dict[str, Any]
    visible: int
    upto: int
    status: str
    next_update_at: datetime | None
    resolved_at: datetime | None
    client: bool  # a contact of the ticket's own organisation: may reopen and rate it
    fetched: datetime

    def view(self, now: datetime, policy: Policy) -> Snapshot:
        status, at = self.status, self.resolved_at
        state = {**self.state, "overdue": sla.is_overdue(status, self.next_update_at, now),
                 "may_reopen": self.client and may_reopen(status, at, now, policy),
                 "may_rate": self.client and may_rate(status, at, now)}
        return state, self.visible, self.upto


class _Bounded(Generic[K, V]):
    """A dict that drops its oldest entry when full."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.items: dict[K, V] = {}

    def put(self, key: K, value: V) -> None:
        self.items.pop(key, None)
        if len(self.items) >= self.size:
            del self.items[next(iter(self.items))]
        self.items[key] = value


class JoinCache:
    def __init__(self, ttl: timedelta, snapshot_ttl: timedelta = SNAPSHOT_TTL, size: int = 100_000,
                 snapshots: int = 5_000) -> None:
        self.ttl, self.snapshot_ttl = ttl, min(snapshot_ttl, ttl)
        self._owners: _Bounded[int, Owner] = _Bounded(size)
        self._joined: _Bounded[tuple[Person, int], Joined] = _Bounded(snapshots)
        self.generation = 0  # grows on every eviction

    def owner(self, ticket_id: int, now: datetime) -> Owner | None:
        owner = self._owners.items.get(ticket_id)
        if owner is not None and not timedelta(0) <= now - owner.fetched < self.ttl:
            del self._owners.items[ticket_id]
            return None
        return owner

    def remember_owner(self, ticket_id: int, org_id: int, partner_id: int | None, now: datetime,
                       generation: int) -> None:
        if self.ttl > timedelta(0) and generation == self.generation:
            self._owners.put(ticket_id, Owner(org_id, partner_id, now))

    def joined(self, person: Person, ticket_id: int, heard: int, now: datetime) -> Joined | None:
        """The snapshot remembered for this person and ticket if it is fresh and not older than `heard`: the last
        seq this process delivered on the ticket, or the `since` the join resumes from if greater."""
        key = (person, ticket_id)
        joined = self._joined.items.get(key)
        if joined is None:
            return None
        if not timedelta(0) <= now - joined.fetched < self.snapshot_ttl:
            del self._joined.items[key]
            return None
        return joined if joined.upto >= heard else None

    def remember(self, person: Person, ticket_id: int, joined: Joined, generation: int) -> None:
        if self.snapshot_ttl > timedelta(0) and generation == self.generation:
            key = (person, ticket_id)
            known = self._joined.items.get(key)
            if known is None or known.upto <= joined.upto:
                self._joined.put(key, joined)

    def forget_all(self) -> None:
        self.generation += 1
        self._owners.items.clear()
        self._joined.items.clear()
