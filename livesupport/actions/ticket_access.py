"""Who may see a ticket and what joining it shows them: the reads behind `Tickets.authorize` and the `joined`
snapshot, with what this process remembers of them (actions/join_cache.py)."""

from __future__ import annotations

from typing import Any

from livesupport.actions.join_cache import JoinCache, Joined, Snapshot
from livesupport.actions.token_cache import Heard
from livesupport.clock import Clock
from livesupport.domain.errors import ForbiddenError
from livesupport.domain.outcomes import Policy, is_ticket_client
from livesupport.domain.people import Person, can_see_org
from livesupport.store import huddle as huddle_store
from livesupport.store import outcomes as outcome_store
from livesupport.store import tickets as store
from livesupport.store.database import Database
from livesupport.store.models import Organisation, Ticket


class TicketAccess:
    db: Database
    clock: Clock
    policy: Policy
    joins: JoinCache
    _heard: Heard

    async def visible(self, s: Any, person: Person, ticket_id: int, *, lock: bool = False) -> tuple[Any, Organisation]:
        """The ticket and its organisation if this person may see it (`lock`: its row, see store.current)."""
        found = await store.get(s, ticket_id, lock=lock)
        # A ticket one may not see and one that does not exist answer the same.
        if found is None or not can_see_org(person, found[1].id, found[1].partner_id):
            raise ForbiddenError("You cannot open that ticket.")
        return found

    def remembered(self, person: Person, ticket_id: int) -> bool:
        """True when this process remembers whose the ticket is and this person may see it (no I/O); raises
        `ForbiddenError` when it remembers they may not; False when it does not know (ask `authorize`)."""
        if not self._heard():
            return False
        owner = self.joins.owner(ticket_id, self.clock.now())
        if owner is None:
            return False
        self.allow(person, (owner.org_id, owner.partner_id))
        return True

    async def _visible_remembered(self, s: Any, person: Person, ticket_id: int,
                                  generation: int) -> tuple[Any, Organisation]:
        """`visible`, remembering whose the ticket is (unless something was forgotten since `generation`)."""
        found = await self._read_owner(s, ticket_id, generation)
        self.allow(person, None if found is None else (found[1].id, found[1].partner_id))
        assert found is not None  # refused above
        return found

    async def visible_remembering(self, s: Any, person: Person, ticket_id: int) -> None:
        """`visible` (raises `ForbiddenError`), remembering whose the ticket is for the next ask."""
        await self._visible_remembered(s, person, ticket_id, self.joins.generation)

    @staticmethod
    def allow(person: Person, owner: tuple[int, int | None] | None) -> None:
        """Refuse this person a ticket of this owner (organisation, its partner); None: no such ticket."""
        # A ticket one may not see and one that does not exist answer the same.
        if owner is None or not can_see_org(person, *owner):
            raise ForbiddenError("You cannot open that ticket.")

    async def owner(self, ticket_id: int) -> tuple[int, int | None] | None:
        """Whose the ticket is (its organisation, and that organisation's partner), read now and remembered;
        None when there is no such ticket."""
        generation = self.joins.generation
        async with self.db.read() as s:
            found = await self._read_owner(s, ticket_id, generation)
        return None if found is None else (found[1].id, found[1].partner_id)

    async def _read_owner(self, s: Any, ticket_id: int, generation: int) -> tuple[Ticket, Organisation] | None:
        found = await store.get(s, ticket_id)
        if found is not None and self._heard():
            self.joins.remember_owner(ticket_id, found[1].id, found[1].partner_id, self.clock.now(), generation)
        return found

    async def authorize(self, person: Person, ticket_id: int) -> None:
        """May this person see this ticket: from what this process remembers, or from the database."""
        if not self.remembered(person, ticket_id):
            self.allow(person, await self.owner(ticket_id))

    async def snapshot(self, person: Person, ticket_id: int) -> Snapshot:
        """(state, latest seq this person may see, latest seq of all), read now."""
        async with self.db.read() as s:
            joined = await self._joined(s, person, *await self.visible(s, person, ticket_id))
        return joined.view(self.clock.now(), self.policy)

    def remembered_join(self, person: Person, ticket_id: int, heard: int) -> Snapshot | None:
        """A join's snapshot from what this process remembers (no I/O), if it may be used: the person may see the
        ticket and nothing delivered here on it (up to `heard`) is newer. Raises `ForbiddenError` when this
        process remembers they may not see it."""
        if not self.remembered(person, ticket_id):
            return None
        now = self.clock.now()
        joined = self.joins.joined(person, ticket_id, heard, now)
        return None if joined is None else joined.view(now, self.policy)

    async def join_snapshot(self, person: Person, ticket_id: int) -> Snapshot:
        """`snapshot`, remembered for the joins that follow (`remembered_join`)."""
        generation = self.joins.generation
        async with self.db.read() as s:
            joined = await self._joined(s, person, *await self._visible_remembered(s, person, ticket_id, generation))
        if self._heard():
            self.joins.remember(person, ticket_id, joined, generation)
        return joined.view(self.clock.now(), self.policy)

    async def _joined(self, s: Any, person: Person, ticket: Ticket, org: Organisation) -> Joined:
        """The ticket as `joined.state` shows it to this person: with its huddle, tasks and SLA."""
        upto = ticket.last_seq
        visible = upto if person.is_staff else await store.latest_visible_seq(s, ticket.id, staff=False, upto=upto)
        assignees = (await huddle_store.assignees(s, [ticket.id]))[ticket.id]
        state = store.snapshot(ticket, org, assignees, staff=person.is_staff)
        views, progress = await huddle_store.task_views(s, ticket.id)
        state["tasks"] = views if person.is_staff else [huddle_store.public_task(v) for v in views]
        state["progress"] = progress
        state["members"] = await huddle_store.members(s, ticket.id)
        if person.is_staff:
            state["pinned"] = await huddle_store.pinned(s, ticket.id, ticket.pinned_seq)
        outcome, resolved_at = await outcome_store.outcome_facts(s, person, ticket, self.policy)
        state.update(outcome)
        return Joined(state, visible, upto, ticket.status, ticket.next_update_at, resolved_at,
                      is_ticket_client(person, ticket.org_id), self.clock.now())
