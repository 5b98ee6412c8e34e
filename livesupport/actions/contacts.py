"""A domain administrator manages the contacts of their own organisation, and only theirs."""

from __future__ import annotations

import secrets
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from livesupport.actions.accounts import Accounts
from livesupport.actions.magic_links import MagicLinks
from livesupport.actions.passwords import hash_password
from livesupport.clock import Clock
from livesupport.domain.errors import (
    BadRequestError,
    ConflictError,
    ForbiddenError,
    NotFoundError,
    TooLargeError,
)
from livesupport.domain.people import Person, Role
from livesupport.realtime.access import AccessChange
from livesupport.store.database import Database
from livesupport.store.models import Organisation, User


def _require_admin_of_org(person: Person) -> int:
    if person.role is not Role.DOMAIN_ADMIN or person.org_id is None:
        raise ForbiddenError("Only your organisation's domain administrator can manage its contacts.")
    return person.org_id


class Contacts:
    def __init__(self, db: Database, clock: Clock, accounts: Accounts, links: MagicLinks) -> None:
        self.db, self.clock, self.accounts, self.links = db, clock, accounts, links

    async def list(self, person: Person) -> tuple[Organisation, list[User]]:
        org_id = _require_admin_of_org(person)
        async with self.db.read() as s:
            org = await s.get(Organisation, org_id)
            users = list((await s.execute(select(User).where(User.org_id == org_id).order_by(
                User.disabled_at.is_not(None), User.name))).scalars())
        assert org is not None
        return org, users

    async def add(self, person: Person, email: object, name: object, base_url: str) -> User:
        """A new client contact, welcomed by e-mail with a sign-in link (they choose a password later, or never)."""
        org_id = _require_admin_of_org(person)
        if not isinstance(email, str) or "@" not in email.strip() or len(email.strip()) > 320 or " " in email.strip():
            raise BadRequestError("Enter the contact's e-mail address.")
        if not isinstance(name, str) or not name.strip():
            raise BadRequestError("Enter the contact's name.")
        if len(name.strip()) > 200:
            raise TooLargeError("The name is over 200 characters.")
        unusable = await hash_password(secrets.token_urlsafe(32))  # no password until they set one
        try:
            async with self.db.write() as s:
                org = await s.get(Organisation, org_id)
                assert org is not None
                user = User(email=email.strip().lower(), name=name.strip(), password_hash=unusable,
                            role=Role.CLIENT.value, org_id=org_id, created_at=self.clock.now())
                s.add(user)
                await s.flush()
                org_name = org.name
        except IntegrityError:
            raise ConflictError(f"There is already an account for {email.strip().lower()}.") from None
        await self.links.send(user, base_url, f"You can now reach {org_name}'s support desk",
                              f"{person.name} added you to {org_name}'s support desk. Sign in with this link")
        return user

    async def remove(self, person: Person, user_id: int) -> None:
        """The contact can no longer sign in; their sessions end at once. Their tickets and messages stay."""
        org_id = _require_admin_of_org(person)
        if user_id == person.id:
            raise BadRequestError("You cannot remove yourself; ask support to hand the organisation over.")
        async with self.db.write() as s:
            user = await s.get(User, user_id)
            if user is None or user.org_id != org_id:
                raise NotFoundError("There is no such contact in your organisation.")
            user.disabled_at = self.clock.now()
        await self.accounts.end_all_sessions(user_id)
        if self.accounts.hub is not None:  # sockets opened before, on every process, close too (4401)
            await self.accounts.hub.access_changed(AccessChange.of(users=[user_id]))

    @staticmethod
    def view(user: User) -> dict[str, Any]:
        return {"id": user.id, "name": user.name, "email": user.email, "role": user.role,
                "active": user.disabled_at is None}
