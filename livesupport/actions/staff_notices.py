"""Personal notices for staff, shown as desktop notifications when livesupport is in another tab:
a client wrote on a ticket assigned to you (sent as the message is published), and a ticket of yours
turned overdue (found by a worker job). Invitations and assignments are sent by actions/huddle.py.

Nothing here adds a query to the chat path: a ticket's subject and assignees are cached for a few
seconds per process, and looked up after the message was published, in the background.
"""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from livesupport.clock import Clock, iso
from livesupport.domain import sla
from livesupport.domain.people import Person
from livesupport.realtime.frames import encode
from livesupport.realtime.hub import Hub
from livesupport.store import notifications as store
from livesupport.store.database import Database, upsert_insert
from livesupport.store.models import SentNotice, Ticket, TicketAssignee

log = logging.getLogger("livesupport.staff_notices")

CACHE_SECONDS = 10.0  # how stale a ticket's assignees may be (an assignment on this process clears it)
CACHE_SIZE = 5_000
EXCERPT = 140  # characters of the client's message in the notice
LOOKBACK = timedelta(hours=1)  # the overdue job never announces older news (a first run, a long outage)
OPEN = [s.value for s in sla.OPEN]


def excerpt(body: str) -> str:
    text = " ".join(body.split())
    return text if len(text) <= EXCERPT else text[:EXCERPT - 1].rstrip() + "…"


class StaffNotices:
    def __init__(self, db: Database, hub: Hub, clock: Clock) -> None:
        self.db, self.hub, self.clock = db, hub, clock
        self._cache: dict[int, tuple[float, str, tuple[int, ...]]] = {}  # ticket -> (when, subject, assignees)
        self._tasks: set[asyncio.Task[None]] = set()

    # -- a client wrote ---------------------------------------------------------------------------

    def forget(self, ticket_id: int) -> None:
        """The ticket's assignees changed (on this process)."""
        self._cache.pop(ticket_id, None)

    def client_wrote(self, person: Person, ticket_id: int, seq: int, body: str) -> None:
        """After a client's public message was published: tell the engineers assigned to the ticket."""
        entry = self._cache.get(ticket_id)
        if entry is not None and time.monotonic() - entry[0] < CACHE_SECONDS:
            self._tell(person, ticket_id, seq, body, entry[1], entry[2])
            return
        task = asyncio.create_task(self._look_up_and_tell(person, ticket_id, seq, body))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _look_up_and_tell(self, person: Person, ticket_id: int, seq: int, body: str) -> None:
        try:
            async with self.db.read() as s:
                subject = await s.scalar(select(Ticket.subject).where(Ticket.id == ticket_id))
                ids = tuple((await s.execute(select(TicketAssignee.user_id)
                                             .where(TicketAssignee.ticket_id == ticket_id))).scalars())
        except Exception as exc:  # noqa: BLE001 - a notice is a courtesy; the message itself is stored
            log.warning("could not look up who is assigned to ticket %d: %s", ticket_id, exc)
            return
        if subject is None:
            return
        if len(self._cache) >= CACHE_SIZE:
            self._cache.clear()
        self._cache[ticket_id] = (time.monotonic(), subject, ids)
        self._tell(person, ticket_id, seq, body, subject, ids)

    def _tell(self, person: Person, ticket_id: int, seq: int, body: str, subject: str,
              assignees: tuple[int, ...]) -> None:
        for user_id in assignees:
            self.hub.notify(f"user:{user_id}", encode({
                "type": "notice", "topic": f"user:{user_id}", "kind": "message", "seq": seq,
                "ticket": {"id": ticket_id, "subject": subject}, "by": person.public(),
                "excerpt": excerpt(body), "url": f"/tickets/{ticket_id}",
            }))

    async def stop(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    # -- a ticket turned overdue (a worker job) -----------------------------------------------------

    async def run(self, now: datetime | None = None) -> str:
        """Tell the assignees of every open ticket whose next update passed since the last run, once."""
        now = now or self.clock.now()
        async with self.db.read() as s:
            cursor = await store.job_cursor(s, store.OVERDUE)
            since = max(cursor.at if cursor is not None and cursor.at else now - LOOKBACK, now - LOOKBACK)
            if since >= now:
                return "overdue notices 0"
            rows = (await s.execute(select(Ticket.id, Ticket.subject, Ticket.next_update_at).where(
                Ticket.status.in_(OPEN), Ticket.next_update_at > since, Ticket.next_update_at <= now))).all()
            ids = [r.id for r in rows]
            assignees: dict[int, list[int]] = {i: [] for i in ids}
            if ids:
                for t, u in (await s.execute(select(TicketAssignee.ticket_id, TicketAssignee.user_id)
                                             .where(TicketAssignee.ticket_id.in_(ids)))).all():
                    assignees[t].append(u)
        frames: list[tuple[int, dict[str, Any]]] = []
        async with self.db.write() as s:
            for r in rows:
                if not assignees[r.id]:
                    continue
                key = f"overdue:{r.id}:{iso(r.next_update_at)}"
                fresh = await s.execute(upsert_insert(s, SentNotice).values(key=key, at=now)
                                        .on_conflict_do_nothing().returning(SentNotice.id))
                if fresh.scalar_one_or_none() is None:
                    continue  # another run announced it
                frames += [(u, {"type": "notice", "topic": f"user:{u}", "kind": "overdue",
                                "ticket": {"id": r.id, "subject": r.subject},
                                "next_update_at": iso(r.next_update_at), "url": f"/tickets/{r.id}"})
                           for u in assignees[r.id]]
            await store.move_job_cursor(s, store.OVERDUE, at=now)
        for user_id, frame in frames:  # after the commit
            self.hub.notify(f"user:{user_id}", encode(frame))
        return f"overdue notices {len(frames)}"
