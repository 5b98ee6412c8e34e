"""Admins manage accounts: disable, enable, change role, tier or organisation; every change is audited.

What someone may see changes at once, on open sockets too: their sessions end (disabled) or every process
re-checks their sockets (changed), through the hub's access notice.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from livesupport.actions.accounts import Accounts
from livesupport.domain.errors import BadRequestError, ForbiddenError, NotFoundError
from livesupport.domain.numbers import parse_int
from livesupport.domain.people import Person, Role
from livesupport.realtime.access import AccessChange
from livesupport.store import people
from livesupport.store.models import AccountAudit, Organisation, User

ORG_ROLES = (Role.CLIENT, Role.DOMAIN_ADMIN, Role.PARTNER)
PAGE = 50


@dataclass(frozen=True, slots=True)
class Actor:
    """Who makes a change: an admin signed in, or the operator at the command line (person None)."""

    person: Person | None
    label: str

    @classmethod
    def admin(cls, person: Person) -> Actor:
        if person.role is not Role.ADMIN:
            raise ForbiddenError("Only an admin manages accounts.")
        return cls(person, f"admin {person.name} (#{person.id})")


@dataclass(frozen=True, slots=True)
class Account:
    id: int
    email: str
    name: str
    role: str
    tier: int | None
    org: str | None
    active: bool


class Administration:
    def __init__(self, accounts: Accounts) -> None:
        self.accounts, self.db, self.clock, self.hub = accounts, accounts.db, accounts.clock, accounts.hub

    async def find(self, actor: Actor, query: object = "") -> list[Account]:
        """Accounts whose e-mail or name holds `query` (all when empty), newest first."""
        text = query.strip().lower() if isinstance(query, str) else ""
        if len(text) > 320:
            raise BadRequestError("Search with at most 320 characters.")
        stmt = select(User, Organisation.name).outerjoin(Organisation, Organisation.id == User.org_id)
        if text:
            like = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            stmt = stmt.where(or_(User.email.ilike(like, escape="\\"), User.name.ilike(like, escape="\\")))
        async with self.db.read() as s:
            rows = (await s.execute(stmt.order_by(User.id.desc()).limit(PAGE))).all()
        return [Account(u.id, u.email, u.name, u.role, u.tier, org, u.disabled_at is None) for u, org in rows]

    async def disable(self, actor: Actor, email: object) -> Person:
        """They cannot sign in by any door; their sessions, tokens and sockets end on every process (4401)."""
        async with self.db.write() as s:
            user = await self._user(s, email)
            if actor.person is not None and actor.person.id == user.id:
                raise BadRequestError("You cannot disable your own account; ask another admin.")
            if user.disabled_at is None:
                user.disabled_at = self.clock.now()
            self._audit(s, actor, user, "disable", "")
            person = people.person_of(user)
        await self.accounts.end_all_sessions(person.id)
        if self.hub is not None:
            await self.hub.access_changed(AccessChange.of(users=[person.id]))
        return person

    async def enable(self, actor: Actor, email: object) -> Person:
        async with self.db.write() as s:
            user = await self._user(s, email)
            user.disabled_at = None
            self._audit(s, actor, user, "enable", "")
            return people.person_of(user)

    async def change(self, actor: Actor, email: object, role: object = None, tier: object = None,
                     org: object = None) -> Person:
        """A new role, tier or organisation; what they may see follows at once, on their open sockets too."""
        if role in (None, "") and tier in (None, "") and org in (None, ""):
            raise BadRequestError("Say what to change: a role, a tier or an organisation.")
        async with self.db.write() as s:
            user = await self._user(s, email)
            if actor.person is not None and actor.person.id == user.id and role not in (None, "", user.role):
                raise BadRequestError("You cannot change your own role; ask another admin.")
            before = (user.role, user.tier, user.org_id)
            new_role = self._role(role) if role not in (None, "") else Role(user.role)
            new_tier = self._tier(tier) if tier not in (None, "") else user.tier
            org_id = user.org_id
            if org not in (None, ""):
                if not isinstance(org, str) or (found := await people.org_by_name(s, org.strip())) is None:
                    raise NotFoundError(f"There is no organisation named {org!r}; check its name.")
                org_id = found.id
            if new_role is Role.STAFF and new_tier not in (1, 2, 3):
                raise BadRequestError("Staff need a tier: 1, 2 or 3.")
            if new_role in ORG_ROLES and org_id is None:
                raise BadRequestError(f"A {new_role.value} belongs to an organisation: give one.")
            user.role, user.tier = new_role.value, new_tier if new_role is Role.STAFF else None
            user.org_id = org_id if new_role in ORG_ROLES or org not in (None, "") else None
            after = (user.role, user.tier, user.org_id)
            changed = [f"{what}: {old} -> {new}" for what, old, new in zip(("role", "tier", "organisation id"),
                                                                          before, after, strict=True) if old != new]
            self._audit(s, actor, user, "set", "; ".join(changed) or "nothing changed")
            person = people.person_of(user)
        if self.hub is not None and before != after:
            await self.hub.access_changed(AccessChange.of(users=[person.id]))
        return person

    async def _user(self, s: AsyncSession, email: object) -> User:
        if not isinstance(email, str) or "@" not in email or len(email) > 320:
            raise BadRequestError("Give the account's e-mail address.")
        user = await people.user_by_email(s, email.strip().lower())
        if user is None:
            raise NotFoundError(f"There is no account for {email.strip().lower()}.")
        return user

    @staticmethod
    def _role(role: object) -> Role:
        try:
            return Role(str(role))
        except ValueError:
            raise BadRequestError(f"Unknown role {role!r}; use one of: {', '.join(r.value for r in Role)}.") from None

    @staticmethod
    def _tier(tier: object) -> int:
        level = parse_int(tier, 1, 3)
        if level is None:
            raise BadRequestError("The tier is 1, 2 or 3.")
        return level

    def _audit(self, s: AsyncSession, actor: Actor, user: User, action: str, detail: str) -> None:
        s.add(AccountAudit(at=self.clock.now(), actor_id=actor.person.id if actor.person else None,
                           actor=actor.label[:200], user_id=user.id, action=action, detail=detail[:500]))
