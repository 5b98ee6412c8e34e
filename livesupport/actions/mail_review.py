"""Mail to review: what the pipeline held (a stranger, a forged or doubtful sender, no ticket named), and what
staff make of it: a ticket for a new contact, a message on a ticket, or nothing (discarded).

Staff only. A held message is decided once: the first decision claims it, a second one is told it is gone.
"""

from __future__ import annotations

import asyncio
import secrets
from typing import Any

from sqlalchemy import select

from livesupport.actions.accounts import Accounts
from livesupport.actions.inbound_mail import Mailbox
from livesupport.domain.errors import BadRequestError, ConflictError, ForbiddenError, NotFoundError
from livesupport.domain.huddle import whole_number
from livesupport.domain.inbound_mail import parse
from livesupport.domain.inbound_rules import REASONS, Decision, Outcome
from livesupport.domain.people import Person, Role, can_see_org
from livesupport.store import tickets as store
from livesupport.store.models import InboundMail, Organisation, User
from livesupport.store.people import person_of, user_by_email

SHOWN = 200


def shown(row: InboundMail) -> dict[str, Any]:
    return {"id": row.id, "from": row.from_addr, "from_name": row.from_name, "subject": row.subject,
            "body": row.body, "received_at": store.iso(row.received_at), "via": row.via, "reason": row.reason,
            "why": REASONS.get(row.reason or "", ""), "ticket_id": row.ticket_id}


class MailReview:
    def __init__(self, mailbox: Mailbox, accounts: Accounts) -> None:
        self.mailbox, self.accounts, self.db = mailbox, accounts, mailbox.db

    @staticmethod
    def _staff(person: Person) -> None:
        if not person.is_staff:
            raise ForbiddenError("Only support staff review held mail.")

    async def held(self, person: Person) -> list[dict[str, Any]]:
        self._staff(person)
        async with self.db.read() as s:
            rows = (await s.execute(select(InboundMail).where(InboundMail.status == Outcome.HOLD.value)
                                    .order_by(InboundMail.id.desc()).limit(SHOWN))).scalars()
            return [shown(r) for r in rows]

    async def _row(self, mail_id: object) -> InboundMail:
        wanted = whole_number(mail_id, "mail")
        async with self.db.read() as s:
            row = await s.get(InboundMail, wanted)
        if row is None:
            raise NotFoundError("There is no such held mail.")
        if row.status != Outcome.HOLD.value:
            raise ConflictError("Someone decided on this mail already: it is no longer waiting.")
        return row

    async def discard(self, person: Person, mail_id: object) -> None:
        self._staff(person)
        row = await self._row(mail_id)
        async with self.mailbox.tickets.writing() as s:
            found = await s.get(InboundMail, row.id)
            if found is None or found.status != Outcome.HOLD.value:
                raise ConflictError("Someone decided on this mail already: it is no longer waiting.")
            found.status, found.decided_by, found.decided_at = "discarded", person.id, self.mailbox.clock.now()
            found.storage_key = None
        if row.storage_key:
            await self.mailbox.forget([row.storage_key])

    async def attach(self, person: Person, mail_id: object, ticket_id: object) -> dict[str, Any]:
        """Post it on a ticket as its sender, who must be an account that may see that ticket (never as
        someone else: a stranger's mail is opened as a ticket for a new contact instead)."""
        self._staff(person)
        row = await self._row(mail_id)
        target = whole_number(ticket_id, "ticket_id")
        async with self.db.read() as s:
            user = await user_by_email(s, row.from_addr)
            found = await store.get(s, target)
        if found is None:
            raise NotFoundError("There is no ticket with that number.")
        if user is None or user.disabled_at is not None:
            raise BadRequestError("Nobody with this address has an account: open it as a ticket for a new contact.")
        sender = person_of(user)
        if not can_see_org(sender, found[1].id, found[1].partner_id):
            raise BadRequestError(f"{row.from_addr} may not see ticket #{target}: it cannot be posted there as them.")
        return await self._post(person, row, Decision(Outcome.POST), sender, target, "attached")

    async def open_for_new_contact(self, person: Person, mail_id: object, org_id: object,
                                   name: object = None) -> dict[str, Any]:
        """A ticket for the sender, who becomes a client contact of the organisation (an account they reach
        by "forgot password"; an existing account of that organisation is used as it is)."""
        self._staff(person)
        row = await self._row(mail_id)
        org = whole_number(org_id, "org_id")
        async with self.db.read() as s:
            organisation = await s.get(Organisation, org)
            user = await user_by_email(s, row.from_addr)
        if organisation is None:
            raise NotFoundError("There is no organisation with that id.")
        if user is not None and user.org_id != org:
            raise BadRequestError(f"{row.from_addr} already has an account in another organisation.")
        if user is None:
            given = str(name).strip()[:100] if isinstance(name, str) and name.strip() else (row.from_name or None)
            contact = await self.accounts.add_user(email=row.from_addr, password=secrets.token_urlsafe(32),
                                                   role=Role.CLIENT.value, name=given, org=organisation.name)
        else:
            contact = person_of(user)
        return await self._post(person, row, Decision(Outcome.OPEN), contact, None, "opened")

    async def _post(self, staff: Person, row: InboundMail, decision: Decision, sender: Person, ticket_id: int | None,
                    status: str) -> dict[str, Any]:
        if not row.storage_key:
            raise ConflictError("The message itself is no longer kept.")
        raw = await self.mailbox.files.get(row.storage_key)
        mail = await asyncio.to_thread(parse, raw)
        result = await self.mailbox.post(mail, row.message_id, row.via, decision, sender, ticket_id, held=row.id)
        if result.status == "duplicate":
            raise ConflictError("Someone decided on this mail already: it is no longer waiting.")
        async with self.db.write() as s:
            found = await s.get(InboundMail, row.id)
            if found is not None:
                found.status, found.storage_key, found.user_id = status, None, sender.id
                found.decided_by, found.decided_at = staff.id, self.mailbox.clock.now()
        await self.mailbox.forget([row.storage_key])
        return {"ticket_id": result.ticket_id, "seq": result.seq}

    async def revoke_reply_address(self, person: Person, ticket_id: int, user_id: object) -> dict[str, Any]:
        """Stop a person's reply address for a ticket (a forwarded or leaked e-mail): mail to the old address is
        held for review from then on, and the next e-mail about the ticket carries a new one."""
        if not person.is_staff:
            raise ForbiddenError("Only support staff revoke reply addresses.")
        user = whole_number(user_id, "user_id")
        async with self.mailbox.tickets.writing() as s:
            if await store.get(s, ticket_id) is None:
                raise NotFoundError("There is no such ticket.")
            if await s.get(User, user) is None:
                raise NotFoundError("There is no such person.")
            await self.mailbox.tokens.revoke(s, ticket_id, user)
        return {"ticket_id": ticket_id, "user_id": user, "revoked": True}
