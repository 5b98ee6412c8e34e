"""Phone support: support PINs, the Level 1 verification console's checks and actions, the audit log,
PIN self-service and the handout for people with no contact in the portal.

A PIN is kept encrypted (a key derived from SECRET_KEY), so that its owner can see it on their pages; staff
never see it: they type what the caller says and get "match" or "no match".
"""

from __future__ import annotations

import base64
import secrets
from datetime import datetime
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from fpdf import FPDF
from sqlalchemy import select

from livesupport.actions.billing import Billing
from livesupport.actions.magic_links import MagicLinks
from livesupport.actions.mail import Mailer
from livesupport.actions.throttle import (
    MAGIC_ACCOUNT,
    MAGIC_ADDRESS,
    PIN_ACCOUNT,
    PIN_ADDRESS,
    PIN_STAFF,
    Throttle,
)
from livesupport.actions.tickets import Tickets
from livesupport.clock import Clock, iso
from livesupport.domain import phone as rules
from livesupport.domain.billing import Standing, money
from livesupport.domain.errors import (
    BadRequestError,
    ForbiddenError,
    NotFoundError,
    RateLimitedError,
)
from livesupport.domain.ids import is_id
from livesupport.domain.numbers import same_secret
from livesupport.domain.people import Person, Role
from livesupport.store import people
from livesupport.store.database import Database
from livesupport.store.models import Organisation, PhoneAudit, PhoneVerification, SupportPin, User

CONTACT_ROLES = (Role.CLIENT.value, Role.DOMAIN_ADMIN.value, Role.PARTNER.value)
NO_MATCH = "No match: that e-mail address and PIN do not belong together. Offer public help only."


def pin_cipher(secret_key: str) -> Fernet:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"livesupport support pins").derive(
        secret_key.encode())
    return Fernet(base64.urlsafe_b64encode(key))


def _new_pin() -> str:
    return f"{secrets.randbelow(10 ** rules.PIN_DIGITS):0{rules.PIN_DIGITS}d}"


def _require_phone_staff(person: Person) -> None:
    if not person.is_staff:
        raise ForbiddenError("The verification console is for support staff.")


class PhoneSupport:
    def __init__(self, db: Database, clock: Clock, throttle: Throttle, mailer: Mailer, links: MagicLinks,
                 billing: Billing, tickets: Tickets, secret_key: str) -> None:
        self.db, self.clock, self.throttle, self.mailer = db, clock, throttle, mailer
        self.links, self.billing, self.tickets = links, billing, tickets
        self.cipher = pin_cipher(secret_key)

    # -- a contact's own PIN ----------------------------------------------------------

    async def pin_of(self, person: Person) -> str | None:
        """The person's PIN (made on first sight); None for staff, who have none."""
        if person.role.value not in CONTACT_ROLES:
            return None
        async with self.db.read() as s:
            row = await s.get(SupportPin, person.id)
        if row is not None:
            try:
                return self.cipher.decrypt(row.pin_encrypted.encode()).decode()
            except InvalidToken:  # SECRET_KEY changed: the old PIN cannot be read; issue a new one
                pass
        return await self.new_pin(person)

    async def new_pin(self, person: Person) -> str:
        if person.role.value not in CONTACT_ROLES:
            raise ForbiddenError("Support PINs are for the contacts of our clients and partners.")
        async with self.db.write() as s:
            row = await s.get(SupportPin, person.id)
            old = self._read(row)
            pin = _new_pin()
            while pin == old:  # a new PIN always differs from the one it replaces
                pin = _new_pin()
            token = self.cipher.encrypt(pin.encode()).decode()
            if row is None:
                s.add(SupportPin(user_id=person.id, pin_encrypted=token, created_at=self.clock.now()))
            else:
                row.pin_encrypted, row.created_at = token, self.clock.now()
        return pin

    async def request_link(self, email: object, address: str, base_url: str) -> None:
        """`/pin`: a known contact gets a link to set a new PIN; the page answers the same for anyone."""
        if not isinstance(email, str) or "@" not in email or len(email) > 320:
            raise BadRequestError("Enter your e-mail address.")
        email = email.strip().lower()
        checks = ((MAGIC_ACCOUNT, f"pin:{email}"), (MAGIC_ADDRESS, f"pin:{address}"))
        await self.throttle.check(*checks)
        await self.throttle.fail(*checks)
        async with self.db.read() as s:
            user = await people.user_by_email(s, email)
        if user is None or user.disabled_at is not None or user.role not in CONTACT_ROLES:
            return
        self.links.later(self.links.send(user, base_url, "Set a new support PIN",
                                         "Open this link to set a new phone support PIN and see it", purpose="pin"))

    async def set_from_link(self, token: str) -> tuple[Person, str]:
        person = await self.links.consume(token, purpose="pin")
        return person, await self.new_pin(person)

    # -- the console ---------------------------------------------------------------------

    async def verify(self, staff: Person, email: object, pin: object, address: str) -> dict[str, Any]:
        """Does the caller's PIN match their e-mail address? Throttled per contact and per member of staff."""
        _require_phone_staff(staff)
        if not isinstance(email, str) or "@" not in email:
            raise BadRequestError("Type the caller's e-mail address.")
        email = email.strip().lower()[:320]
        typed = rules.check_pin(pin)
        checks = ((PIN_ACCOUNT, email), (PIN_STAFF, str(staff.id)), (PIN_ADDRESS, address))
        try:
            await self.throttle.check(*checks)
        except RateLimitedError as exc:
            await self._audit(staff, email, None, "verify", "locked", exc.message)
            raise
        async with self.db.read() as s:
            user = await people.user_by_email(s, email)
            row = await s.get(SupportPin, user.id) if user is not None else None
        stored = self._read(row)
        usable = user is not None and user.disabled_at is None and user.role in CONTACT_ROLES
        if not usable or stored is None or not same_secret(stored, typed):
            failures = await self.throttle.fail(*checks)
            await self._audit(staff, email, user.id if user else None, "verify", "no_match", "")
            if user is not None and usable and failures == PIN_ACCOUNT.count:
                await self.mailer.send(user.email, "Someone tried your support PIN", (
                    f"Hello {user.name},\n\nSomeone calling our support gave your e-mail address with a wrong PIN "
                    f"{PIN_ACCOUNT.count} times. PIN checks for your address are paused for "
                    f"{PIN_ACCOUNT.window // 60:.0f} minutes.\nIf it was not you, nothing was shared. You can set a "
                    "new PIN at any time on your account page or at /pin.\n"))
            return {"verified": False, "message": NO_MATCH}
        assert user is not None
        await self.throttle.clear(PIN_ACCOUNT, email)
        now = self.clock.now()
        async with self.db.write() as s:
            v = PhoneVerification(staff_id=staff.id, contact_id=user.id, verified_at=now,
                                  expires_at=now + rules.VERIFIED_FOR)
            s.add(v)
            await s.flush()
            verification_id = v.id
        await self._audit(staff, email, user.id, "verify", "ok", "")
        return await self._state(staff, verification_id)

    def _read(self, row: SupportPin | None) -> str | None:
        if row is None:
            return None
        try:
            return self.cipher.decrypt(row.pin_encrypted.encode()).decode()
        except InvalidToken:
            return None

    async def _state(self, staff: Person, verification_id: int) -> dict[str, Any]:
        """What the console shows for a verified caller: who, their organisation, standing and the actions."""
        now = self.clock.now()
        async with self.db.read() as s:
            v = await s.get(PhoneVerification, verification_id) if is_id(verification_id) else None
            if v is None or v.staff_id != staff.id:
                raise NotFoundError("There is no such verification; verify the caller again.")
            user = await s.get(User, v.contact_id)
            org = await s.get(Organisation, user.org_id) if user and user.org_id else None
        assert user is not None
        verified = v.expires_at > now
        standing = (await self.billing.standing_of(org.id)).value if org else Standing.GOOD.value
        good = standing == Standing.GOOD.value
        actions = []
        for action in rules.ACTIONS.values():
            allowed, why = rules.may_act(action.name, verified, good, standing)
            actions.append({"name": action.name, "label": action.label, "group": action.group.value,
                            "allowed": allowed, "why": why})
        return {
            "verified": verified, "verification_id": v.id,
            "expires_at": iso(v.expires_at),
            "contact": {"id": user.id, "name": user.name, "email": user.email, "role": user.role},
            "org": {"id": org.id, "name": org.name} if org else None,
            "standing": standing, "good_standing": good, "actions": actions,
        }

    async def state(self, staff: Person, verification_id: int) -> dict[str, Any]:
        _require_phone_staff(staff)
        return await self._state(staff, verification_id)

    async def act(self, staff: Person, verification_id: object, action: object, text: object = None) -> str:
        """Do what the verified caller asked, if the rules allow it; every attempt is in the audit log."""
        _require_phone_staff(staff)
        if not isinstance(action, str) or action not in rules.ACTIONS:
            raise BadRequestError("Choose one of the console's actions.")
        state = await self._state(staff, verification_id)  # type: ignore[arg-type]
        contact = state["contact"]
        allowed, why = rules.may_act(action, state["verified"], state["good_standing"], state["standing"])
        if not allowed:
            await self._audit(staff, contact["email"], contact["id"], action, "refused", why)
            raise ForbiddenError(why)
        done = await self._perform(staff, state, action, text)
        await self._audit(staff, contact["email"], contact["id"], action, "ok", done)
        return done

    async def _perform(self, staff: Person, state: dict[str, Any], action: str, text: object) -> str:
        contact, org = state["contact"], state["org"]
        if action in ("open_ticket", "request_change"):
            if not isinstance(text, str) or not text.strip():
                raise BadRequestError("Write down what the caller needs.")
            if org is None:
                raise BadRequestError("The caller belongs to no organisation; open the ticket in the portal.")
            subject = ("Change request by phone: " if action == "request_change" else "By phone: ") + \
                text.strip().splitlines()[0][:150]
            body = (f"Called in by {contact['name']} <{contact['email']}>, verified by PIN; taken by {staff.name}.\n\n"
                    f"{text.strip()}")
            priority = "normal"
            snap = await self.tickets.open(staff, subject, body, priority, org["id"])
            return f"Ticket #{snap['id']} opened: {subject}"
        if action == "email_invoice":
            if org is None:
                raise BadRequestError("The caller belongs to no organisation, so there is no invoice.")
            summary = await self.billing.summary(staff, org["id"])
            if not summary["invoices"]:
                raise NotFoundError(f"{org['name']} has no invoice yet.")
            inv = summary["invoices"][0]
            lines = "\n".join(f"  {line['description']}: {money(line['cents'])}" for line in inv["lines"])
            await self.mailer.send(contact["email"], f"Your invoice for {inv['period_start'][:7]}", (
                f"Hello {contact['name']},\n\nAs you asked on the phone, here is a copy of {org['name']}'s invoice "
                f"for the month starting {inv['period_start']}:\n\n{lines}\n\n  Total: {money(inv['total_cents'])}\n"
                f"  Paid: {money(inv['paid_cents'])}\n  Due: {money(inv['amount_due_cents'])}\n"))
            return f"Invoice of {inv['period_start'][:7]} e-mailed to {contact['email']}"
        return rules.ACTIONS[action].label  # public help: recorded, nothing to do here

    async def _audit(self, staff: Person | None, email: str, contact_id: int | None, action: str, result: str,
                     detail: str) -> None:
        async with self.db.write() as s:
            s.add(PhoneAudit(at=self.clock.now(), staff_id=staff.id if staff else None, caller_email=email,
                             contact_id=contact_id, action=action, result=result, detail=detail[:500]))

    async def audit_log(self, person: Person, *, email: str | None = None, staff_id: int | None = None,
                        action: str | None = None, result: str | None = None, since: datetime | None = None,
                        limit: int = 200) -> list[dict[str, Any]]:
        """The log, newest first, for Level 3 engineers and admins."""
        if not (person.role is Role.ADMIN or (person.role is Role.STAFF and (person.tier or 0) >= 3)):
            raise ForbiddenError("The phone audit log is for Level 3 engineers and admins.")
        stmt = select(PhoneAudit, User.name).outerjoin(User, User.id == PhoneAudit.staff_id)
        if email:
            stmt = stmt.where(PhoneAudit.caller_email == email.strip().lower())
        if staff_id:
            stmt = stmt.where(PhoneAudit.staff_id == staff_id)
        if action:
            stmt = stmt.where(PhoneAudit.action == action)
        if result:
            stmt = stmt.where(PhoneAudit.result == result)
        if since:
            stmt = stmt.where(PhoneAudit.at >= since)
        async with self.db.read() as s:
            rows = (await s.execute(stmt.order_by(PhoneAudit.id.desc()).limit(limit))).all()
        return [{"at": iso(a.at), "staff": name, "staff_id": a.staff_id,
                 "caller_email": a.caller_email, "contact_id": a.contact_id, "action": a.action,
                 "result": a.result, "detail": a.detail} for a, name in rows]

    # -- the handout ---------------------------------------------------------------------

    @staticmethod
    def handout_pdf() -> bytes:
        """For someone with no contact in the portal: what to ask whoever manages the relationship."""
        pdf = FPDF(format="Letter")
        pdf.set_title("Getting phone support: how to be added as a contact")
        pdf.set_author("livesupport")
        pdf.add_page()
        pdf.set_font("Helvetica", "B", 18)
        pdf.multi_cell(0, 10, "Getting phone support: how to be added as a contact")
        pdf.ln(4)
        pdf.set_font("Helvetica", size=12)
        for paragraph in (
            "Our support team can discuss your account, settings and invoices on the phone only with the people "
            "your organisation has listed as its contacts in the support portal. Each contact has a support PIN, "
            "which they give us when they call. This protects your organisation from people pretending to be "
            "someone else.",
            "You are not listed as a contact yet. Please hand this page to whoever manages the relationship with "
            "us in your organisation: usually your IT manager, office manager or IT partner.",
            "What they need to do:",
            "1. Sign in to the support portal (your domain administrator can sign in with your organisation's "
            "domain name).",
            "2. Open Contacts and choose Add contact. Enter your name and e-mail address.",
            "3. You receive an e-mail with a sign-in link. Your support PIN is shown on your pages as soon as you "
            "sign in.",
            "For security and compliance reasons our phone staff cannot add contacts, whatever they are told. "
            "Until you are listed, we gladly answer general questions: how our products work, documentation, "
            "service status and how to become a partner.",
        ):
            pdf.multi_cell(0, 7, paragraph)
            pdf.ln(3)
        return bytes(pdf.output())
