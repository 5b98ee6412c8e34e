"""Connection set-up under load (a reconnect storm): who a socket is, its join snapshots, and shedding with 1013.

Token lookups that miss the token cache and join snapshots run in the slots of one `SetupGate` per process;
joins of one ticket by one person that queue up together share one snapshot read. When set-up work queues
beyond `MAX_PENDING_CONNECTS`, a new socket is accepted and closed at once with 1013 and "retry after N s".
"""

from __future__ import annotations

from typing import Any

from starlette.websockets import WebSocket

from livesupport import metrics
from livesupport.actions.accounts import Accounts
from livesupport.actions.tickets import Tickets
from livesupport.domain.people import Person
from livesupport.realtime.admission import TRY_AGAIN_LATER, SetupGate, SharedReads, busy_reason

Snapshot = tuple[dict[str, Any], int, int]


class Connecting:
    def __init__(self, accounts: Accounts, tickets: Tickets, concurrency: int, max_pending: int) -> None:
        self.accounts, self.tickets = accounts, tickets
        self.gate = SetupGate(concurrency, max_pending)
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
        """Who this token or session is: from the cache, or from the database in a slot of the gate."""
        person = self.accounts.cached_person(credential)
        if person is not None:
            return person
        async with self.gate.slot():
            return await self.accounts.person_by_token(credential)

    async def person_now(self, credential: str) -> Person | None:
        """`person`, asked again until nothing was evicted from the token cache while asking: a credential
        revoked on any process while this socket was being accepted is refused (no await after the answer)."""
        accounts = self.accounts
        while True:
            generation = accounts.known.generation
            person = await self.person(credential)
            if person is None or accounts.still_trusted(generation):
                return person

    async def snapshot(self, person: Person, ticket_id: int) -> Snapshot:
        """`Tickets.snapshot`, shared with the joins of the same person and ticket that queued with this one."""
        return await self._snapshots.get((person, ticket_id))

    async def _snapshot(self, key: tuple[Person, int]) -> Snapshot:
        person, ticket_id = key
        return await self.tickets.snapshot(person, ticket_id)

    async def authorize(self, person: Person, ticket_id: int) -> None:
        async with self.gate.slot():
            await self.tickets.authorize(person, ticket_id)
