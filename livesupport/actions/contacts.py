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
from livesupport.domain.numbers import parse_id
from livesupport.domain.people import Person, Role
from livesupport.realtime.access import AccessChange
from livesupport.store import people
from livesupport.store.database import Database
from livesupport.store.models import ContactInvitation, Organisation, User


def _require_admin_of_org(person: Person) -> int:
    if person.role is not Role.DOMAIN_ADMIN or person.org_id is None:
        raise ForbiddenError("Only your organisation's domain administrator can manage its contacts.")
    return person.org_id


class Contacts:
    def __init__(self, db: Database, clock: Clock, accounts: Accounts, links: MagicLinks) -> None:
        self.db, self.clock, self.accounts, self.links = db, clock, accounts, links

    async def list(self, person: Person) -> tuple[Organisation, list[dict[str, Any]]]:
        """The organisation's contacts as its page shows them: an added address looks the same whether or not
        it had an account elsewhere (that is its owner's business, not the administrator's)."""
        org_id = _require_admin_of_org(person)
        async with self.db.read() as s:
            org = await s.get(Organisation, org_id)
            users = list((await s.execute(select(User).where(User.org_id == org_id))).scalars())
            invited = list((await s.execute(select(ContactInvitation).where(
                ContactInvitation.org_id == org_id))).scalars())
        assert org is not None
        disabled = {u.id for u in users if u.disabled_at is not None}
        linked = {i.user_id for i in invited if i.user_id is not None}
        rows = [{"id": str(u.id), "name": u.name, "email": u.email, "role": u.role,
                 "removed": u.disabled_at is not None, "me": u.id == person.id} for u in users if u.id not in linked]
        rows += [{"id": f"i{i.id}", "name": i.name, "email": i.email, "role": Role.CLIENT.value,
                  "removed": i.removed_at is not None or i.user_id in disabled, "me": False} for i in invited]
        return org, sorted(rows, key=lambda r: (r["removed"], r["name"]))

    async def add(self, person: Person, email: object, name: object, base_url: str) -> str:
        """Add a contact: a new address gets an account and a sign-in link; an address that already has an
        account elsewhere gets an e-mail saying so, and no account changes. The answer is the same either way."""
        org_id = _require_admin_of_org(person)
        if not isinstance(email, str) or "@" not in email.strip() or len(email.strip()) > 320 or " " in email.strip():
            raise BadRequestError("Enter the contact's e-mail address.")
        if not isinstance(name, str) or not name.strip():
            raise BadRequestError("Enter the contact's name.")
        if len(name.strip()) > 200:
            raise TooLargeError("The name is over 200 characters.")
        address, shown = email.strip().lower(), name.strip()
        unusable = await hash_password(secrets.token_urlsafe(32))  # no password until they set one; made either way
        now = self.clock.now()
        try:
            async with self.db.write() as s:
                org = await s.get(Organisation, org_id)
                assert org is not None
                owner = await people.user_by_email(s, address)
                if owner is not None and owner.org_id == org_id:
                    raise ConflictError(f"{address} is already a contact of {org.name}.")
                if (await s.execute(select(ContactInvitation.id).where(
                        ContactInvitation.org_id == org_id, ContactInvitation.email == address))).first():
                    raise ConflictError(f"{address} is already a contact of {org.name}.")
                user = None
                if owner is None:
                    user = User(email=address, name=shown, password_hash=unusable, role=Role.CLIENT.value,
                                org_id=org_id, created_at=now)
                    s.add(user)
                    await s.flush()
                s.add(ContactInvitation(org_id=org_id, email=address, name=shown, invited_by=person.id,
                                        user_id=user.id if user else None, created_at=now))
                org_name = org.name
        except IntegrityError:  # the same address added twice at once
            raise ConflictError(f"{address} is already a contact of your organisation.") from None
        if user is not None:
            self.links.later(self.links.send(
                user, base_url, f"You can now reach {org_name}'s support desk",
                f"{person.name} added you to {org_name}'s support desk. Sign in with this link"))
        elif owner is not None:
            self.links.later(self._tell_owner(owner, person, org_name))
        return address

    async def _tell_owner(self, owner: User, person: Person, org_name: str) -> None:
        await self.links.mailer.send(owner.email, f"{org_name} tried to add you to its support desk", (
            f"Hello {owner.name},\n\n{person.name} tried to add {owner.email} as a contact of {org_name}. This "
            "address already has an account with us, so nothing was changed and they were not told.\n"
            f"If you should be a contact of {org_name}, ask support to move your account; otherwise ignore this "
            "e-mail.\n"))

    async def remove(self, person: Person, contact: str) -> None:
        """The contact can no longer sign in; their sessions end at once. Their tickets and messages stay."""
        org_id = _require_admin_of_org(person)
        user_id: int | None = None
        async with self.db.write() as s:
            invitation_id = parse_id(contact[1:]) if contact.startswith("i") else None
            if invitation_id is not None:
                invitation = await s.get(ContactInvitation, invitation_id)
                if invitation is None or invitation.org_id != org_id:
                    raise NotFoundError("There is no such contact in your organisation.")
                invitation.removed_at = invitation.removed_at or self.clock.now()
                user_id = invitation.user_id
            else:
                user_id = parse_id(contact)
                if user_id is None:
                    raise BadRequestError("Choose a contact to remove.")
            if user_id == person.id:
                raise BadRequestError("You cannot remove yourself; ask support to hand the organisation over.")
            if user_id is not None:
                user = await s.get(User, user_id)
                if user is None or user.org_id != org_id:
                    raise NotFoundError("There is no such contact in your organisation.")
                user.disabled_at = user.disabled_at or self.clock.now()
        if user_id is not None:
            await self.accounts.end_all_sessions(user_id)
            if self.accounts.hub is not None:  # sockets opened before, on every process, close too (4401)
                await self.accounts.hub.access_changed(AccessChange.of(users=[user_id]))
