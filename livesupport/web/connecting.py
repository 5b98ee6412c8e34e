"""Connection set-up under load (a reconnect storm): who a socket is, its join snapshots, and shedding with 1013.

Token lookups that miss the token cache and join snapshots that miss the join cache (actions/join_cache.py) run
in the slots of one `SetupGate` per process; lookups of one token, and joins of one ticket by one person, that
queue up together share one read. When set-up work queues beyond `MAX_PENDING_CONNECTS`, a new socket is
accepted and closed at once with 1013 and "retry after N s".
"""

from __future__ import annotations

from starlette.websockets import WebSocket

from livesupport import metrics
from livesupport.actions.accounts import Accounts
from livesupport.actions.join_cache import Snapshot
from livesupport.actions.tickets import Tickets
from livesupport.domain.people import Person
from livesupport.realtime.admission import TRY_AGAIN_LATER, SetupGate, SharedReads, busy_reason


class Connecting:
    def __init__(self, accounts: Accounts, tickets: Tickets, concurrency: int, max_pending: int) -> None:
        self.accounts, self.tickets = accounts, tickets
        self.gate = SetupGate(concurrency, max_pending)
        self._owners: SharedReads[int, tuple[int, int | None] | None] = SharedReads(tickets.owner, self.gate)
        self._people: SharedReads[str, Person | None] = SharedReads(accounts.person_by_token, self.gate)
        self._snapshots: SharedReads[tuple[Person, int], Snapshot] = SharedReads(self._snapshot, self.gate)

    async def shed(self, ws: WebSocket) -> bool:
        """Too much set-up work queued: close this new socket with 1013 and a delay to retry after (True)."""
        if not self.gate.full:
            return False
        metrics.SHED.inc()
        await ws.accept()
        await ws.close(TRY_AGAIN_LATER, busy_reason(self.gate.retry_after()))
        return True

    async def person(self, credential: str) -> Person | None:
        """Who this token or session is: from the cache, or from the database in a slot of the gate (shared with
        the sockets of the same credential that queued with this one: a storm's first wave misses the cache)."""
        person = self.accounts.cached_person(credential)
        if person is not None:
            return person
        return await self._people.get(credential)

    async def person_now(self, credential: str) -> Person | None:
        """`person`, asked again until nothing was evicted from the token cache while asking: a credential
        revoked on any process while this socket was being accepted is refused (no await after the answer)."""
        accounts = self.accounts
        while True:
            generation = accounts.known.generation
            person = await self.person(credential)
            if person is None or accounts.still_trusted(generation):
                return person

    async def snapshot(self, person: Person, ticket_id: int, heard: int) -> Snapshot:
        """A join's snapshot; authorises too. Remembered by this process if nothing it delivered on the ticket
        (up to `heard`, or the `since` the join resumes from if greater) is newer, else read (shared with the
        joins of the same person and ticket queued with this one). Call it after the socket is attached to the
        topic: what follows `heard` then reaches it."""
        remembered = self.tickets.remembered_join(person, ticket_id, heard)
        if remembered is not None:
            metrics.REMEMBERED_JOINS.inc()
            return remembered
        return await self._snapshots.get((person, ticket_id))

    async def _snapshot(self, key: tuple[Person, int]) -> Snapshot:
        person, ticket_id = key
        return await self.tickets.join_snapshot(person, ticket_id)

    async def authorize(self, person: Person, ticket_id: int) -> None:
        """May this person see this ticket: from what this process remembers, or asked in a slot of the gate
        (shared with the joins of the same ticket queued with this one, whoever they are)."""
        if not self.tickets.remembered(person, ticket_id):
            self.tickets.allow(person, await self._owners.get(ticket_id))
