"""Ticket use cases: every durable change is committed, then published to the hub."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import DBAPIError, OperationalError

from livesupport.clock import Clock
from livesupport.domain import tickets as rules
from livesupport.domain.errors import (
    BadRequestError,
    ConflictError,
    ForbiddenError,
    LivesupportError,
    UnavailableError,
)
from livesupport.domain.people import Person, can_see_org
from livesupport.realtime.frames import encode
from livesupport.realtime.hub import Ev, Hub
from livesupport.store import tickets as store
from livesupport.store.database import Database
from livesupport.store.models import Organisation, TicketEvent

log = logging.getLogger("livesupport.tickets")


def to_ev(ev: TicketEvent | store.NewEvent) -> Ev:
    return Ev(ev.seq, ev.visibility == "internal", encode(store.event_frame(ev)))


@dataclass(frozen=True, slots=True)
class ChatRequest:
    """A message that passed the checks needing no database."""

    ticket_id: int
    body: str
    visibility: str
    base_seq: int | None
    force: bool
    authorized: bool  # the sender's socket joined the ticket, so it may see it


class StoredHistory:
    """The hub's view of the database: what it needs to fill gaps."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def latest(self, ticket_id: int) -> int:
        async with self.db.read() as s:
            found = await store.get(s, ticket_id)
        return found[0].last_seq if found else 0

    async def fetch(self, ticket_id: int, after: int, upto: int | None) -> list[Ev]:
        out: list[Ev] = []
        async with self.db.read() as s:
            while True:
                batch = await store.events_since(s, ticket_id, after, staff=True, upto=upto, limit=1000)
                out.extend(to_ev(e) for e in batch)
                if len(batch) < 1000:
                    return out
                after = batch[-1].seq


class Tickets:
    def __init__(self, db: Database, hub: Hub, clock: Clock) -> None:
        self.db, self.hub, self.clock = db, hub, clock

    async def _visible(self, s: Any, person: Person, ticket_id: int) -> tuple[Any, Organisation]:
        found = await store.get(s, ticket_id)
        # A ticket one may not see and one that does not exist answer the same.
        if found is None or not can_see_org(person, found[1].id, found[1].partner_id):
            raise ForbiddenError("You cannot open that ticket.")
        return found

    async def authorize(self, person: Person, ticket_id: int) -> None:
        async with self.db.read() as s:
            await self._visible(s, person, ticket_id)

    async def snapshot(self, person: Person, ticket_id: int) -> tuple[dict[str, Any], int, int]:
        """(state, latest seq this person may see, latest seq of all)."""
        async with self.db.read() as s:
            ticket, org = await self._visible(s, person, ticket_id)
            upto = ticket.last_seq
            visible = upto if person.is_staff else await store.latest_visible_seq(s, ticket_id, staff=False, upto=upto)
            return store.snapshot(ticket, org), visible, upto

    async def replay(self, person: Person, ticket_id: int, since: int, upto: int) -> AsyncIterator[str]:
        """The frames of events in (since, upto] this person may see, in order, in pages."""
        while since < upto:
            async with self.db.read() as s:
                batch = await store.events_since(s, ticket_id, since, staff=person.is_staff, upto=upto, limit=500)
            if not batch:
                return
            for ev in batch:
                yield encode(store.event_frame(ev))
            since = batch[-1].seq

    async def events(
        self, person: Person, ticket_id: int, since: int, limit: int = 1000
    ) -> tuple[list[dict[str, Any]], bool]:
        """A page of events after `since`, and whether more follow (ask again with the last seq)."""
        async with self.db.read() as s:
            await self._visible(s, person, ticket_id)
            batch = await store.events_since(s, ticket_id, since, staff=person.is_staff, limit=limit + 1)
            return [store.event_frame(e) for e in batch[:limit]], len(batch) > limit

    async def list_for(self, person: Person) -> list[dict[str, Any]]:
        async with self.db.read() as s:
            rows = await store.list_for(s, person)
        return [{**store.snapshot(t, o), "org_name": o.name} for t, o in rows]

    async def open(
        self, person: Person, subject: object, body: object, priority: object = None, org_id: object = None
    ) -> dict[str, Any]:
        subject_ = rules.check_subject(subject)
        body_ = rules.check_body(body)
        priority_ = rules.check_priority(priority)
        now = self.clock.now()
        async with self._writing() as s:
            if person.is_staff:
                if not isinstance(org_id, int) or isinstance(org_id, bool):
                    raise BadRequestError("Staff open tickets for a client: give org_id.")
                org = await s.get(Organisation, org_id)
                if org is None:
                    raise BadRequestError("There is no organisation with that id.")
            else:
                if person.org_id is None:
                    raise ForbiddenError("Your account does not belong to an organisation.")
                org = await s.get(Organisation, person.org_id)
                if org is None or (org_id is not None and org_id != person.org_id):
                    raise ForbiddenError("You can open tickets only for your own organisation.")
            ticket = await store.create(s, org_id=org.id, opened_by=person.id, subject=subject_,
                                        priority=priority_.value, now=now)
            ev = await store.append_event(s, ticket.id, kind="chat", visibility="public", actor=person,
                                          data={"body": body_, "visibility": "public"}, now=now)
            await s.refresh(ticket)
            snap = store.snapshot(ticket, org)
            published = to_ev(ev)
        await self.hub.publish_event(ticket.id, published)
        return snap

    async def chat(
        self, person: Person, ticket_id: int, body: object, visibility: object,
        base_seq: object = None, force: object = False, *, authorized: bool = False,
    ) -> int:
        """One message; see `chat_many`."""
        request = self.chat_request(person, ticket_id, body, visibility, base_seq, force, authorized=authorized)
        (result,) = await self.chat_many(person, [request])
        if isinstance(result, LivesupportError):
            raise result
        return result

    @staticmethod
    def chat_request(
        person: Person, ticket_id: int, body: object, visibility: object, base_seq: object = None,
        force: object = False, *, authorized: bool = False,
    ) -> ChatRequest:
        """Check what can be checked without the database; raises for a bad message."""
        body_ = rules.check_body(body)
        vis = rules.check_visibility(person, visibility)
        if base_seq is not None and (not isinstance(base_seq, int) or isinstance(base_seq, bool) or base_seq < 0):
            raise BadRequestError("base_seq must be a whole number: the latest seq you had seen.")
        return ChatRequest(ticket_id, body_, vis, base_seq, force is True, authorized)  # type: ignore[arg-type]

    async def chat_many(self, person: Person, requests: list[ChatRequest]) -> list[int | LivesupportError]:
        """Store one author's messages in one transaction (a group commit), in order; then publish them.

        Each result is the message's seq, or why that message alone was refused.
        """
        now = self.clock.now()
        results: list[int | LivesupportError] = []
        stored: list[tuple[int, store.NewEvent]] = []
        async with self._writing() as s:
            run: list[ChatRequest] = []
            for req in requests:
                try:
                    await self._may_chat(s, person, req)
                except LivesupportError as exc:
                    results.append(exc)
                    continue
                if run and run[-1].ticket_id != req.ticket_id:
                    stored += await self._store_run(s, person, run, now)
                    run = []
                run.append(req)
                results.append(-1)  # filled in below
            if run:
                stored += await self._store_run(s, person, run, now)
        seqs = iter(stored)
        for i, r in enumerate(results):
            if r == -1:
                ticket_id, ev = next(seqs)
                results[i] = ev.seq
                await self.hub.publish_event(ticket_id, to_ev(ev))
        return results

    async def _may_chat(self, s: Any, person: Person, req: ChatRequest) -> None:
        if not req.authorized:
            await self._visible(s, person, req.ticket_id)
        if req.visibility == "public" and req.base_seq is not None and not req.force:
            newest = await s.scalar(
                select(func.max(TicketEvent.seq)).where(
                    TicketEvent.ticket_id == req.ticket_id, TicketEvent.kind == "chat",
                    TicketEvent.visibility == "public", TicketEvent.actor_id != person.id,
                )
            )
            if newest is not None and newest > req.base_seq:
                raise ConflictError("New messages arrived while you were writing. Read them, or send anyway.")

    @staticmethod
    async def _store_run(
        s: Any, person: Person, run: list[ChatRequest], now: datetime
    ) -> list[tuple[int, store.NewEvent]]:
        events = await store.append_events(
            s, run[0].ticket_id, kind="chat", actor=person, now=now,
            payloads=[(r.visibility, {"body": r.body, "visibility": r.visibility}) for r in run],
        )
        return [(run[0].ticket_id, e) for e in events]

    async def set_status(
        self, person: Person, ticket_id: int, status: object, next_update_at: object, *, given: bool
    ) -> int:
        status_ = rules.check_status(person, status)
        when: datetime | None = rules.parse_instant(next_update_at, "next_update_at")
        now = self.clock.now()
        async with self._writing() as s:
            ticket, _ = await self._visible(s, person, ticket_id)
            if not given:
                when = ticket.next_update_at
            changes: dict[str, Any] = {"status": status_.value, "next_update_at": when}
            data = {"status": status_.value, "next_update_at": store.iso(when)}
            ev = await store.append_event(s, ticket_id, kind="status", visibility="public", actor=person,
                                          data=data, now=now, changes=changes)
            published = to_ev(ev)
        await self.hub.publish_event(ticket_id, published)
        return published.seq

    @asynccontextmanager
    async def _writing(self) -> AsyncIterator[Any]:
        """A write transaction whose database failure becomes a retryable refusal, never a 500."""
        try:
            async with self.db.write() as s:
                yield s
        except (OperationalError, DBAPIError, OSError) as exc:
            log.error("database write failed: %s", exc)
            raise UnavailableError("That could not be saved just now; nothing was changed. Please try again.") from exc
