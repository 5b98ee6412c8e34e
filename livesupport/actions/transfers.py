"""Transfer of service: what each party and staff do, and what the worker does when deadlines come.

Every change locks the transfer's row, checks the milestone is still the one to act on, commits, and
only then e-mails and announces it live on `transfer:<id>` (the parties' pages and staff) and on
`transfers` (the staff board). Party pages never see staff-only history or the waiver's evidence.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from livesupport.actions.mail import Mailer
from livesupport.actions.transfer_links import PartyLink, PartyLinks
from livesupport.actions.transfer_news import TransferConfig, TransferNews
from livesupport.clock import Clock
from livesupport.domain import calendar
from livesupport.domain import transfers as rules
from livesupport.domain.errors import BadRequestError, ConflictError, ForbiddenError, NotFoundError
from livesupport.domain.ids import is_id
from livesupport.domain.numbers import parse_id
from livesupport.domain.people import Person, Role
from livesupport.realtime.access import AccessChange
from livesupport.realtime.hub import Hub
from livesupport.settings import Settings
from livesupport.store import transfers as store
from livesupport.store.database import Database
from livesupport.store.models import (
    Organisation,
    Transfer,
    TransferEvent,
    TransferMilestone,
    TransferParty,
    TransferWaiver,
)

log = logging.getLogger("livesupport.transfers")

MAX_NOTE = 2000
CLOSED = ("completed", "cancelled")
EXPIRED_LINK = ("This link has expired. Links last {days} days; we can e-mail you a fresh one at the address we "
                "have for you.")
REVOKED = "This link was replaced by a newer one. Open the link from your latest e-mail about this transfer."


@dataclass(frozen=True, slots=True)
class Visitor:
    """Who is looking at a transfer page: a party by their link, or a member of staff."""

    transfer_id: int
    role: str  # requester | current_partner | new_provider | staff
    name: str
    party_id: int | None = None

    @property
    def actor(self) -> str:
        return f"{self.name} ({rules.PARTY_NAMES[rules.Party(self.role)]})"


def may_view(person: Person) -> bool:
    return person.is_staff


def may_act(person: Person) -> bool:
    """Level 2 and 3 engineers and admins; Level 1 (the phones) can read the board."""
    return person.role is Role.ADMIN or (person.is_staff and (person.tier or 0) >= 2)


def note_of(value: object, what: str, required: bool = True) -> str:
    text = value.strip() if isinstance(value, str) else ""
    if required and not text:
        raise BadRequestError(f"Write {what}.")
    if len(text) > MAX_NOTE:
        raise BadRequestError(f"Keep it under {MAX_NOTE} characters (this is {len(text)}).")
    return text


class Transfers:
    def __init__(self, db: Database, clock: Clock, hub: Hub | None, mailer: Mailer, config: TransferConfig,
                 links: PartyLinks) -> None:
        self.db, self.clock, self.hub, self.mailer, self.config, self.links = db, clock, hub, mailer, config, links
        self.news = TransferNews(db, clock, hub, mailer, config, links)

    # -- filing (the survey calls this inside its own transaction) --------------------------

    async def create(self, s: AsyncSession, answers: dict[str, Any], org_id: int | None, site_url: str) -> Transfer:
        now = self.clock.now()
        t = Transfer(state="unconfirmed", reason=answers["reason"], reason_detail=answers.get("reason_detail", ""),
                     org_id=org_id, org_name=answers["org_name"], destination=answers["destination"],
                     services=rules.services_of(answers), desired_date=date.fromisoformat(answers["desired_date"]),
                     created_at=now, updated_at=now, escalation="", site_url=site_url)
        s.add(t)
        await s.flush()
        s.add(TransferParty(transfer_id=t.id, role="requester", org_id=org_id, org_name=answers["org_name"],
                            name=answers["contact_name"], email=answers["contact_email"],
                            phone=answers.get("contact_phone", "")))
        s.add(TransferParty(transfer_id=t.id, role="current_partner", org_id=answers.get("partner_org_id"),
                            org_name=answers["partner_name"], name=answers["partner_contact"],
                            email=answers["partner_email"], phone=answers.get("partner_phone", "")))
        with_provider = answers["destination"] == "partner"
        if with_provider:
            s.add(TransferParty(transfer_id=t.id, role="new_provider", org_name=answers["provider_name"],
                                name=answers["provider_contact"], email=answers["provider_email"],
                                phone=answers.get("provider_phone", "")))
        for position, step in enumerate(rules.plan(with_provider), 1):
            s.add(TransferMilestone(transfer_id=t.id, kind=step.kind, position=position, owner=step.owner,
                                    state="pending", outcome="", note=""))
        await s.flush()
        loaded = await store.load(s, t.id)
        assert loaded is not None
        self._start(loaded, [rules.Kind.CONFIRM], now)
        self._log(s, t.id, f"{answers['contact_name']} (the client)", "filed",
                  f"Filed the transfer of {answers['org_name']}'s services away from {answers['partner_name']}.")
        return t

    async def after_filing(self, transfer_id: int) -> None:
        """Ask the requester to confirm: nothing reaches the other parties before that."""
        async with self.db.read() as s:
            loaded = await store.load(s, transfer_id)
        assert loaded is not None
        confirm = loaded.milestone(rules.Kind.CONFIRM)
        await self.news.mail_party(loaded, "requester", "Confirm your transfer request", (
            f"You asked to move {loaded.transfer.org_name}'s services away from "
            f"{loaded.parties['current_partner'].org_name}.\n\nPlease confirm it is you, by "
            f"{self.news.when(confirm.due_at if confirm else None)}: open your transfer page and press Confirm. "
            "Nobody else hears of the request before you do.\n\n{link}\n\n"
            "If you did not ask for this, ignore this e-mail: the request goes no further."))
        await self.news.announce(transfer_id)

    # -- the parties' own pages -------------------------------------------------------------

    async def visitor(self, transfer_id: int, token: str) -> Visitor:
        """The party a personal link belongs to; forged, other-transfer, revoked and expired links refused."""
        link = self.links.read(transfer_id, token)
        async with self.db.read() as s:
            party = await s.get(TransferParty, link.party_id)
        if party is None or party.transfer_id != transfer_id:
            raise ForbiddenError("This link is not valid. Open the link from your latest e-mail about this transfer.")
        if link.version != party.link_version:
            raise ForbiddenError(REVOKED)
        if link.expired:
            raise LinkExpiredError(EXPIRED_LINK.format(days=self.links.days), link)
        return Visitor(transfer_id, party.role, party.name, party.id)

    async def resend_expired(self, transfer_id: int, token: str) -> None:
        """A fresh link to the address on file, for the owner of a genuine link that has expired."""
        link = self.links.read(transfer_id, token)
        async with self.db.read() as s:
            loaded = await store.load(s, transfer_id)
            party = await s.get(TransferParty, link.party_id)
        if loaded is None or party is None or party.transfer_id != transfer_id or link.version != party.link_version:
            raise ForbiddenError("This link is not valid. Open the link from your latest e-mail about this transfer.")
        await self.news.mail_party(loaded, party.role, f"Your link to transfer {transfer_id}",
                               "Here is a fresh link to your page for this transfer:\n\n{link}\n")

    async def view(self, visitor: Visitor, history: bool = True) -> dict[str, Any]:
        async with self.db.read() as s:
            loaded = await store.load(s, visitor.transfer_id, history=history)
        if loaded is None:
            raise NotFoundError("There is no such transfer.")
        out = store.view(loaded, self.clock.now(), staff=visitor.role == "staff")
        out["you"] = visitor.role
        if visitor.role == "current_partner" and loaded.waiver is None:
            out["waiver_text"] = self._waiver(loaded)
            out["waiver_sha256"] = rules.text_hash(out["waiver_text"])
        return out

    async def confirm(self, visitor: Visitor) -> None:
        await self._answer(visitor, rules.Kind.CONFIRM, "requester", "confirmed", "Confirmed the request.")

    async def sign_waiver(self, visitor: Visitor, full_name: object, consent: object, seen_sha256: object,
                          address: str, user_agent: str) -> None:
        name = full_name.strip() if isinstance(full_name, str) else ""
        if not name:
            raise BadRequestError("Type your full name to sign.")
        if len(name) > 200:
            raise BadRequestError("Your name is too long: at most 200 characters.")
        if consent is not True:
            raise BadRequestError("Tick the box to agree to the waiver; without it nothing is signed.")
        if visitor.role != "current_partner":
            raise ForbiddenError("Only the current partner signs the waiver.")
        now = self.clock.now()
        async with self.db.write() as s:
            loaded = await self._locked(s, visitor.transfer_id)
            text = self._waiver(loaded)
            if not isinstance(seen_sha256, str) or seen_sha256 != rules.text_hash(text):
                raise ConflictError("The waiver changed while you were reading it. Read it again below, then sign.")
            self._close(loaded, rules.Kind.PARTNER, "current_partner", "signed", now)
            s.add(TransferWaiver(transfer_id=loaded.transfer.id, party_id=visitor.party_id, full_name=name,
                                 consent=True, signed_at=now, client_address=address[:64],
                                 user_agent=user_agent[:300], text_sha256=rules.text_hash(text), text=text))
            handed_over = await self._hand_over(s, loaded)
            self._log(s, loaded.transfer.id, visitor.actor, "signed",
                      f"Signed the waiver as {name}. From now on our staff handle everything about "
                      f"{loaded.transfer.org_name}." + (" The partner no longer manages the account." if handed_over else ""))
            started = self._advance(s, loaded, now)
        if handed_over:  # the partner's open sockets lose this client at once
            await self._partners_changed(loaded.parties["current_partner"].org_id)
        await self.news.after(visitor.transfer_id, started, f"{loaded.parties['current_partner'].org_name} signed the waiver")

    async def object_to(self, visitor: Visitor, reason: object) -> None:
        text = note_of(reason, "why you object, so our staff can weigh it")
        await self._answer(visitor, rules.Kind.PARTNER, "current_partner", "objected", f"Objected: {text}",
                           escalate=f"The current partner objected: {text}")

    async def accept(self, visitor: Visitor) -> None:
        await self._answer(visitor, rules.Kind.PROVIDER, "new_provider", "accepted", "Accepted to take over the services.")

    async def decline(self, visitor: Visitor, reason: object) -> None:
        text = note_of(reason, "why you decline")
        await self._answer(visitor, rules.Kind.PROVIDER, "new_provider", "declined", f"Declined: {text}",
                           escalate=f"The new provider declined: {text}")

    async def withdraw(self, visitor: Visitor, reason: object) -> None:
        """The requester changes their mind: the transfer is cancelled for everyone."""
        if visitor.role != "requester":
            raise ForbiddenError("Only the client who filed the transfer can withdraw it.")
        await self._cancel(visitor.transfer_id, visitor.actor, note_of(reason, "why you withdraw", required=False)
                           or "The client withdrew the request.")

    # -- staff ----------------------------------------------------------------------------

    def staff(self, person: Person, transfer_id: object, acting: bool = True) -> Visitor:
        if not (may_act(person) if acting else may_view(person)):
            raise ForbiddenError("Only Level 2 and 3 engineers and admins handle transfers." if acting
                                 else "Transfers are for staff.")
        if not is_id(transfer_id):
            raise NotFoundError("There is no such transfer.")
        return Visitor(transfer_id, "staff", person.name)  # type: ignore[arg-type]

    async def board(self, person: Person) -> list[dict[str, Any]]:
        if not may_view(person):
            raise ForbiddenError("Transfers are for staff.")
        async with self.db.read() as s:
            return await store.board(s, self.clock.now())

    async def staff_step(self, visitor: Visitor, kind: str, note: object) -> None:
        """Staff close their own milestones, or confirm for a client they reached by phone."""
        words = {"move": ("moved", "Moved the services and billing."), "complete": ("completed", "Completed the transfer."),
                 "confirm": ("confirmed", "Confirmed the request for the client, after speaking with them.")}
        if kind not in words:
            raise BadRequestError("Staff can confirm for the client, record the move, or complete the transfer.")
        outcome, text = words[kind]
        written = note_of(note, "how you confirmed it with the client", required=kind == "confirm")
        now = self.clock.now()
        async with self.db.write() as s:
            loaded = await self._locked(s, visitor.transfer_id)
            owner = loaded.milestone(rules.Kind(kind))
            self._close(loaded, rules.Kind(kind), owner.owner if owner else "staff", outcome, now, note=written)
            self._log(s, loaded.transfer.id, visitor.actor, outcome, text + (f" Note: {written}" if written else ""))
            partners: list[int | None] = []
            if kind == "move":  # how the records changed is for staff
                org = await s.get(Organisation, loaded.transfer.org_id) if loaded.transfer.org_id else None
                partners.append(org.partner_id if org else None)
                self._log(s, loaded.transfer.id, visitor.actor, "records", await self._move(s, loaded), staff_only=True)
                partners.append(org.partner_id if org else None)
            loaded.transfer.escalated_at, loaded.transfer.escalation = None, ""
            started = self._advance(s, loaded, now)
        if len(set(partners)) > 1:  # the old partner's open sockets lose this client, the new one's may open it
            await self._partners_changed(*partners)
        await self.news.after(visitor.transfer_id, started, text)

    async def note(self, visitor: Visitor, text: object) -> None:
        written = note_of(text, "the note")
        async with self.db.write() as s:
            await self._locked(s, visitor.transfer_id, closed_ok=True)
            self._log(s, visitor.transfer_id, visitor.actor, "note", written, staff_only=True)
        await self.news.announce(visitor.transfer_id)

    async def client_orgs(self) -> list[tuple[int, str]]:
        """The client organisations on record, for linking a transfer filed by someone not signed in."""
        async with self.db.read() as s:
            return list((await s.execute(select(Organisation.id, Organisation.name).where(
                Organisation.kind != "partner").order_by(Organisation.name))).tuples())

    async def link_org(self, visitor: Visitor, org_id: object) -> None:
        """Tie a transfer to the client organisation on record, so that the move updates its records."""
        chosen = parse_id(org_id)
        if chosen is None:
            raise BadRequestError("Choose the client's organisation from the list.")
        async with self.db.write() as s:
            loaded = await self._locked(s, visitor.transfer_id)
            org = await s.get(Organisation, chosen)
            if org is None or org.kind == "partner":
                raise BadRequestError("Choose the client's organisation from the list (partners cannot be chosen).")
            loaded.transfer.org_id = loaded.parties["requester"].org_id = org.id
            self._log(s, visitor.transfer_id, visitor.actor, "linked", f"Linked to {org.name} on record.",
                      staff_only=True)
        await self.news.announce(visitor.transfer_id)

    async def handled(self, visitor: Visitor) -> None:
        """Staff took up an escalation: it leaves the "needs staff" column (overdue steps stay overdue)."""
        async with self.db.write() as s:
            loaded = await self._locked(s, visitor.transfer_id)
            if loaded.transfer.escalated_at is None:
                raise ConflictError("Nothing on this transfer is waiting for staff.")
            loaded.transfer.escalated_at, loaded.transfer.escalation = None, ""
            self._log(s, visitor.transfer_id, visitor.actor, "handled", "Took up the escalation.", staff_only=True)
        await self.news.announce(visitor.transfer_id)

    async def cancel(self, visitor: Visitor, reason: object) -> None:
        await self._cancel(visitor.transfer_id, visitor.actor, note_of(reason, "why the transfer is cancelled"))

    async def resend(self, visitor: Visitor, role: object) -> None:
        """A new link to a party; the ones sent before stop working."""
        if role not in ("requester", "current_partner", "new_provider"):
            raise BadRequestError("Choose whose link to send again.")
        async with self.db.write() as s:
            loaded = await self._locked(s, visitor.transfer_id, closed_ok=True)
            party = loaded.parties.get(role)  # type: ignore[call-overload]
            if party is None:
                raise BadRequestError("This transfer has no such party.")
            party.link_version += 1
            self._log(s, visitor.transfer_id, visitor.actor, "link", f"Sent {party.name} a new link; the old ones "
                      "no longer work.", staff_only=True)
        await self.news.mail_party(loaded, str(role), f"Your new link to transfer {visitor.transfer_id}",
                               "Our staff sent you a new link to your page for this transfer (the earlier ones no "
                               "longer work):\n\n{link}\n")
        await self.news.announce(visitor.transfer_id)

    # -- the worker -------------------------------------------------------------------------

    async def run_due(self, now: datetime | None = None) -> str:
        """Reminders before deadlines; escalation when one passes. Safe to run twice at the same instant."""
        now = now or self.clock.now()
        async with self.db.read() as s:
            due = list((await s.execute(select(TransferMilestone.transfer_id).where(
                TransferMilestone.state == "active", TransferMilestone.escalated_at.is_(None),
                TransferMilestone.due_at <= now + self.config.reminder_lead).distinct())).scalars())
        reminded = escalated = 0
        for transfer_id in due:
            try:
                r, e = await self._run_one(transfer_id, now)
            except Exception:  # noqa: BLE001 - one transfer's trouble must not stop the others
                log.exception("transfer %d: deadline run failed", transfer_id)
                continue
            reminded, escalated = reminded + r, escalated + e
        return f"transfer reminders {reminded}, transfer escalations {escalated}"

    async def _run_one(self, transfer_id: int, now: datetime) -> tuple[int, int]:
        reminders: list[TransferMilestone] = []
        escalations: list[TransferMilestone] = []
        async with self.db.write() as s:
            loaded = await self._locked(s, transfer_id, closed_ok=True)
            if loaded.transfer.state in CLOSED:
                return 0, 0
            for m in loaded.milestones:
                rule = store.as_rule(m)
                if m.escalated_at is None and rules.is_overdue(rule, now):
                    m.escalated_at = now
                    escalations.append(m)
                elif m.started_at is not None and rules.reminder_due(rule, m.started_at, now, self.config.reminder_lead):
                    m.reminded_at = now
                    reminders.append(m)
            started: list[rules.Kind] = []
            for m in escalations:
                step = rules.STEP[rules.Kind(m.kind)]
                went_on = rules.goes_on_without(step.kind)
                if went_on:
                    m.state, m.outcome, m.done_at = "done", "no_answer", now
                why = (f"{step.label}: no answer by the deadline; the transfer goes on without "
                       f"{rules.PARTY_NAMES[step.owner]}." if went_on else f"{step.label}: the deadline passed.")
                loaded.transfer.escalated_at = loaded.transfer.escalated_at or now
                loaded.transfer.escalation = " ".join(filter(None, (loaded.transfer.escalation, why)))[-500:]
                self._log(s, transfer_id, "livesupport", "escalated", f"Escalated to staff. {why}")
            for m in reminders:
                self._log(s, transfer_id, "livesupport", "reminder",
                          f"Reminded {rules.PARTY_NAMES[rules.Party(m.owner)]}: due {self.news.when(m.due_at)}.")
            if escalations:
                started = self._advance(s, loaded, now)
        for m in reminders:
            await self.news.remind(loaded, m)
        for m in escalations:
            await self.news.mail_desk(loaded, f"Transfer {transfer_id} escalated: {rules.STEP[rules.Kind(m.kind)].label}",
                                  f"{loaded.transfer.escalation}\n\nThe transfer: {{site}}/transfers/{transfer_id}\n")
        if escalations:
            await self.news.after(transfer_id, started, None)
        elif reminders:
            await self.news.announce(transfer_id)
        return len(reminders), len(escalations)

    # -- inside a transaction -----------------------------------------------------------------

    async def _locked(self, s: AsyncSession, transfer_id: int, closed_ok: bool = False) -> store.Loaded:
        """The transfer, its row locked until commit (PostgreSQL; SQLite has one writer anyway)."""
        if not is_id(transfer_id) or (await s.execute(select(Transfer.id).where(
                Transfer.id == transfer_id).with_for_update())).scalar_one_or_none() is None:
            raise NotFoundError("There is no such transfer.")
        loaded = await store.load(s, transfer_id)
        assert loaded is not None
        if not closed_ok and loaded.transfer.state in CLOSED:
            raise ConflictError(f"This transfer is {loaded.transfer.state}; nothing more can be done on it.")
        loaded.transfer.updated_at = self.clock.now()
        return loaded

    def _close(self, loaded: store.Loaded, kind: rules.Kind, owner: str, outcome: str, now: datetime,
               note: str = "") -> None:
        m = loaded.milestone(kind)
        if m is None:
            raise ConflictError("This transfer has no such step.")
        if m.owner != owner:
            raise ForbiddenError("That step is not yours to take.")
        if m.state == "pending":
            raise ConflictError("It is not that step's turn yet: " + {
                "partner": "the client has not confirmed the request.", "provider": "the client has not confirmed "
                "the request.", "move": "the partner and provider have not both answered.",
                "complete": "the services have not been moved yet."}.get(kind, "wait for the step before it."))
        if m.state != "active":
            raise ConflictError(f"That was already done: {rules.OUTCOMES.get(m.outcome, m.outcome).lower()}.")
        m.state, m.outcome, m.done_at, m.note = "done", outcome, now, note

    def _start(self, loaded: store.Loaded, kinds: list[rules.Kind], now: datetime) -> None:
        for m in loaded.milestones:
            if m.kind in kinds and m.state == "pending":
                m.state, m.started_at = "active", now
                m.due_at = calendar.end_of_business_days(now, self.config.days[rules.Kind(m.kind)], self.config.tz,
                                                         self.config.holidays)

    def _advance(self, s: AsyncSession, loaded: store.Loaded, now: datetime) -> list[rules.Kind]:
        started = rules.to_start([store.as_rule(m) for m in loaded.milestones])
        self._start(loaded, started, now)
        t = loaded.transfer
        confirm = loaded.milestone(rules.Kind.CONFIRM)
        if t.state == "unconfirmed" and confirm is not None and confirm.state == "done":
            t.state = "open"
        if all(m.state == "done" for m in loaded.milestones):
            t.state, t.closed_at = "completed", now
        return started

    async def _answer(self, visitor: Visitor, kind: rules.Kind, role: str, outcome: str, text: str,
                      escalate: str | None = None) -> None:
        if visitor.role != role:
            raise ForbiddenError("That step is not yours to take.")
        now = self.clock.now()
        async with self.db.write() as s:
            loaded = await self._locked(s, visitor.transfer_id)
            self._close(loaded, kind, role, outcome, now)
            if escalate:
                loaded.transfer.escalated_at, loaded.transfer.escalation = now, escalate[:500]
            self._log(s, visitor.transfer_id, visitor.actor, outcome, text)
            started = self._advance(s, loaded, now)
        await self.news.after(visitor.transfer_id, started, f"{visitor.actor}: {text}")
        if escalate:
            await self.news.mail_desk(loaded, f"Transfer {visitor.transfer_id} needs staff",
                                  f"{escalate}\n\nThe transfer: {{site}}/transfers/{visitor.transfer_id}\n")

    async def _cancel(self, transfer_id: int, actor: str, reason: str) -> None:
        now = self.clock.now()
        async with self.db.write() as s:
            loaded = await self._locked(s, transfer_id)
            for m in loaded.milestones:
                if m.state in ("pending", "active"):
                    m.state, m.outcome = "cancelled", "cancelled"
            loaded.transfer.state, loaded.transfer.closed_at = "cancelled", now
            loaded.transfer.escalated_at, loaded.transfer.escalation = None, ""
            self._log(s, transfer_id, actor, "cancelled", f"Cancelled the transfer: {reason}")
        await self.news.after(transfer_id, [], f"The transfer was cancelled: {reason}", everyone=True)

    async def _partners_changed(self, *partner_ids: int | None) -> None:
        """The people of these partners may have lost (or gained) a client: their open sockets are asked again."""
        if self.hub is not None:
            await self.hub.access_changed(AccessChange.of(orgs=partner_ids))

    async def _hand_over(self, s: AsyncSession, loaded: store.Loaded) -> bool:
        """The signed waiver: the partner stops managing this client; our staff take it on."""
        org = await s.get(Organisation, loaded.transfer.org_id) if loaded.transfer.org_id else None
        partner = loaded.parties["current_partner"]
        if org is not None and org.partner_id is not None and org.partner_id == partner.org_id:
            org.partner_id = None
            return True
        return False

    async def _move(self, s: AsyncSession, loaded: store.Loaded) -> str:
        org = await s.get(Organisation, loaded.transfer.org_id) if loaded.transfer.org_id else None
        provider = loaded.parties.get("new_provider")
        if org is None:
            return "(The client has no organisation on record: the move was done by hand.)"
        if provider is not None and provider.org_id is not None:
            org.partner_id = provider.org_id
            return f"{org.name} is now served through {provider.org_name}."
        org.partner_id = None
        return f"{org.name} is now served directly by us."

    def _log(self, s: AsyncSession, transfer_id: int, actor: str, kind: str, text: str, staff_only: bool = False) -> None:
        s.add(TransferEvent(transfer_id=transfer_id, at=self.clock.now(), actor=actor[:250], kind=kind,
                            text=text[:2000], staff_only=staff_only))

    def _waiver(self, loaded: store.Loaded) -> str:
        return rules.waiver_text(loaded.transfer.id, loaded.transfer.org_name,
                                 loaded.parties["current_partner"].org_name, loaded.transfer.services,
                                 self.config.company)


def transfers_for(settings: Settings, db: Database, clock: Clock, hub: Hub | None, mailer: Mailer) -> Transfers:
    config = TransferConfig(settings.timezone, settings.holidays, settings.transfer_days,
                            timedelta(hours=settings.transfer_reminder_hours), settings.company_name,
                            settings.transfer_desk_email)
    return Transfers(db, clock, hub, mailer, config, PartyLinks(settings.secret_key, settings.transfer_link_days, clock))


class LinkExpiredError(ForbiddenError):
    """A genuine link past its age: the page offers a fresh one by e-mail."""

    def __init__(self, message: str, link: PartyLink) -> None:
        super().__init__(message)
        self.link = link
