"""Who may have lost a topic: the "access changed" notice every process acts on.

An action that changes what someone may see (a partner removed, a role, tier or organisation changed, an
account disabled, a ticket moved) names the people, organisations and tickets it touched. Every process
then re-checks the sockets they hold, with the same rules used at join.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from livesupport.domain.numbers import parse_id


@dataclass(frozen=True, slots=True)
class AccessChange:
    users: frozenset[int] = frozenset()
    orgs: frozenset[int] = frozenset()
    tickets: frozenset[int] = frozenset()

    @classmethod
    def of(cls, users: Iterable[int | None] = (), orgs: Iterable[int | None] = (),
           tickets: Iterable[int | None] = ()) -> AccessChange:
        return cls(frozenset(u for u in users if u), frozenset(o for o in orgs if o), frozenset(t for t in tickets if t))

    def __bool__(self) -> bool:
        return bool(self.users or self.orgs or self.tickets)

    def encode(self) -> bytes:
        return b"|".join(b",".join(b"%d" % i for i in sorted(ids)) for ids in (self.users, self.orgs, self.tickets))

    @classmethod
    def decode(cls, body: bytes) -> AccessChange:
        users, orgs, tickets = (frozenset(int(i) for i in part.split(b",") if i) for part in body.split(b"|", 2))
        return cls(users, orgs, tickets)

    def touches(self, user_id: int, org_id: int | None, topics: Iterable[str]) -> bool:
        """Does this change concern a socket of this person, joined to these topics?"""
        if user_id in self.users or (org_id is not None and org_id in self.orgs):
            return True
        for topic in topics:
            kind, _, ident = topic.partition(":")
            number = parse_id(ident)
            if number is not None and ((kind == "ticket" and number in self.tickets)
                                       or (kind == "org" and number in self.orgs)):
                return True
        return False
