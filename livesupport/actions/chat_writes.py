"""Chat: a person's messages stored in group commits (a burst in one transaction), then published, and what a
public message does to the promise of the next update. Part of `Tickets` (actions/tickets.py)."""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, func, select

from livesupport import metrics
from livesupport.clock import Clock
from livesupport.domain import sla
from livesupport.domain import tickets as rules
from livesupport.domain.errors import (
    BadRequestError,
    ConflictError,
    LivesupportError,
    NotFoundError,
)
from livesupport.domain.huddle import whole_number
from livesupport.domain.people import Person
from livesupport.domain.sla import Target
from livesupport.domain.tickets import Priority, Status
from livesupport.realtime.frames import encode
from livesupport.realtime.hub import Ev, Hub
from livesupport.store import tickets as store
from livesupport.store.database import Database
from livesupport.store.models import Organisation, Ticket, TicketEvent

# What a chat reads of its ticket for the update clock: a Core statement built once (the ORM's select costs a
# message's group commit more CPU than the round trip itself).
_TICKET_COLUMNS = cast(Table, Ticket.__table__).c
_TICKET_ID = _TICKET_COLUMNS.id
#: How many tickets' SLA fields a process remembers (`Tickets._sla_seen`): a few hundred bytes each.
SLA_SEEN_LIMIT = 10_000
_SLA_FIELDS = select(_TICKET_COLUMNS.status, _TICKET_COLUMNS.priority, _TICKET_COLUMNS.next_update_at,
                     _TICKET_COLUMNS.next_update_source)


def to_ev(ev: TicketEvent | store.NewEvent) -> Ev:
    client_text = encode(store.event_frame(ev, staff=False)) if store.has_staff_detail(ev.kind, ev.data) else None
    return Ev(ev.seq, ev.visibility == "internal", encode(store.event_frame(ev)), client_text=client_text)


def chat_data(req: ChatRequest) -> dict[str, Any]:
    data: dict[str, Any] = {"body": req.body, "visibility": req.visibility}
    if req.reply_to is not None:
        data["reply_to"] = req.reply_to
    return data


@dataclass(frozen=True, slots=True)
class ChatRequest:
    """A message that passed the checks needing no database."""

    ticket_id: int
    body: str
    visibility: str
    base_seq: int | None
    force: bool
    authorized: bool  # the sender's socket joined the ticket, so it may see it
    reply_to: int | None = None  # the seq of the message this one answers


class ChatWrites:
    """`Tickets`' chat (a mixin: the attributes below are `Tickets`')."""

    hub: Hub
    db: Database
    clock: Clock
    sla: dict[Priority, Target]
    _sla_seen: dict[int, store.SlaFields]
    writing: Callable[..., AbstractAsyncContextManager[Any]]

    async def visible(self, s: Any, person: Person, ticket_id: int, *, lock: bool = False
                      ) -> tuple[Any, Organisation]:
        raise NotImplementedError  # actions/ticket_access.py

    def remembered(self, person: Person, ticket_id: int) -> bool:
        raise NotImplementedError  # actions/ticket_access.py

    async def visible_remembering(self, s: Any, person: Person, ticket_id: int) -> None:
        raise NotImplementedError  # actions/ticket_access.py

    def published(self, person: Person, ticket_id: int, ev: store.NewEvent) -> None:
        raise NotImplementedError  # actions/tickets.py

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
        force: object = False, *, authorized: bool = False, reply_to: object = None,
    ) -> ChatRequest:
        """Check what can be checked without the database; raises for a bad message."""
        body_ = rules.check_body(body)
        vis = rules.check_visibility(person, visibility)
        if base_seq is not None and (not isinstance(base_seq, int) or isinstance(base_seq, bool) or base_seq < 0):
            raise BadRequestError("base_seq must be a whole number: the latest seq you had seen.")
        parent = None if reply_to is None else whole_number(reply_to, "reply_to")
        return ChatRequest(ticket_id, body_, vis, base_seq, force is True, authorized,  # type: ignore[arg-type]
                           parent)

    async def chat_many(self, person: Person, requests: list[ChatRequest]) -> list[int | LivesupportError]:
        """Store one author's messages in one transaction (a group commit), in order; then publish them.

        Each result is the message's seq, or why that message alone was refused.
        """
        results, stored = await self.store_chats(person, requests)
        await self.announce_chats(person, stored)
        return results

    async def announce_chats(self, person: Person, stored: list[tuple[int, store.NewEvent]]) -> None:
        """Publish what `store_chats` stored, in its order; returns once this process's sockets have it."""
        for ticket_id, ev in stored:
            await self.hub.publish_event(ticket_id, to_ev(ev))
            self.published(person, ticket_id, ev)

    async def store_chats(self, person: Person, requests: list[ChatRequest]
                          ) -> tuple[list[int | LivesupportError], list[tuple[int, store.NewEvent]]]:
        """`chat_many`'s transaction: the results, and the events stored (for `announce_chats`), in order."""
        now = self.clock.now()
        begun = time.monotonic_ns()
        alone = self._one_statement(person, requests)
        if alone is not None:  # PostgreSQL, nothing to read first: the statement is the whole transaction
            try:
                async with self.writing(self.db.statement) as s:
                    stored = await self._append_run(s, person, requests, now, alone, alone)
                metrics.stage("commit", begun)
                return [ev.seq for _, ev in stored], stored
            except store.TicketChanged:  # nothing was written: the transaction below reads the fields
                self._sla_seen.pop(requests[0].ticket_id, None)
        results: list[int | LivesupportError] = []
        stored = []
        async with self.writing() as s:
            run: list[ChatRequest] = []
            for req in requests:
                try:
                    await self.may_chat(s, person, req)
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
        metrics.stage("commit", begun)
        seqs = iter(stored)
        for i, r in enumerate(results):
            if r == -1:
                results[i] = next(seqs)[1].seq
        return results, stored

    def _one_statement(self, person: Person, requests: list[ChatRequest]) -> store.SlaFields | bool | None:
        """Whether this burst is one statement with nothing to read before it (no I/O): PostgreSQL, one ticket the
        sender may see as far as this process knows, no conflict or reply to check, and the SLA fields remembered
        when a message is public. Returns those fields (False: none needed), or None when it is not."""
        if self.db.is_sqlite:
            return None
        ticket_id = requests[0].ticket_id
        for req in requests:
            if req.ticket_id != ticket_id or req.reply_to is not None \
                    or (req.visibility == "public" and req.base_seq is not None and not req.force):
                return None
            try:
                if not req.authorized and not self.remembered(person, ticket_id):
                    return None
            except LivesupportError:  # refused: the transaction says so, request by request
                return None
        if not any(r.visibility == "public" for r in requests):
            return False
        return self._sla_seen.get(ticket_id)

    async def may_chat(self, s: Any, person: Person, req: ChatRequest) -> None:
        # A socket that joined the ticket may see it; else whose the ticket is, as this process remembers it (what
        # a join asks too: forgotten on every process at any change of access), or read and remembered.
        if not req.authorized and not self.remembered(person, req.ticket_id):
            await self.visible_remembering(s, person, req.ticket_id)
        if req.visibility == "public" and req.base_seq is not None and not req.force:
            newest = await s.scalar(
                select(func.max(TicketEvent.seq)).where(
                    TicketEvent.ticket_id == req.ticket_id, TicketEvent.kind == "chat",
                    TicketEvent.visibility == "public", TicketEvent.actor_id != person.id,
                )
            )
            if newest is not None and newest > req.base_seq:
                raise ConflictError("New messages arrived while you were writing. Read them, or send anyway.")
        if req.reply_to is not None:
            parent = await s.scalar(select(TicketEvent.visibility).where(
                TicketEvent.ticket_id == req.ticket_id, TicketEvent.seq == req.reply_to, TicketEvent.kind == "chat"))
            if parent is None or not rules.may_see(person, parent):
                raise NotFoundError("The message you are answering is not on this ticket.")
            if parent == "internal" and req.visibility == "public":
                raise BadRequestError("A public reply cannot quote an internal note; answer it internally.")

    async def _store_run(
        self, s: Any, person: Person, run: list[ChatRequest], now: datetime
    ) -> list[tuple[int, store.NewEvent]]:
        """One ticket's part of a burst. A public message may move the promise of the next update, which depends on
        the ticket's SLA fields: they are taken as this process last wrote them, and the write stores only if the
        row still holds them (no read of its own: a round trip less per message); if it does not, they are read."""
        ticket_id = run[0].ticket_id
        public = any(r.visibility == "public" for r in run)
        fields = (self._sla_seen.get(ticket_id) or await self.sla_fields(s, ticket_id)) if public else False
        try:
            return await self._append_run(s, person, run, now, fields, fields)
        except store.TicketChanged:  # changed meanwhile, and nothing was written: read them, holding the row
            return await self._append_run(s, person, run, now, await self.sla_fields(s, ticket_id, lock=True),
                                          False)

    async def _append_run(self, s: Any, person: Person, run: list[ChatRequest], now: datetime,
                          fields: store.SlaFields | bool, guard: store.SlaFields | bool
                          ) -> list[tuple[int, store.NewEvent]]:
        """One ticket's messages in one statement. `fields`: its SLA fields (False: no public message needs them);
        `guard`: store only if the row still holds these (False: unconditionally), else raise TicketChanged."""
        ticket_id = run[0].ticket_id
        sla = fields if isinstance(fields, store.SlaFields) else None
        changes = None if sla is None else self.sla_change(person, sla, now)
        payloads = [(r.visibility, chat_data(r)) for r in run]
        if changes is not None:  # the message moved the promise of the next update: say so to everyone
            for vis, data in payloads:
                if vis == "public":
                    data.update(next_update_at=store.iso(changes["next_update_at"]),
                                next_update_source=changes["next_update_source"])
        events = await store.append_events(s, ticket_id, kind="chat", actor=person, now=now, changes=changes,
                                           payloads=payloads,
                                           unless_changed=guard if isinstance(guard, store.SlaFields) else None)
        if sla is not None:
            self._remember_sla(ticket_id, sla if changes is None else sla._replace(
                next_update_at=changes["next_update_at"], next_update_source=changes["next_update_source"]))
        return [(ticket_id, e) for e in events]

    def _remember_sla(self, ticket_id: int, fields: store.SlaFields) -> None:
        if len(self._sla_seen) >= SLA_SEEN_LIMIT:  # the oldest out (insertion order)
            del self._sla_seen[next(iter(self._sla_seen))]
        self._sla_seen.pop(ticket_id, None)
        self._sla_seen[ticket_id] = fields

    async def sla_fields(self, s: Any, ticket_id: int, *, lock: bool = False) -> store.SlaFields:
        """The ticket's SLA fields now (`lock`: its row held until the transaction ends, see store.current)."""
        stmt = _SLA_FIELDS.where(_TICKET_ID == ticket_id)
        if lock:
            stmt = stmt.with_for_update(key_share=True)
        row = (await s.execute(stmt)).one()
        return store.SlaFields(row.status, row.priority, row.next_update_at, row.next_update_source)

    def sla_change(self, person: Person, fields: store.SlaFields, now: datetime) -> dict[str, Any] | None:
        """A public message from staff restarts the update clock; one from a client restarts a paused clock."""
        status, priority = Status(fields.status), Priority(fields.priority)
        if person.is_staff:
            due: sla.NextUpdate | None = sla.on_staff_update(self.sla, priority, status, now)
        else:
            current = sla.NextUpdate(fields.next_update_at, fields.next_update_source)
            due = sla.on_client_message(self.sla, priority, status, current, now)
        return None if due is None else {"next_update_at": due.at, "next_update_source": due.source}

    async def sla_after_chat(self, s: Any, person: Person, ticket_id: int, now: datetime) -> dict[str, Any] | None:
        """What a public message does to the ticket's SLA, read in this transaction (e-mail, attachments)."""
        return self.sla_change(person, await self.sla_fields(s, ticket_id), now)
