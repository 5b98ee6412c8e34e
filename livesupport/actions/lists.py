"""Live lists: the staff queue and an organisation's tickets, with counters that count what is new to you.

Whenever a ticket changes (an event, its viewers), every process hears "these tickets changed" and
sends the rows and counters of its own listeners again, each as that person sees them.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, exists, select
from sqlalchemy.orm import aliased

from livesupport.clock import Clock
from livesupport.domain import sla
from livesupport.domain.errors import ForbiddenError
from livesupport.domain.numbers import parse_id
from livesupport.domain.people import Person, Role, can_see_org
from livesupport.realtime.frames import encode
from livesupport.realtime.hub import Hub
from livesupport.realtime.outbox import Outbox
from livesupport.store import huddle as huddle_store
from livesupport.store import tickets as store
from livesupport.store.database import Database
from livesupport.store.models import Organisation, Ticket, TicketAssignee, TicketReview

log = logging.getLogger("livesupport.lists")

OPEN = [s.value for s in sla.OPEN]
ROWS_LIMIT = 200


def row_of(ticket: Ticket, org: Organisation, assignees: list[dict[str, Any]], now: datetime,
           staff: bool = True) -> dict[str, Any]:
    """A ticket as the lists show it to staff or to clients, before who is on it and what is new to whom."""
    return {**store.snapshot(ticket, org, assignees, staff=staff), "org_name": org.name,
            "overdue": sla.is_overdue(ticket.status, ticket.next_update_at, now)}


def unreviewed(ticket: Ticket, person: Person, reviewed_seq: int) -> bool:
    """Has this ticket anything this person may see and has not read? (Clients do not count internal events.)"""
    return (ticket.last_seq if person.is_staff else ticket.last_public_seq) > reviewed_seq


def counted(row: dict[str, Any], person: Person) -> tuple[Any, ...]:
    """What of a row the counters depend on."""
    return (row["status"], row["overdue"], row["unreviewed"], bool(row["assignees"]),
            any(a["id"] == person.id for a in row["assignees"]))


def scope_of(topic: str) -> int | None:
    """`queue` -> None (every organisation); `org:<id>` -> id."""
    if topic == "queue":
        return None
    kind, _, ident = topic.partition(":")
    org_id = parse_id(ident)
    if kind != "org" or org_id is None:
        raise ForbiddenError("You cannot open that topic.")
    return org_id


class Lists:
    def __init__(self, db: Database, hub: Hub, clock: Clock) -> None:
        self.db, self.hub, self.clock = db, hub, clock
        hub.on_lists_changed = self.refresh
        self._sent: dict[tuple[Outbox, str], dict[str, int]] = {}  # the counters each listener last got
        # What of each ticket the listener's counters depend on: when none of it moved, the counts did not either.
        self._counted: dict[tuple[Outbox, str], dict[int, tuple[Any, ...]]] = {}
        # The row each listener last got of each ticket: one that did not change for them is not sent again (an
        # internal note changes nothing a client sees, and their list must not flicker as if it had).
        self._rows_sent: dict[tuple[Outbox, str], dict[int, int]] = {}  # ticket id -> hash of the row
        # Listeners that joined with "state": false want the organisation's notices, not its rows and counters.
        self._quiet: set[tuple[Outbox, str]] = set()
        self._due: dict[int, datetime] = {}  # open tickets not yet overdue, and when they will be
        self._due_timer: asyncio.TimerHandle | None = None
        self._lock = asyncio.Lock()
        self._tasks: set[asyncio.Task[None]] = set()

    # -- joining ---------------------------------------------------------------------

    async def authorize(self, person: Person, topic: str) -> None:
        org_id = scope_of(topic)
        if org_id is None:
            if not person.is_staff:
                raise ForbiddenError("You cannot open that topic.")
            return
        if person.is_staff or (person.org_id == org_id and person.role is not Role.PARTNER):
            return
        async with self.db.read() as s:
            org = await s.get(Organisation, org_id)
        if org is None or not can_see_org(person, org.id, org.partner_id):
            raise ForbiddenError("You cannot open that topic.")

    async def state(self, box: Outbox, topic: str) -> dict[str, Any]:
        """What `joined` carries: the counters and the rows, as this person sees them."""
        person, org_id = box.person, scope_of(topic)
        async with self.db.read() as s:
            stmt = select(Ticket, Organisation).join(Organisation, Organisation.id == Ticket.org_id)
            if org_id is not None:
                stmt = stmt.where(Ticket.org_id == org_id)
            stmt = stmt.order_by(store.updated_column(person.is_staff).desc(), Ticket.id.desc()).limit(ROWS_LIMIT)
            found = [(t, o) for t, o in (await s.execute(stmt)).all()]
            rows = await self._rows(s, found, [person])
            counts = await self._counts(s, person, org_id)
        self._sent[(box, topic)] = counts
        self._quiet.discard((box, topic))
        shown = [rows[(person.id, t.id)] for t, _ in found]
        self._counted[(box, topic)] = {r["id"]: counted(r, person) for r in shown}
        self._rows_sent[(box, topic)] = {r["id"]: hash(encode(r)) for r in shown}
        return {"counts": counts, "tickets": shown}

    def quiet(self, box: Outbox, topic: str) -> None:
        """This listener gets no rows or counters (a page that only shows billing notices), unless the same
        connection also joined for them (a list page whose banner shares its socket)."""
        if (box, topic) not in self._sent:
            self._quiet.add((box, topic))

    # -- what changed ------------------------------------------------------------------

    async def refresh(self, ids: list[int] | None) -> None:
        """Send the rows of these tickets (all rows when None) and the counters that moved, to every listener here."""
        async with self._lock:  # one refresh at a time keeps the frames in order
            try:
                await self._refresh(ids)
            except Exception:  # noqa: BLE001 - the next change brings everything up to date again
                log.exception("refreshing the live lists failed")

    async def _refresh(self, ids: list[int] | None) -> None:
        feeds = self.hub.feeds
        self._quiet = {k for k in self._quiet if k[0] in feeds.get(k[1], {})}
        listeners = [(box, topic, scope_of(topic)) for topic, subs in feeds.items()
                     if not topic.startswith("user:") for box in subs if (box, topic) not in self._quiet]
        self._sent = {k: v for k, v in self._sent.items() if k[0] in feeds.get(k[1], {})}
        self._counted = {k: v for k, v in self._counted.items() if k in self._sent}
        self._rows_sent = {k: v for k, v in self._rows_sent.items() if k in self._sent}
        if not listeners:
            return
        people = {box.person.id: box.person for box, _, _ in listeners}
        async with self.db.read() as s:
            stmt = select(Ticket, Organisation).join(Organisation, Organisation.id == Ticket.org_id)
            if ids is not None:
                stmt = stmt.where(Ticket.id.in_(ids))
            else:
                stmt = stmt.order_by(Ticket.updated_at.desc()).limit(ROWS_LIMIT)
            found = [(t, o) for t, o in (await s.execute(stmt)).all()]
            rows = await self._rows(s, found, list(people.values()))
            counts: dict[tuple[int, int | None], dict[str, int]] = {}
            for box, topic, org_id in listeners:
                person = box.person
                mine = [t for t, _ in found if org_id is None or t.org_id == org_id]
                known = self._counted.setdefault((box, topic), {})
                last_rows = self._rows_sent.setdefault((box, topic), {})
                moved = ids is None
                if ids is not None and org_id is not None:  # moved to another organisation: off this list
                    kept = {t.id for t in mine}
                    for gone in [i for i in ids if i in known and i not in kept]:
                        del known[gone]
                        box.send_nowait(encode({"type": "ticket_gone", "topic": topic, "id": gone}))
                        moved = True
                for t in mine:
                    r = rows[(person.id, t.id)]
                    digest = hash(encode(r))
                    if last_rows.get(t.id) == digest:
                        continue  # nothing of it changed for this person
                    last_rows[t.id] = digest
                    box.send_nowait(encode({"type": "ticket", "topic": topic, "ticket": r}))
                    sig = counted(r, person)
                    if known.get(t.id) != sig:
                        known[t.id] = sig
                        moved = True
                if not moved:
                    continue  # e.g. one more message on a ticket already new to this person
                key = (person.id, org_id)
                if key not in counts:
                    counts[key] = await self._counts(s, person, org_id)
                if self._sent.get((box, topic)) != counts[key]:
                    self._sent[(box, topic)] = counts[key]
                    box.send_nowait(encode({"type": "counters", "topic": topic, "counts": counts[key]}))

    async def _rows(
        self, s: Any, found: Sequence[tuple[Ticket, Organisation]], people: list[Person]
    ) -> dict[tuple[int, int], dict[str, Any]]:
        """Each ticket's row as each of these people sees it."""
        ids = [t.id for t, _ in found]
        assignees = await huddle_store.assignees(s, ids)
        reviews: dict[tuple[int, int], int] = {}
        if ids:
            stmt = select(TicketReview.user_id, TicketReview.ticket_id, TicketReview.seq).where(
                TicketReview.ticket_id.in_(ids), TicketReview.user_id.in_([p.id for p in people]))
            reviews = {(u, t): q for u, t, q in (await s.execute(stmt)).all()}
        members = await self.hub.members_of_many(ids)  # one round trip to the shared presence, not one per row
        now = self.clock.now()
        out: dict[tuple[int, int], dict[str, Any]] = {}
        for (t, o), present in zip(found, members, strict=True):
            base = row_of(t, o, assignees[t.id], now)
            base["viewers"] = len(present)
            base["members"] = present
            if t.next_update_at is not None and t.status in OPEN and t.next_update_at > now:
                self._due[t.id] = t.next_update_at
            else:
                self._due.pop(t.id, None)
            client_updated = store.iso(t.public_updated_at)
            for p in people:
                out[(p.id, t.id)] = {**base, "unreviewed": unreviewed(t, p, reviews.get((p.id, t.id), 0))}
                if not p.is_staff:
                    out[(p.id, t.id)]["updated_at"] = client_updated
        self._schedule_due(now)
        return out

    async def _counts(self, s: Any, person: Person, org_id: int | None) -> dict[str, int]:
        review = aliased(TicketReview)
        latest = Ticket.last_seq if person.is_staff else Ticket.last_public_seq
        stmt = (
            select(Ticket.status, Ticket.next_update_at, latest, review.seq,
                   exists().where(TicketAssignee.ticket_id == Ticket.id),
                   exists().where(TicketAssignee.ticket_id == Ticket.id, TicketAssignee.user_id == person.id))
            .outerjoin(review, and_(review.ticket_id == Ticket.id, review.user_id == person.id))
            .where(Ticket.status.in_(OPEN))
        )
        if org_id is not None:
            stmt = stmt.where(Ticket.org_id == org_id)
        now = self.clock.now()
        counts = {"open": 0, "unreviewed": 0, "overdue": 0}
        if org_id is None:
            counts.update(unassigned=0, mine=0)
        else:
            counts["waiting_on_you"] = 0
        counts.update({f"status_{s}": 0 for s in OPEN})
        for status, due, last, seen, assigned, mine in (await s.execute(stmt)).all():
            counts["open"] += 1
            counts[f"status_{status}"] += 1
            counts["unreviewed"] += last > (seen or 0)
            counts["overdue"] += sla.is_overdue(status, due, now)
            if org_id is None:
                counts["unassigned"] += not assigned
                counts["mine"] += bool(mine)
            else:
                counts["waiting_on_you"] += status == "waiting_on_client"
        return counts

    def _schedule_due(self, now: datetime) -> None:
        """Wake when the next open ticket passes its next update, so it turns overdue without anyone acting."""
        if self._due_timer is not None:
            self._due_timer.cancel()
            self._due_timer = None
        if not self._due:
            return
        delay = max(0.0, (min(self._due.values()) - now).total_seconds()) + 0.05
        self._due_timer = asyncio.get_running_loop().call_later(min(delay, 3600), self._on_due)

    def _on_due(self) -> None:
        self._due_timer = None
        now = self.clock.now()
        passed = [t for t, at in self._due.items() if at <= now]
        for t in passed:
            del self._due[t]
        if passed:
            task = asyncio.ensure_future(self.refresh(passed))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        else:
            self._schedule_due(now)
