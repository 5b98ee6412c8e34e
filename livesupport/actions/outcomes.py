"""How tickets end: a client marks one solved or reopens it (or the status is set over HTTP by staff), and the
worker closes what stayed solved and chases what waits on the client. Each is a public event, published after
its commit, and told to the client by e-mail when nobody of theirs did it."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from livesupport.actions.mail import Mailer
from livesupport.actions.ratings import Ratings
from livesupport.actions.tickets import Tickets, status_change, to_ev
from livesupport.domain import outcomes as rules
from livesupport.domain import sla
from livesupport.domain.errors import ConflictError, ForbiddenError
from livesupport.domain.outcomes import Due, Policy, Waiting
from livesupport.domain.people import Person
from livesupport.domain.tickets import Priority, Status
from livesupport.domain.update_mail import when
from livesupport.store import outcomes as store
from livesupport.store import tickets as tickets_store
from livesupport.store.models import Ticket

log = logging.getLogger("livesupport.outcomes")

PER_RUN = 500  # tickets looked at per worker run; the rest wait for the next


class Outcomes:
    def __init__(self, tickets: Tickets, mailer: Mailer, ratings: Ratings, policy: Policy, tz: ZoneInfo,
                 base_url: str | None) -> None:
        self.tickets, self.mailer, self.ratings, self.policy, self.tz = tickets, mailer, ratings, policy, tz
        self.db, self.clock, self.hub = tickets.db, tickets.clock, tickets.hub
        self.base = base_url or ""

    # -- over HTTP ---------------------------------------------------------------------------------------

    async def set_status(self, person: Person, ticket_id: int, status: object, next_update_at: object,
                         *, given: bool) -> int:
        """Staff: any status (the socket's `status` frame over HTTP). The ticket's client: only `resolved`."""
        if person.is_staff:
            return await self.tickets.set_status(person, ticket_id, status, next_update_at, given=given)
        status_ = rules.check_client_status(person, status)
        now = self.clock.now()
        async with self.tickets.writing() as s:
            ticket, _ = await self.tickets.visible(s, person, ticket_id, lock=True)
            if not rules.is_ticket_client(person, ticket.org_id):
                raise ForbiddenError("Only the ticket's own contacts can mark it solved.")
            if ticket.status in rules.ENDED:
                raise ConflictError("This ticket is already solved." if ticket.status == Status.RESOLVED.value
                                    else "This ticket is closed.")
            due = sla.on_staff_update(self.tickets.sla, Priority(ticket.priority), status_, now)  # paused
            changes, data = status_change(status_, due)
            data["by_client"] = True
            ev = await tickets_store.append_event(s, ticket_id, kind="status", visibility="public", actor=person,
                                                  data=data, now=now, changes=changes)
            await self.tickets.resolved(s, ticket_id, now)
        await self.hub.publish_event(ticket_id, to_ev(ev))
        return ev.seq

    async def reopen(self, person: Person, ticket_id: int) -> int:
        """The ticket's client reopens it within REOPEN_DAYS of its resolving: back in progress, and the SLA's
        response clock starts again. Later, or once closed, a ConflictError offers a follow-up ticket."""
        now = self.clock.now()
        async with self.tickets.writing() as s:
            ticket, _ = await self.tickets.visible(s, person, ticket_id, lock=True)
            if not (person.is_staff or rules.is_ticket_client(person, ticket.org_id)):
                raise ForbiddenError("Only the ticket's own contacts can reopen it.")
            rules.check_reopen(ticket.id, ticket.status, await store.resolved_at(s, ticket.id), now, self.policy)
            due = sla.on_client_message(self.tickets.sla, Priority(ticket.priority), Status.IN_PROGRESS,
                                        sla.NextUpdate(None, "sla"), now)
            assert due is not None
            changes, data = status_change(Status.IN_PROGRESS, due)
            data["reopened"] = True
            ev = await tickets_store.append_event(s, ticket_id, kind="status", visibility="public", actor=person,
                                                  data=data, now=now, changes=changes)
            current = await tickets_store.current(s, ticket_id, assignees=True, lock=False)
        await self.hub.publish_event(ticket_id, to_ev(ev))
        if current is not None:
            self.ratings.tell_assignees(current.assignees, {
                "kind": "reopened", "seq": ev.seq, "ticket": {"id": ticket_id, "subject": ticket.subject},
                "by": person.public(), "url": f"/tickets/{ticket_id}"})
        return ev.seq

    # -- the worker ----------------------------------------------------------------------------------------

    async def run(self, now: datetime | None = None) -> str:
        """Close what stayed resolved, remind and then resolve what waits on the client (each once)."""
        now = now or self.clock.now()
        async with self.db.read() as s:
            found = await store.waiting(s, now - rules.earliest_wait(self.policy), PER_RUN)
        done = {d: 0 for d in Due}
        for facts, seq in found:
            action = rules.due(facts, now, self.policy)
            if action is None:
                continue
            try:
                if await self._apply(facts, seq, action, now):
                    done[action] += 1
            except Exception:  # noqa: BLE001 - one ticket's trouble does not stop the others; the next run retries
                log.exception("could not %s ticket %d", action.value, facts.ticket_id)
        return (f"tickets closed {done[Due.CLOSE]}, waiting reminders {done[Due.REMIND]}, "
                f"waiting tickets resolved {done[Due.RESOLVE]}")

    async def _apply(self, facts: Waiting, seq: int, action: Due, now: datetime) -> bool:
        """One ticket's due change, if the ticket is still as it was read (else a later run decides again)."""
        async with self.tickets.writing() as s:
            found = await tickets_store.get(s, facts.ticket_id, lock=True)
            if found is None or found[0].status != facts.status or \
                    await store.latest_status_seq(s, facts.ticket_id) != seq:
                return False
            ticket = found[0]
            if action is Due.REMIND:
                if not await store.once(s, store.reminder_key(ticket.id, seq), now):
                    return False
                resolve_on = facts.since + timedelta(days=self.policy.waiting_resolve_days)
                ev = await tickets_store.append_event(
                    s, ticket.id, kind="reminder", visibility="public", actor=None, now=now,
                    data={"waiting_since": tickets_store.iso(facts.since), "resolve_at": tickets_store.iso(resolve_on)})
                subject, body = reminder_mail(ticket, resolve_on, self.tz, self._url(ticket.id))
            else:
                status = Status.CLOSED if action is Due.CLOSE else Status.RESOLVED
                changes, data = status_change(status, sla.NextUpdate(None, "sla"))
                data["automatic"] = action.value
                ev = await tickets_store.append_event(s, ticket.id, kind="status", visibility="public", actor=None,
                                                      data=data, now=now, changes=changes)
                if status is Status.RESOLVED:
                    await self.tickets.resolved(s, ticket.id, now)
                subject, body = (closed_mail if action is Due.CLOSE else resolved_mail)(
                    ticket, self.policy, self._url(ticket.id))
            for user in await store.client_contacts(s, ticket.id):
                await self.mailer.queue(s, user.email, subject, f"Hello {user.name},\n\n{body}",
                                        await self.ratings.threads.headers(s, ticket.id, user.id,
                                                                           f"{action.value}.{ev.seq}.{user.id}"))
        await self.hub.publish_event(ticket.id, to_ev(ev))
        return True

    def _url(self, ticket_id: int) -> str:
        return f"{self.base}/tickets/{ticket_id}"


# -- what the client reads ---------------------------------------------------------------------------------------

def reminder_mail(ticket: Ticket, resolve_at: datetime, tz: ZoneInfo, url: str) -> tuple[str, str]:
    return (f"[#{ticket.id}] We are waiting for your answer: {ticket.subject}",
            f"Your ticket #{ticket.id} \"{ticket.subject}\" is waiting for an answer from you.\n\n"
            f"If we do not hear from you, we will mark it solved on {when(resolve_at, tz)}. "
            f"To carry on, reply on the ticket:\n{url}\n")


def resolved_mail(ticket: Ticket, policy: Policy, url: str) -> tuple[str, str]:
    return (f"[#{ticket.id}] Marked solved: {ticket.subject}",
            f"We did not hear back about ticket #{ticket.id} \"{ticket.subject}\" for "
            f"{policy.waiting_resolve_days} days, so we marked it solved.\n\n"
            f"Not solved after all? Reopen it within {policy.reopen_days} days:\n{url}\n")


def closed_mail(ticket: Ticket, policy: Policy, url: str) -> tuple[str, str]:
    return (f"[#{ticket.id}] Closed: {ticket.subject}",
            f"Ticket #{ticket.id} \"{ticket.subject}\" was solved {policy.auto_close_days} days ago and is now "
            f"closed.\n\nIf the problem comes back, open a follow-up ticket from the ticket's page:\n{url}\n")
