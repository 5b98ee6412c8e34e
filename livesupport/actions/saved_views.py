"""Saved views of the ticket list: list, keep, change, delete. Nothing is published: a view is a question.

Everyone signed in keeps personal views (clients too: theirs alone). Shared views are seen by all staff and
by no client, and kept by Level 3 engineers and admins. Someone else's personal view is "not found", never
"forbidden": its existence is not told.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, or_, select

from livesupport.actions.tickets import Tickets
from livesupport.clock import iso
from livesupport.domain import saved_views as rules
from livesupport.domain.errors import BadRequestError, ForbiddenError, NotFoundError
from livesupport.domain.numbers import require_id
from livesupport.domain.people import Person
from livesupport.store.models import SavedView, User

EDITABLE = ("name", "query", "shared")
NOT_FOUND = "There is no saved view with that id among yours and the shared ones."


def may_edit(person: Person, v: SavedView) -> bool:
    return rules.may_share(person) if v.shared else v.owner_id == person.id


def shown(v: SavedView, owner: User | None, person: Person) -> dict[str, Any]:
    url = f"/tickets?{v.query}&view={v.id}" if v.query else f"/tickets?view={v.id}"
    return {"id": v.id, "name": v.name, "query": v.query, "url": url, "shared": v.shared,
            "owner": None if owner is None else {"id": owner.id, "name": owner.name},
            "mine": v.owner_id == person.id, "editable": may_edit(person, v),
            "created_at": iso(v.created_at), "updated_at": iso(v.updated_at)}


def _seen_by(person: Person) -> Any:
    """Clients see their own views only; staff see theirs and the shared ones."""
    mine = SavedView.owner_id == person.id
    return or_(SavedView.shared.is_(True), mine) if person.is_staff else mine & SavedView.shared.is_(False)


class SavedViews:
    def __init__(self, tickets: Tickets) -> None:
        self.tickets = tickets
        self.db, self.clock = tickets.db, tickets.clock

    async def list(self, person: Person) -> list[dict[str, Any]]:
        """Mine and (staff) the shared ones, by name."""
        async with self.db.read() as s:
            rows = (await s.execute(
                select(SavedView, User).outerjoin(User, User.id == SavedView.owner_id).where(_seen_by(person))
                .order_by(SavedView.shared.desc(), func.lower(SavedView.name), SavedView.id))).all()
        return [shown(v, u, person) for v, u in rows]

    async def one(self, person: Person, view_id: object) -> dict[str, Any]:
        async with self.db.read() as s:
            v = await self._visible(s, person, view_id)
            return shown(v, await s.get(User, v.owner_id) if v.owner_id else None, person)

    async def create(self, person: Person, body: dict[str, Any]) -> dict[str, Any]:
        fields = self._fields(person, {"shared": False, "query": "", **body}, creating=True)
        now = self.clock.now()
        async with self.tickets.writing() as s:
            if not fields["shared"]:
                count = await s.scalar(select(func.count()).select_from(SavedView).where(
                    SavedView.owner_id == person.id, SavedView.shared.is_(False)))
                if (count or 0) >= rules.MAX_VIEWS:
                    raise BadRequestError(f"You have {rules.MAX_VIEWS} saved views, the most one keeps; delete "
                                          "some first.")
            v = SavedView(owner_id=person.id, created_at=now, updated_at=now, **fields)
            s.add(v)
            await s.flush()
            return shown(v, await s.get(User, person.id), person)

    async def update(self, person: Person, view_id: object, body: dict[str, Any]) -> dict[str, Any]:
        fields = self._fields(person, body, creating=False)
        async with self.tickets.writing() as s:
            v = await self._visible(s, person, view_id)
            self._require_edit(person, v)
            if fields.get("shared") is False and v.shared:
                v.owner_id = person.id  # a shared view made personal becomes the editor's own
            for key, value in fields.items():
                setattr(v, key, value)
            v.updated_at = self.clock.now()
            await s.flush()
            return shown(v, await s.get(User, v.owner_id) if v.owner_id else None, person)

    async def delete(self, person: Person, view_id: object) -> None:
        async with self.tickets.writing() as s:
            v = await self._visible(s, person, view_id)
            self._require_edit(person, v)
            await s.delete(v)

    # -- helpers ------------------------------------------------------------------------

    @staticmethod
    async def _visible(s: Any, person: Person, view_id: object) -> SavedView:
        vid = require_id(view_id, "saved view")
        v = await s.get(SavedView, vid)
        if v is None or not (v.shared and person.is_staff or v.owner_id == person.id and not v.shared):
            raise NotFoundError(NOT_FOUND)
        return v  # type: ignore[no-any-return]

    @staticmethod
    def _require_edit(person: Person, v: SavedView) -> None:
        if not may_edit(person, v):
            raise ForbiddenError("Shared views are changed only by senior (Level 3) engineers and admins.")

    @staticmethod
    def _fields(person: Person, body: dict[str, Any], *, creating: bool) -> dict[str, Any]:
        unknown = sorted(set(body) - set(EDITABLE))
        if unknown:
            raise BadRequestError(f"Unknown field {unknown[0][:40]!r}; a saved view has {', '.join(EDITABLE)}.")
        if creating:
            body.setdefault("name", None)
        fields: dict[str, Any] = {}
        if "name" in body:
            fields["name"] = rules.check_name(body["name"])
        if "query" in body:
            fields["query"] = rules.check_query(body["query"])
        if "shared" in body:
            fields["shared"] = rules.check_shared(body["shared"])
            if fields["shared"]:
                rules.require_sharer(person)
        if not fields:
            raise BadRequestError(f"Nothing to change: give one of {', '.join(EDITABLE)}.")
        return fields
