"""Bulk changes: many tickets, each in its own transaction with its own events, one refusal stopping none."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterator
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from livesupport.actions.huddle import Huddle, assignment
from livesupport.actions.tickets import Tickets, priority_change, status_change, to_ev
from livesupport.domain import bulk as rules
from livesupport.domain import sla
from livesupport.domain.errors import (
    BadRequestError,
    ForbiddenError,
    LivesupportError,
    NotFoundError,
    UnavailableError,
)
from livesupport.domain.people import Person, can_see_org
from livesupport.domain.tickets import Priority, Status
from livesupport.store import huddle as huddle_store
from livesupport.store import tickets as store
from livesupport.store.models import User

log = logging.getLogger("livesupport.bulk")

#: Tickets changed at the same time on PostgreSQL, each worker on a connection of its own (one ticket's
#: transaction waits on round trips to the database, not on this process). SQLite has one writer: one worker.
POSTGRES_WORKERS = 4
Transaction = Callable[[], AbstractAsyncContextManager[Any]]


@dataclass
class Run:
    """One bulk change under way: what is asked, by whom, the engineers it names, and each ticket's outcome."""

    person: Person
    change: rules.BulkChange
    people: dict[int, User]
    pending: Iterator[int]
    refused: dict[int, LivesupportError]


class Bulk:
    def __init__(self, tickets: Tickets, huddle: Huddle, workers: int | None = None) -> None:
        self.tickets, self.huddle = tickets, huddle
        self.workers = workers or (1 if tickets.db.is_sqlite else POSTGRES_WORKERS)

    async def change(self, person: Person, body: dict[str, Any]) -> dict[str, Any]:
        """Apply the change to each ticket in its own transaction, then publish that ticket's events (live to its
        viewers); a ticket refused is reported with why, and the others go on."""
        if not person.is_staff:
            raise ForbiddenError("Only support staff can change tickets in bulk.")
        change = rules.parse(body)
        named = change.assign + change.unassign
        people: dict[int, User] = {}
        if named:
            async with self.tickets.db.read() as s:  # those named, and those on the tickets now (events name them)
                people = await huddle_store.staff_users(
                    s, {*named, *await huddle_store.assignee_ids(s, change.ids)})
            unknown = [u for u in named if u not in people]
            if unknown:
                raise BadRequestError(f"No engineer has the id {unknown[0]}; only staff can be assigned.")
        run = Run(person, change, people, iter(change.ids), {})
        outcomes = await asyncio.gather(*(self._work(run) for _ in range(min(self.workers, len(change.ids)))),
                                        return_exceptions=True)
        for failure in outcomes:
            if isinstance(failure, BaseException):
                log.error("a bulk change's connection failed: %s", failure)
        for ticket_id in run.pending:  # left over when no connection could be had
            run.refused[ticket_id] = UnavailableError("That could not be saved just now; nothing was changed. "
                                                      "Please try again.")
        return {"updated": [t for t in change.ids if t not in run.refused],
                "refused": [{"id": t, "error": {"code": run.refused[t].code, "message": run.refused[t].message}}
                            for t in change.ids if t in run.refused]}

    async def _work(self, run: Run) -> None:
        """Take the next ticket until none is left, on one connection (a new one after a failed write)."""
        while True:
            async with self.tickets.db.writer() as transaction:
                for ticket_id in run.pending:
                    try:
                        await self._one(run, transaction, ticket_id)
                    except UnavailableError as exc:
                        run.refused[ticket_id] = exc
                        break  # the connection may be gone
                    except LivesupportError as exc:
                        run.refused[ticket_id] = exc
                else:
                    return

    async def _one(self, run: Run, transaction: Transaction, ticket_id: int) -> None:
        """One ticket, in one transaction: the priority first (a status set after it restarts the SLA clock on the
        new priority's target), then the status, then the engineers; each part that changes something is an
        event. Published once committed, in that order."""
        person, change, now = run.person, run.change, self.tickets.clock.now()
        added: list[int] = []
        async with self.tickets.writing(transaction) as s:
            current = await store.current(s, ticket_id, assignees=bool(change.assign or change.unassign),
                                          lock=True)
            if current is None or not can_see_org(person, current.org_id, current.org_partner_id):
                raise ForbiddenError("You cannot open that ticket.")  # as for a ticket that does not exist
            events, changes = self._plan(current, change, now)
            if change.assign or change.unassign:
                wanted = rules.assignees_after(current.assignees, change.assign, change.unassign)
                if set(wanted) != set(current.assignees):
                    await self._engineers(s, run.people, wanted)
                    await huddle_store.set_assignees(s, ticket_id, wanted, now)
                    data, added = assignment(run.people, current.assignees, wanted)
                    events.append(("assignment", "public", data))
            if not events:
                return  # already as asked: nothing stored, nothing sent
            stored = await store.append_kinds(s, ticket_id, actor=person, events=events, now=now, changes=changes)
            if change.status is Status.RESOLVED and current.status != Status.RESOLVED.value:
                await self.tickets.resolved(s, ticket_id, now)  # the satisfaction question, as for one ticket
        for ev in stored:
            if ev.kind == "assignment":
                await self.huddle.assigned(person, ticket_id, current.subject, to_ev(ev), added)
            else:
                await self.tickets.hub.publish_event(ticket_id, to_ev(ev))

    def _plan(self, current: store.Current, change: rules.BulkChange,
              now: datetime) -> tuple[list[tuple[str, str, dict[str, Any]]], dict[str, Any]]:
        """The priority and status events and the ticket's changes, as the single changes would make them."""
        events: list[tuple[str, str, dict[str, Any]]] = []
        changes: dict[str, Any] = {}
        priority, status = Priority(current.priority), Status(current.status)
        if change.priority is not None and change.priority is not priority:
            due = sla.NextUpdate(current.next_update_at, current.next_update_source)
            fields, data = priority_change(self.tickets.sla, change.priority, current.priority, status, due, now)
            events.append(("priority", "public", data))
            changes.update(fields)
            priority = change.priority
        if change.status is not None:
            fields, data = status_change(change.status, sla.on_staff_update(self.tickets.sla, priority,
                                                                            change.status, now))
            events.append(("status", "public", data))
            changes.update(fields)
        return events, changes

    @staticmethod
    async def _engineers(s: Any, people: dict[int, User], wanted: list[int]) -> None:
        """Make sure `people` holds every engineer in `wanted` (one assigned since the change began is read now)."""
        missing = [u for u in wanted if u not in people]
        if missing:
            people.update(await huddle_store.staff_users(s, missing))
        unknown = [u for u in wanted if u not in people]
        if unknown:
            raise NotFoundError(f"No engineer has the id {unknown[0]}; only staff can be assigned.")
