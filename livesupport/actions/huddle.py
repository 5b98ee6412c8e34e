"""Huddle use cases: tasks, assignment, invitations, pinned guidance, moving a ticket. Commit, then publish."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from livesupport.actions.tickets import Tickets, to_ev
from livesupport.domain import huddle as rules
from livesupport.domain.errors import BadRequestError, ConflictError, NotFoundError
from livesupport.domain.ids import is_id
from livesupport.domain.people import Person
from livesupport.realtime.access import AccessChange
from livesupport.realtime.frames import encode
from livesupport.realtime.hub import Ev
from livesupport.store import huddle as store
from livesupport.store import tickets as tickets_store
from livesupport.store.models import Organisation, Task, TicketEvent, User


def assignment(people: dict[int, User], before: list[int], wanted: list[int]) -> tuple[dict[str, Any], list[int]]:
    """The `assignment` event's data when the engineers go from `before` to `wanted` (`people`: each of them), and
    who was added."""
    added = [u for u in wanted if u not in before]
    removed = sorted(set(before) - set(wanted))
    return {"assignees": [store.shown(people[u]) for u in sorted(wanted, key=lambda u: people[u].name)],
            "added": added, "removed": removed}, added


class Huddle:
    def __init__(self, tickets: Tickets) -> None:
        self.tickets = tickets
        self.hub, self.clock = tickets.hub, tickets.clock

    async def task(self, person: Person, ticket_id: int, frame: dict[str, Any]) -> tuple[int, int]:
        """Create a task (no task_id) or change one; returns (seq, task_id)."""
        rules.require_planner(person)
        task_id = rules.optional_id(frame.get("task_id"), "task_id")
        changes = rules.task_changes(frame, creating=task_id is None)
        now = self.clock.now()
        async with self.tickets.writing() as s:
            await self.tickets.visible(s, person, ticket_id)
            if changes.get("assignee_id") is not None and not await store.staff_users(s, [changes["assignee_id"]]):
                raise NotFoundError("There is no engineer with that id to assign the task to.")
            if task_id is None:
                task = Task(ticket_id=ticket_id, created_at=now, updated_at=now, **changes)
                s.add(task)
            else:
                found = await s.get(Task, task_id)
                if found is None or found.ticket_id != ticket_id:
                    raise NotFoundError("That task is not on this ticket.")
                task = found
                for key, value in changes.items():
                    setattr(task, key, value)
                task.updated_at = now
            await s.flush()
            views, progress = await store.task_views(s, ticket_id)
            view = next(v for v in views if v["id"] == task.id)
            data = {"change": "created" if task_id is None else "updated", "task": view, "progress": progress}
            ev = await tickets_store.append_event(
                s, ticket_id, kind="task", visibility=rules.task_event_visibility(changes, task_id is None),
                actor=person, data=data, now=now)
            published, new_id = to_ev(ev), task.id
        await self.hub.publish_event(ticket_id, published)
        return published.seq, new_id

    async def assign(self, person: Person, ticket_id: int, assignees: object) -> int:
        rules.require_staff(person, "assign engineers")
        wanted = rules.check_assignees(assignees)
        now = self.clock.now()
        async with self.tickets.writing() as s:
            # The ticket's row first, then its assignees: the order a bulk change takes them in.
            ticket, _ = await self.tickets.visible(s, person, ticket_id, lock=True)
            current = [a["id"] for a in (await store.assignees(s, [ticket_id]))[ticket_id]]
            people = await store.staff_users(s, wanted)
            unknown = [u for u in wanted if u not in people]
            if unknown:
                raise NotFoundError(f"No engineer has the id {unknown[0]}; only staff can be assigned.")
            await store.set_assignees(s, ticket_id, wanted, now)
            data, added = assignment(people, current, wanted)
            ev = await tickets_store.append_event(s, ticket_id, kind="assignment", visibility="public",
                                                  actor=person, data=data, now=now)
            published, subject = to_ev(ev), ticket.subject
        await self.assigned(person, ticket_id, subject, published, added)
        return published.seq

    async def assigned(self, person: Person, ticket_id: int, subject: str, published: Ev, added: list[int]) -> None:
        """After the commit of an `assignment` event: publish it, tell those added (not oneself)."""
        if self.tickets.client_messages is not None:
            self.tickets.client_messages.forget(ticket_id)
        await self.hub.publish_event(ticket_id, published)
        for user_id in added:
            if user_id != person.id:
                self.notice(user_id, "assigned", ticket_id, subject, person)

    async def invite(self, person: Person, ticket_id: int, user_id: object, message: object = None) -> int:
        rules.require_staff(person, "invite engineers into a ticket")
        invitee_id = rules.whole_number(user_id, "user_id")
        text = rules.check_text(message, "message", rules.MAX_MESSAGE)
        now = self.clock.now()
        async with self.tickets.writing() as s:
            ticket, _ = await self.tickets.visible(s, person, ticket_id)
            people = await store.staff_users(s, [invitee_id])
            if invitee_id not in people:
                raise NotFoundError("There is no engineer with that id; only staff can join the huddle.")
            if await store.is_member(s, ticket_id, invitee_id):
                raise ConflictError(f"{people[invitee_id].name} is already in this ticket's huddle.")
            await store.add_member(s, ticket_id, invitee_id, person.id, now)
            data: dict[str, Any] = {"user": store.shown(people[invitee_id]), "change": "invited"}
            if text:
                data["message"] = text
            ev = await tickets_store.append_event(s, ticket_id, kind="member", visibility="public", actor=person,
                                                  data=data, now=now)
            published, subject = to_ev(ev), ticket.subject
        await self.hub.publish_event(ticket_id, published)
        self.notice(invitee_id, "invited", ticket_id, subject, person, text)
        return published.seq

    async def pin(self, person: Person, ticket_id: int, seq: object) -> int:
        """Pin an internal note as guidance at the top of the staff view (`seq` None unpins)."""
        rules.require_pinner(person)
        target = rules.optional_id(seq, "seq")
        now = self.clock.now()
        async with self.tickets.writing() as s:
            await self.tickets.visible(s, person, ticket_id)
            data: dict[str, Any] = {"seq": None}
            if target is not None:
                note = (await s.execute(select(TicketEvent).where(
                    TicketEvent.ticket_id == ticket_id, TicketEvent.seq == target))).scalar_one_or_none()
                if note is None:
                    raise NotFoundError("There is no message with that seq on this ticket.")
                if note.kind != "chat" or note.visibility != "internal":
                    raise BadRequestError("Only internal notes can be pinned as guidance.")
                data = {"seq": target, "body": note.data.get("body", "")}
            ev = await tickets_store.append_event(s, ticket_id, kind="pin", visibility="internal", actor=person,
                                                  data=data, now=now, changes={"pinned_seq": target})
            published = to_ev(ev)
        await self.hub.publish_event(ticket_id, published)
        return published.seq

    async def move(self, person: Person, ticket_id: int, org_id: object) -> int:
        """Level 3 or an admin moves a ticket to another client organisation: its old people lose it at once."""
        rules.require_mover(person)
        if not is_id(org_id):
            raise BadRequestError("Choose the organisation to move the ticket to (org_id).")
        now = self.clock.now()
        async with self.tickets.writing() as s:
            ticket, old = await self.tickets.visible(s, person, ticket_id)
            new = await s.get(Organisation, org_id)
            if new is None or new.kind != "client":
                raise NotFoundError("There is no client organisation with that id.")
            if new.id == old.id:
                raise ConflictError(f"The ticket already belongs to {old.name}.")
            data = {"from": {"id": old.id, "name": old.name}, "to": {"id": new.id, "name": new.name}}
            ev = await tickets_store.append_event(s, ticket_id, kind="moved", visibility="internal", actor=person,
                                                  data=data, now=now, changes={"org_id": new.id})
            published = to_ev(ev)
        await self.hub.publish_event(ticket_id, published)
        await self.hub.access_changed(AccessChange.of(tickets=[ticket_id]))  # whoever has it open is asked again
        return published.seq

    def notice(self, user_id: int, kind: str, ticket_id: int, subject: str, by: Person,
               message: str | None = None) -> None:
        frame: dict[str, Any] = {
            "type": "notice", "topic": f"user:{user_id}", "kind": kind,
            "ticket": {"id": ticket_id, "subject": subject}, "by": by.public(), "url": f"/tickets/{ticket_id}",
        }
        if message:
            frame["message"] = message
        self.hub.notify(f"user:{user_id}", encode(frame))


