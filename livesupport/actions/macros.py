"""Canned replies: list, keep, change, delete, and fill in for a ticket. Staff only; nothing is published."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, or_, select

from livesupport.actions.tickets import Tickets
from livesupport.domain import macros as rules
from livesupport.domain.errors import BadRequestError, ForbiddenError, NotFoundError
from livesupport.domain.numbers import require_id
from livesupport.domain.people import Person
from livesupport.store import tickets as store
from livesupport.store.models import Macro, User

EDITABLE = ("title", "body", "shared", "status", "next_update_minutes")
NOT_FOUND = "There is no canned reply with that id among yours and the shared ones."


def shown(m: Macro, owner: User | None, person: Person) -> dict[str, Any]:
    return {"id": m.id, "title": m.title, "body": m.body, "shared": m.shared, "status": m.status,
            "next_update_minutes": m.next_update_minutes,
            "owner": None if owner is None else {"id": owner.id, "name": owner.name},
            "mine": m.owner_id == person.id, "editable": may_edit(person, m),
            "created_at": store.iso(m.created_at), "updated_at": store.iso(m.updated_at)}


def may_edit(person: Person, m: Macro) -> bool:
    return rules.may_share(person) if m.shared else m.owner_id == person.id


def _shared_flag(value: object) -> bool:
    if not isinstance(value, bool):
        raise BadRequestError("shared must be true (every engineer reads it) or false (yours alone).")
    return value


class Macros:
    def __init__(self, tickets: Tickets) -> None:
        self.tickets = tickets
        self.db, self.clock = tickets.db, tickets.clock

    async def list(self, person: Person) -> list[dict[str, Any]]:
        """Mine and the shared ones, by title."""
        rules.require_staff(person)
        async with self.db.read() as s:
            rows = (await s.execute(
                select(Macro, User).outerjoin(User, User.id == Macro.owner_id)
                .where(or_(Macro.shared.is_(True), Macro.owner_id == person.id))
                .order_by(func.lower(Macro.title), Macro.id))).all()
        return [shown(m, u, person) for m, u in rows]

    async def one(self, person: Person, macro_id: object) -> dict[str, Any]:
        rules.require_staff(person)
        async with self.db.read() as s:
            m = await self._visible(s, person, macro_id)
            return shown(m, await s.get(User, m.owner_id) if m.owner_id else None, person)

    async def create(self, person: Person, body: dict[str, Any]) -> dict[str, Any]:
        rules.require_staff(person)
        fields = self._fields(person, {"shared": False, **body}, creating=True)
        now = self.clock.now()
        async with self.tickets.writing() as s:
            if not fields["shared"]:
                count = await s.scalar(select(func.count()).select_from(Macro).where(
                    Macro.owner_id == person.id, Macro.shared.is_(False)))
                if (count or 0) >= rules.MAX_MACROS:
                    raise BadRequestError(f"You have {rules.MAX_MACROS} canned replies, the most one keeps; "
                                          "delete some first.")
            m = Macro(owner_id=person.id, created_at=now, updated_at=now, **fields)
            s.add(m)
            await s.flush()
            return shown(m, await s.get(User, person.id), person)

    async def update(self, person: Person, macro_id: object, body: dict[str, Any]) -> dict[str, Any]:
        rules.require_staff(person)
        fields = self._fields(person, body, creating=False)
        async with self.tickets.writing() as s:
            m = await self._visible(s, person, macro_id)
            self._require_edit(person, m)
            if fields.get("shared") is False and m.shared:
                m.owner_id = person.id  # a shared reply made personal becomes the editor's own
            for key, value in fields.items():
                setattr(m, key, value)
            m.updated_at = self.clock.now()
            await s.flush()
            return shown(m, await s.get(User, m.owner_id) if m.owner_id else None, person)

    async def delete(self, person: Person, macro_id: object) -> None:
        rules.require_staff(person)
        async with self.tickets.writing() as s:
            m = await self._visible(s, person, macro_id)
            self._require_edit(person, m)
            await s.delete(m)

    async def render(self, person: Person, macro_id: object, ticket_id: object) -> dict[str, Any]:
        """The reply filled in for a ticket this person may see, and what it sets when sent."""
        rules.require_staff(person)
        if ticket_id is None:
            raise BadRequestError("Say which ticket to fill the reply in for: {\"ticket\": <id>}.")
        tid = require_id(ticket_id, "ticket")
        async with self.db.read() as s:
            m = await self._visible(s, person, macro_id)
            ticket, org = await self.tickets.visible(s, person, tid)
            opener = await s.get(User, ticket.opened_by)
        # The client is the person who opened it; a ticket staff opened for a client (a phone call) has only the
        # organisation to name.
        client = opener.name if opener is not None and opener.org_id == org.id else org.name
        body = rules.render(m.body, client_name=client, ticket_id=ticket.id, ticket_subject=ticket.subject,
                            agent_name=person.name)
        return {"body": body, "status": m.status, "next_update_minutes": m.next_update_minutes}

    # -- helpers ------------------------------------------------------------------------

    async def _visible(self, s: Any, person: Person, macro_id: object) -> Macro:
        mid = require_id(macro_id, "canned reply")
        m = await s.get(Macro, mid)
        if m is None or not (m.shared or m.owner_id == person.id):
            raise NotFoundError(NOT_FOUND)
        return m  # type: ignore[no-any-return]

    @staticmethod
    def _require_edit(person: Person, m: Macro) -> None:
        if not may_edit(person, m):
            raise ForbiddenError("Shared canned replies are changed only by senior (Level 3) engineers and admins.")

    @staticmethod
    def _fields(person: Person, body: dict[str, Any], *, creating: bool) -> dict[str, Any]:
        unknown = sorted(set(body) - set(EDITABLE))
        if unknown:
            raise BadRequestError(f"Unknown field {unknown[0][:40]!r}; a canned reply has {', '.join(EDITABLE)}.")
        if creating:
            for name in ("title", "body"):
                body.setdefault(name, None)
        fields: dict[str, Any] = {}
        if "title" in body:
            fields["title"] = rules.check_title(body["title"])
        if "body" in body:
            fields["body"] = rules.check_body(body["body"])
        if "shared" in body:
            fields["shared"] = _shared_flag(body["shared"])
            if fields["shared"] and not rules.may_share(person):
                raise ForbiddenError("Only senior (Level 3) engineers and admins can share canned replies.")
        if "status" in body:
            status = rules.check_status(body["status"])
            fields["status"] = None if status is None else status.value
        if "next_update_minutes" in body:
            fields["next_update_minutes"] = rules.check_minutes(body["next_update_minutes"])
        if not fields:
            raise BadRequestError(f"Nothing to change: give one of {', '.join(EDITABLE)}.")
        return fields
