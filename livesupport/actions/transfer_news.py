"""What a transfer tells people after each change is committed: e-mails to its parties and to the desk, and
the live frames on `transfer:<id>` (the whole transfer, as a party sees it) and `transfers` (the board row)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from livesupport.actions.mail import Mailer
from livesupport.actions.transfer_links import PartyLinks
from livesupport.clock import Clock
from livesupport.domain import transfers as rules
from livesupport.domain.people import Role
from livesupport.realtime.frames import encode
from livesupport.realtime.hub import Hub
from livesupport.store import transfers as store
from livesupport.store.database import Database
from livesupport.store.models import TransferMilestone, User

BOARD = "transfers"


@dataclass(frozen=True)
class TransferConfig:
    tz: ZoneInfo
    holidays: frozenset[date]
    days: dict[rules.Kind, int]
    reminder_lead: timedelta
    company: str
    desk_email: str | None = None  # reminders and escalations for staff; every admin when unset


class TransferNews:
    def __init__(self, db: Database, clock: Clock, hub: Hub | None, mailer: Mailer, config: TransferConfig,
                 links: PartyLinks) -> None:
        self.db, self.clock, self.hub, self.mailer, self.config, self.links = db, clock, hub, mailer, config, links

    async def after(self, transfer_id: int, started: list[rules.Kind], what: str | None, everyone: bool = False) -> None:
        async with self.db.read() as s:
            loaded = await store.load(s, transfer_id, history=True)  # the e-mails and the live frames read it once
        assert loaded is not None
        for kind in started:
            m = loaded.milestone(kind)
            due = self.when(m.due_at if m else None)
            if kind is rules.Kind.PARTNER:
                await self.mail_party(loaded, "current_partner", f"{loaded.transfer.org_name} is moving its services",
                                       self._partner_invite(loaded, due))
            elif kind is rules.Kind.PROVIDER:
                await self.mail_party(loaded, "new_provider", f"{loaded.transfer.org_name} would like you to take over",
                                       self._provider_invite(loaded, due))
            elif kind is rules.Kind.MOVE:
                await self.mail_desk(loaded, f"Transfer {transfer_id}: move the services by {due}",
                                      f"Every answer is in. Move the services and billing of {loaded.transfer.org_name}"
                                      f" by {due}.\n\n{{site}}/transfers/{transfer_id}\n")
        state = loaded.transfer.state
        if what and (everyone or state == "completed"):
            subject = f"Transfer {transfer_id} " + ("completed" if state == "completed" else "cancelled")
            for role in loaded.parties:
                if role == "requester" or loaded.milestone(rules.Kind.CONFIRM).state == "done":  # type: ignore[union-attr]
                    await self.mail_party(loaded, role, subject, f"{what}\n\nYour page for this transfer:\n\n{{link}}\n")
        elif rules.Kind.PARTNER in started:  # the requester just confirmed: say who was asked, and until when
            asked = [f"{loaded.parties[role].org_name} ({rules.PARTY_NAMES[rules.Party(role)]}), who has until "
                     f"{self.when(m.due_at)}" for role, m in (("current_partner", loaded.milestone(rules.Kind.PARTNER)),
                                                               ("new_provider", loaded.milestone(rules.Kind.PROVIDER)))
                     if m is not None and role in loaded.parties]
            await self.mail_party(loaded, "requester", "Your transfer request is confirmed", (
                "Thank you for confirming. We have written to " + " and to ".join(asked) + ".\n\n"
                "Follow every step on your page:\n\n{link}\n"))
        elif what and started and state == "open":
            await self.mail_party(loaded, "requester", "Your transfer moved on",
                                   f"{what}\n\nFollow every step on your page:\n\n{{link}}\n")
        await self.announce(transfer_id, loaded)

    async def announce(self, transfer_id: int, loaded: store.Loaded | None = None) -> None:
        """The transfer as it is now (`loaded` with its history, when the caller just read it)."""
        if self.hub is None:
            return
        if loaded is None:
            async with self.db.read() as s:
                loaded = await store.load(s, transfer_id, history=True)
        if loaded is None:
            return
        now = self.clock.now()
        public = store.view(loaded, now, staff=False)
        topic = f"transfer:{transfer_id}"
        self.hub.notify(topic, encode({"type": "transfer", "topic": topic, "transfer": public}))
        row = store.board_row(loaded.transfer, loaded.milestones, now)
        self.hub.notify(BOARD, encode({"type": "transfer", "topic": BOARD, "transfer": row}))

    def when(self, at: datetime | None) -> str:
        if at is None:
            return "soon"
        local = at.astimezone(self.config.tz)
        return f"the end of {local:%A %-d %B %Y} ({local.tzname()})"

    def _partner_invite(self, loaded: store.Loaded, due: str) -> str:
        t = loaded.transfer
        return (f"{t.org_name} has asked {self.config.company} to move these services away from "
                f"{loaded.parties['current_partner'].org_name}: {', '.join(t.services)}.\n"
                f"Reason given: {rules.REASONS[rules.Reason(t.reason)]}.\n\n"
                f"Please answer by {due}. On your page you can sign a short waiver, after which our staff handle "
                "everything about this client for you (configuration, credentials, support, billing), or object "
                "and tell us why. If we hear nothing by then, our staff carry on without you.\n\n{link}\n")

    def _provider_invite(self, loaded: store.Loaded, due: str) -> str:
        t = loaded.transfer
        return (f"{t.org_name} would like you to take over these services from {self.config.company}: "
                f"{', '.join(t.services)}, from {t.desired_date:%-d %B %Y}.\n\nPlease accept or decline by {due}:"
                "\n\n{link}\n")

    async def remind(self, loaded: store.Loaded, m: TransferMilestone) -> None:
        label = rules.STEP[rules.Kind(m.kind)].label
        if m.owner == "staff":
            await self.mail_desk(loaded, f"Reminder: transfer {loaded.transfer.id} due {self.when(m.due_at)}",
                                  f"{label}: due {self.when(m.due_at)}.\n\n{{site}}/transfers/{loaded.transfer.id}\n")
            return
        await self.mail_party(loaded, m.owner, f"Reminder: transfer {loaded.transfer.id} needs you by "
                               f"{self.when(m.due_at)}", f"{label}: we need your answer by {self.when(m.due_at)}."
                               "\n\nYour page for this transfer:\n\n{link}\n")

    async def mail_party(self, loaded: store.Loaded, role: str, subject: str, body: str) -> None:
        party = loaded.parties.get(role)
        if party is None:
            return
        link = f"{loaded.transfer.site_url}/transfer/{loaded.transfer.id}/p/" + self.links.make(
            loaded.transfer.id, party.id, party.link_version)
        days = self.links.days
        await self.mailer.send(party.email, subject, f"Hello {party.name},\n\n" + body.replace("{link}", link) + (
            f"\nThis link is yours alone and works for {days} days; you need no account. Don't forward it.\n"),
            secret="a personal transfer link")

    async def mail_desk(self, loaded: store.Loaded, subject: str, body: str) -> None:
        body = body.replace("{site}", loaded.transfer.site_url)
        if self.config.desk_email:
            await self.mailer.send(self.config.desk_email, subject, body)
            return
        async with self.db.read() as s:
            admins = list((await s.execute(select(User.email).where(
                User.role == Role.ADMIN.value, User.disabled_at.is_(None)))).scalars())
        for email in admins:
            await self.mailer.send(email, subject, body)
