"""Bulk changes: many tickets, each through the same actions a single change uses, one refusal stopping none."""

from __future__ import annotations

from typing import Any

from livesupport.actions.huddle import Huddle
from livesupport.actions.tickets import Tickets
from livesupport.domain import bulk as rules
from livesupport.domain.errors import BadRequestError, ForbiddenError, LivesupportError
from livesupport.domain.people import Person
from livesupport.store import huddle as huddle_store


class Bulk:
    def __init__(self, tickets: Tickets, huddle: Huddle) -> None:
        self.tickets, self.huddle = tickets, huddle

    async def change(self, person: Person, body: dict[str, Any]) -> dict[str, Any]:
        """Apply the change to each ticket in its own transactions (each publishes its own event, live to its
        viewers); a ticket refused is reported with why, and the others go on."""
        if not person.is_staff:
            raise ForbiddenError("Only support staff can change tickets in bulk.")
        change = rules.parse(body)
        people = change.assign + change.unassign
        if people:
            async with self.tickets.db.read() as s:
                staff = await huddle_store.staff_users(s, people)
            unknown = [u for u in people if u not in staff]
            if unknown:
                raise BadRequestError(f"No engineer has the id {unknown[0]}; only staff can be assigned.")
        updated: list[int] = []
        refused: list[dict[str, Any]] = []
        for ticket_id in change.ids:
            try:
                await self._one(person, ticket_id, change)
            except LivesupportError as exc:
                refused.append({"id": ticket_id, "error": {"code": exc.code, "message": exc.message}})
            else:
                updated.append(ticket_id)
        return {"updated": updated, "refused": refused}

    async def _one(self, person: Person, ticket_id: int, change: rules.BulkChange) -> None:
        # Priority first: a status set after it restarts the SLA clock on the new priority's target.
        if change.priority is not None:
            await self.tickets.set_priority(person, ticket_id, change.priority.value)
        if change.status is not None:
            await self.tickets.set_status(person, ticket_id, change.status.value, None, given=False)
        if change.assign or change.unassign:
            await self.huddle.adjust_assignees(person, ticket_id, change.assign, change.unassign)
