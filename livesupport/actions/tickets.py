"""Ticket use cases: every durable change is committed, then published to the hub."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy.exc import DBAPIError, OperationalError

from livesupport.actions.chat_writes import (
    ChatRequest as ChatRequest,  # spoken as tickets.ChatRequest
)
from livesupport.actions.chat_writes import ChatWrites, chat_data, to_ev
from livesupport.actions.join_cache import JoinCache
from livesupport.actions.lists import row_of, unreviewed
from livesupport.actions.reviews import ReviewMarks
from livesupport.actions.ticket_access import TicketAccess
from livesupport.actions.token_cache import Heard
from livesupport.clock import Clock
from livesupport.domain import sla
from livesupport.domain import tickets as rules
from livesupport.domain.errors import (
    BadRequestError,
    ForbiddenError,
    UnavailableError,
)
from livesupport.domain.listing import ListQuery
from livesupport.domain.numbers import parse_id
from livesupport.domain.outcomes import Policy
from livesupport.domain.people import Person
from livesupport.domain.sla import Target
from livesupport.domain.tickets import Priority, Status
from livesupport.realtime.access import AccessChange
from livesupport.realtime.frames import encode
from livesupport.realtime.hub import Ev, Hub
from livesupport.store import huddle as huddle_store
from livesupport.store import listing as listing_store
from livesupport.store import outcomes as outcome_store
from livesupport.store import search as search_store
from livesupport.store import tickets as store
from livesupport.store.database import Database
from livesupport.store.listing import Position
from livesupport.store.models import Organisation, Ticket

log = logging.getLogger("livesupport.tickets")

JOIN_CACHE_TTL = timedelta(seconds=30)  # a backstop, as the token cache's: forgetting is announced



Fields = dict[str, Any]


def priority_change(targets: dict[Priority, Target], priority: Priority, before: str, status: Status,
                    current: sla.NextUpdate, now: datetime) -> tuple[Fields, Fields]:
    """The ticket's changes and the `priority` event's data when its priority goes from `before` to `priority`:
    the SLA may bring the next update sooner."""
    due = sla.on_priority_change(targets, priority, status, current, now)
    changes: Fields = {"priority": priority.value}
    data: Fields = {"priority": priority.value, "from": before}
    if due is not None:
        changes.update(next_update_at=due.at, next_update_source=due.source)
        data.update(next_update_at=store.iso(due.at), next_update_source=due.source)
    return changes, data


def status_change(status: Status, due: sla.NextUpdate) -> tuple[Fields, Fields]:
    """The ticket's changes and the `status` event's data for a new status and the next update it promises."""
    changes: Fields = {"status": status.value, "next_update_at": due.at, "next_update_source": due.source}
    data: Fields = {"status": status.value, "next_update_at": store.iso(due.at), "next_update_source": due.source}
    return changes, data


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


class ClientMessages(Protocol):
    """Who hears, after publication, that a client wrote (the assigned engineers' desktop notices)."""

    def client_wrote(self, person: Person, ticket_id: int, seq: int, body: str) -> None: ...

    def forget(self, ticket_id: int) -> None: ...


#: Called in the transaction that resolves a ticket (session, ticket id, now): the satisfaction question.
OnResolved = Callable[[Any, int, datetime], Awaitable[None]]


class Tickets(TicketAccess, ChatWrites):
    def __init__(self, db: Database, hub: Hub, clock: Clock, sla_targets: dict[Priority, Target] | None = None,
                 policy: Policy | None = None, cache_ttl: timedelta = JOIN_CACHE_TTL) -> None:
        self.db, self.hub, self.clock = db, hub, clock
        self.sla = sla_targets or sla.parse_targets(sla.DEFAULT_TARGETS)
        self.policy = policy or Policy()  # reopening and the worker's closing rules (domain/outcomes.py)
        self.client_messages: ClientMessages | None = None
        self.on_resolved: OnResolved | None = None
        self.reviews = ReviewMarks(self.writing, hub, clock)
        # Whose each ticket is and join snapshots, per process (actions/join_cache.py): forgotten whenever anyone
        # may see something else, announced by any process; unused while announcements may not reach this one.
        self.joins = JoinCache(cache_ttl)
        self._heard = Heard(hub, self.joins.forget_all)
        hub.access_listeners.append(self._forget_joins)
        #: Each ticket's SLA fields as this process last wrote them with a chat (`_store_run`); only a guess: a
        #: write that finds the row changed reads them instead.
        self._sla_seen: dict[int, store.SlaFields] = {}

    def _forget_joins(self, change: AccessChange) -> None:
        self.joins.forget_all()

    def published(self, person: Person, ticket_id: int, ev: store.NewEvent) -> None:
        """A message was stored and published: tell whoever listens for clients' messages (no I/O here)."""
        if self.client_messages is not None and not person.is_staff and ev.visibility == "public":
            self.client_messages.client_wrote(person, ticket_id, ev.seq, str(ev.data.get("body", "")))

    async def staff(self) -> list[dict[str, Any]]:
        async with self.db.read() as s:
            return [huddle_store.shown(u) for u in (await huddle_store.staff_users(s)).values()]

    async def mark_reviewed(self, person: Person, ticket_id: int, seq: int) -> None:
        """This person has read the ticket up to `seq`: it is no longer new to them."""
        await self.reviews.mark(person.id, ticket_id, seq)  # one transaction for every mark of a burst

    async def replay(self, person: Person, ticket_id: int, since: int, upto: int) -> AsyncIterator[str]:
        """The frames of events in (since, upto] this person may see, in order, in pages."""
        while since < upto:
            async with self.db.read() as s:
                batch = await store.events_since(s, ticket_id, since, staff=person.is_staff, upto=upto, limit=500)
            if not batch:
                return
            for ev in batch:
                yield encode(store.event_frame(ev, staff=person.is_staff))
            since = batch[-1].seq

    async def events(
        self, person: Person, ticket_id: int, since: int, limit: int = 1000
    ) -> tuple[list[dict[str, Any]], bool]:
        """A page of events after `since`, and whether more follow (ask again with the last seq)."""
        async with self.db.read() as s:
            await self.visible(s, person, ticket_id)
            batch = await store.events_since(s, ticket_id, since, staff=person.is_staff, limit=limit + 1)
            return [store.event_frame(e, staff=person.is_staff) for e in batch[:limit]], len(batch) > limit

    async def list_page(
        self, person: Person, query: ListQuery, after: Position | None
    ) -> tuple[list[dict[str, Any]], Position | None, datetime]:
        """A page of the tickets this person may see that match the query (rows as the live lists show them),
        where the next page starts, and the instant the rows were read at (the injected clock)."""
        now = self.clock.now()
        async with self.db.read() as s:
            found, following = await listing_store.page(s, person, query, now, after)
            rows = await self._list_rows(s, person, found, now)
            if query.q is not None:  # each row shows where the words were found
                marked = await search_store.snippets(s, query.q, [r["id"] for r in rows], staff=person.is_staff)
                rows = [{**r, "snippet": marked.get(r["id"], "")} for r in rows]
            return rows, following, now

    async def _list_rows(
        self, s: Any, person: Person, rows: Sequence[tuple[Ticket, Organisation]], now: datetime
    ) -> list[dict[str, Any]]:
        ids = [t.id for t, _ in rows]
        assignees = await huddle_store.assignees(s, ids)
        reviewed = await huddle_store.reviews_of(s, person.id, ids)
        return [{**row_of(t, o, assignees[t.id], now, staff=person.is_staff),
                 "unreviewed": unreviewed(t, person, reviewed.get(t.id, 0))} for t, o in rows]

    async def open(
        self, person: Person, subject: object, body: object, priority: object = None, org_id: object = None,
        follows_up: object = None,
    ) -> dict[str, Any]:
        """A new ticket and its first message; `follows_up`: the id of an earlier ticket of the same organisation
        it carries on from (both get a `link` event naming the other)."""
        subject_ = rules.check_subject(subject)
        body_ = rules.check_body(body)
        priority_ = rules.check_priority(priority)
        earlier_id = None if follows_up in (None, "") else parse_id(follows_up)
        if follows_up not in (None, "") and (earlier_id is None or isinstance(follows_up, bool)):
            raise BadRequestError("follows_up must be the id of the ticket this one follows up.")
        now = self.clock.now()
        links: list[store.NewEvent] = []
        async with self.writing() as s:
            earlier = await self.visible(s, person, earlier_id) if earlier_id is not None else None
            if earlier is not None and person.is_staff and org_id is None:
                org_id = earlier[1].id  # a follow-up belongs where the ticket it follows belongs
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
            due = sla.on_open(self.sla, priority_, now)
            ev = await store.append_event(s, ticket.id, kind="chat", visibility="public", actor=person,
                                          data={"body": body_, "visibility": "public"}, now=now,
                                          changes={"next_update_at": due.at, "next_update_source": due.source})
            if earlier is not None:
                if earlier[1].id != org.id:
                    raise BadRequestError("A follow-up ticket belongs to the organisation of the ticket it follows.")
                links = await self._link(s, person, earlier[0], ticket, now)
            await s.refresh(ticket)
            snap = store.snapshot(ticket, org)
            published = to_ev(ev)
        await self.hub.publish_event(ticket.id, published)
        for link in links:
            await self.hub.publish_event(link.ticket_id, to_ev(link))
        return snap

    @staticmethod
    async def _link(s: Any, person: Person, earlier: Ticket, ticket: Ticket, now: datetime) -> list[store.NewEvent]:
        """Tie a follow-up to the ticket it follows, on both: a public `link` event each."""
        return [
            await store.append_event(s, ticket.id, kind=outcome_store.LINK, visibility="public", actor=person,
                                     data={"follows_up": {"id": earlier.id, "subject": earlier.subject}}, now=now),
            await store.append_event(s, earlier.id, kind=outcome_store.LINK, visibility="public", actor=person,
                                     data={"follow_up": {"id": ticket.id, "subject": ticket.subject}}, now=now),
        ]

    async def set_status(
        self, person: Person, ticket_id: int, status: object, next_update_at: object, *, given: bool
    ) -> int:
        status_ = rules.check_status(person, status)
        when: datetime | None = rules.parse_instant(next_update_at, "next_update_at")
        now = self.clock.now()
        async with self.writing() as s:
            ticket, _ = await self.visible(s, person, ticket_id)
            ev = await self._append_status(s, person, ticket, status_, when, given, now)
            published = to_ev(ev)
        await self.hub.publish_event(ticket_id, published)
        return published.seq

    async def set_priority(self, person: Person, ticket_id: int, priority: object) -> int | None:
        """Staff change a ticket's priority (a `priority` event); the SLA may bring the next update sooner.
        None when the ticket already has that priority (nothing stored, nothing sent)."""
        if not person.is_staff:
            raise ForbiddenError("Only support staff can change a ticket's priority.")
        if priority is None:
            raise BadRequestError("Choose the priority to set.")
        priority_ = rules.check_priority(priority)
        now = self.clock.now()
        async with self.writing() as s:
            ticket, _ = await self.visible(s, person, ticket_id)
            if ticket.priority == priority_.value:
                return None
            current = sla.NextUpdate(ticket.next_update_at, ticket.next_update_source)
            changes, data = priority_change(self.sla, priority_, ticket.priority, Status(ticket.status), current, now)
            ev = await store.append_event(s, ticket_id, kind="priority", visibility="public", actor=person,
                                          data=data, now=now, changes=changes)
            published = to_ev(ev)
        await self.hub.publish_event(ticket_id, published)
        return published.seq

    async def _append_status(
        self, s: Any, person: Person, ticket: Ticket, status_: Status, when: datetime | None, given: bool,
        now: datetime,
    ) -> store.NewEvent:
        if status_ in (Status.RESOLVED, Status.CLOSED):  # nothing more is promised on a solved ticket
            due = sla.NextUpdate(None, "sla")
        elif given:
            due = sla.NextUpdate(when, "staff" if when is not None else "sla")
        else:  # the SLA decides
            due = sla.on_staff_update(self.sla, Priority(ticket.priority), status_, now)
        changes, data = status_change(status_, due)
        ev = await store.append_event(s, ticket.id, kind="status", visibility="public", actor=person,
                                      data=data, now=now, changes=changes)
        if status_ is Status.RESOLVED and ticket.status != Status.RESOLVED.value:
            await self.resolved(s, ticket.id, now)
        return ev

    async def resolved(self, s: Any, ticket_id: int, now: datetime) -> None:
        """The ticket was just resolved, in this transaction: ask its client how it went (once)."""
        if self.on_resolved is not None:
            await self.on_resolved(s, ticket_id, now)

    async def chat_and_status(
        self, person: Person, req: ChatRequest, status: object, next_update_at: object, *, given: bool
    ) -> tuple[int, int]:
        """A message and a status change in one transaction, published in that order: (chat seq, status seq).

        Refused as a whole (nothing stored) when either part is refused: readers never see half of it.
        """
        status_ = rules.check_status(person, status)
        when: datetime | None = rules.parse_instant(next_update_at, "next_update_at")
        now = self.clock.now()
        async with self.writing() as s:
            ticket, _ = await self.visible(s, person, req.ticket_id)  # a status change needs more than the join
            await self.may_chat(s, person, req)
            # The status event carries the promise of the next update; the message leaves it to it.
            chat = await store.append_event(s, req.ticket_id, kind="chat", visibility=req.visibility, actor=person,
                                            data=chat_data(req), now=now)
            ev = await self._append_status(s, person, ticket, status_, when, given, now)
        await self.hub.publish_event(req.ticket_id, to_ev(chat))
        self.published(person, req.ticket_id, chat)
        await self.hub.publish_event(req.ticket_id, to_ev(ev))
        return chat.seq, ev.seq

    @asynccontextmanager
    async def writing(self, transaction: Callable[[], AbstractAsyncContextManager[Any]] | None = None
                      ) -> AsyncIterator[Any]:
        """A write transaction whose database failure becomes a retryable refusal, never a 500 (`transaction`: one
        from `Database.writer`, on a connection kept for many; a new one from the pool by default)."""
        try:
            async with (transaction or self.db.write)() as s:
                yield s
        except (OperationalError, DBAPIError, OSError) as exc:
            log.error("database write failed: %s", exc)
            raise UnavailableError("That could not be saved just now; nothing was changed. Please try again.") from exc
