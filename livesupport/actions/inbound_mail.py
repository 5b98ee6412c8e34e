"""E-mail in: one pipeline for LMTP and IMAP. Parse, match, decide, then store once and publish.

Each message is stored at most once, by its Message-ID (a unique row, in the same transaction as the event
it makes): a message delivered twice, polled twice or handled by two workers at once makes one event. The
caller (the LMTP server, the IMAP poller) reports a message done only after `receive` returned.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update

from livesupport.actions.attachments import url_of
from livesupport.actions.reply_tokens import ReplyTokens
from livesupport.actions.tickets import Tickets, to_ev
from livesupport.domain import files as file_rules
from livesupport.domain import sla
from livesupport.domain import tickets as ticket_rules
from livesupport.domain.errors import LivesupportError
from livesupport.domain.inbound_mail import Inbound, parse
from livesupport.domain.inbound_rules import Decision, Outcome, Sender, decide, loop_reason
from livesupport.domain.mail_threads import (
    address_of,
    local_of,
    subject_ticket,
    tickets_referenced,
    token_in,
)
from livesupport.domain.people import Person, can_see_org
from livesupport.domain.throttle import TokenBuckets
from livesupport.domain.tickets import Priority
from livesupport.store import tickets as store
from livesupport.store.database import upsert_insert
from livesupport.store.files import FileStore
from livesupport.store.models import Attachment, InboundMail, Ticket
from livesupport.store.people import person_of, user_by_email

log = logging.getLogger("livesupport.mail_in")

MAX_FILES = 10


@dataclass(frozen=True, slots=True)
class Result:
    """What became of one message: an Outcome's value, "duplicate" (stored before) or "deferred" (try later)."""

    status: str
    reason: str | None = None
    ticket_id: int | None = None
    seq: int | None = None


@dataclass(frozen=True, slots=True)
class MailConfig:
    mail_from: str
    domain: str  # MAIL_IN_DOMAIN
    secret_key: str
    max_attachment_bytes: int
    rate: float = 0.2  # mails a second one sender may send on average (12 a minute) ...
    burst: float = 30  # ... and in a burst; past it the sender's server is asked to try later


@dataclass(frozen=True, slots=True)
class _Match:
    ticket_id: int | None
    sender: Sender
    person: Person | None
    user_id: int | None


class Mailbox:
    def __init__(self, tickets: Tickets, files: FileStore, config: MailConfig) -> None:
        self.tickets, self.db, self.clock, self.files, self.config = tickets, tickets.db, tickets.clock, files, config
        self.tokens = ReplyTokens(config.secret_key)
        self.support = address_of(config.mail_from)
        self.local = local_of(self.support).lower() or "support"
        self.limits = TokenBuckets(config.rate, config.burst)

    def accepts(self, recipient: str) -> bool:
        """Any address at MAIL_IN_DOMAIN (the LMTP server's RCPT answer)."""
        addr = address_of(recipient)
        return bool(addr) and addr.rsplit("@", 1)[1] == self.config.domain

    async def receive(self, raw: bytes, via: str, recipients: tuple[str, ...] = ()) -> Result:
        mail = await asyncio.to_thread(parse, raw)
        message_id = mail.message_id or f"<sha256-{hashlib.sha256(raw).hexdigest()}@no-message-id>"
        async with self.db.read() as s:
            if await s.scalar(select(InboundMail.id).where(InboundMail.message_id == message_id)) is not None:
                return Result("duplicate")
        loop = loop_reason(mail, frozenset({self.support}), self.config.domain, self.local)
        if loop is None and self.limits.take(mail.from_addr, time.monotonic()) > 0:
            return Result("deferred", "rate_limited")
        found = await self._match(mail, (*recipients, *mail.recipients))
        to_support = any(address_of(r) == self.support for r in (*recipients, *mail.recipients))
        decision = decide(mail, loop=loop, ticket_id=found.ticket_id, sender=found.sender, to_support=to_support)
        if decision.outcome in (Outcome.POST, Outcome.OPEN):
            assert found.person is not None
            try:
                return await self.post(mail, message_id, via, decision, found.person, found.ticket_id)
            except LivesupportError as exc:  # e.g. a subject the ticket rules refuse: staff decide
                log.warning("mail %s could not be posted (%s); held for review", message_id, exc.message)
                decision = Decision(Outcome.HOLD, "not_allowed")
        return await self._keep(mail, raw, message_id, via, decision, found)

    async def _match(self, mail: Inbound, recipients: tuple[str, ...]) -> _Match:
        """The ticket (token, then In-Reply-To/References, then a [#123] subject tag) and who may post on it."""
        domain = self.config.domain
        async with self.db.read() as s:
            user = await user_by_email(s, mail.from_addr) if mail.from_addr else None
            if user is not None and user.disabled_at is not None:
                user = None
            person = person_of(user) if user is not None else None
            stale = False
            for recipient in recipients:
                text = token_in(recipient, domain)
                token = self.tokens.read(text) if text else None
                if token is None:
                    continue
                if not await self.tokens.current(s, token):
                    stale = True
                    continue
                ok = person is not None and await self._may_post(s, person, token.ticket_id,
                                                                  named=token.user_id == person.id)
                return _Match(token.ticket_id, Sender(person is not None, ok), person, user.id if user else None)
            candidates = tickets_referenced([*mail.in_reply_to, *mail.references], domain)
            tagged = subject_ticket(mail.subject)
            if tagged is not None:
                candidates.append(tagged)
            for ticket_id in candidates:
                if await s.get(Ticket, ticket_id) is None:
                    continue
                ok = person is not None and await self._may_post(s, person, ticket_id, named=False)
                return _Match(ticket_id, Sender(person is not None, ok, stale), person, user.id if user else None)
        may_open = person is not None and not person.is_staff and person.org_id is not None
        return _Match(None, Sender(person is not None, may_open, stale), person,
                      user.id if user else None)

    @staticmethod
    async def _may_post(s: Any, person: Person, ticket_id: int, *, named: bool) -> bool:
        """The token's own person (who was e-mailed about the ticket), or a contact of its organisation."""
        found = await store.get(s, ticket_id)
        if found is None or not can_see_org(person, found[1].id, found[1].partner_id):
            return False
        return named or (not person.is_staff and person.org_id == found[1].id)

    async def post(self, mail: Inbound, message_id: str, via: str, decision: Decision, person: Person,
                    ticket_id: int | None, held: int | None = None) -> Result:
        """Post it (files judged and stored first); `held`: the row of a held message staff decided on."""
        judged, refused = await self._judge(mail)
        text = mail.text
        if refused:
            text += "\n\n" + "\n".join(f"(not attached: {r})" for r in refused)
        body = text.strip()[:ticket_rules.MAX_BODY] or "(attachment)"
        keys = [await self.files.put(data) for _, data, _ in judged]
        try:
            result, published = await self._store(mail, message_id, via, decision, person, ticket_id, body, judged,
                                                   keys, held)
        except BaseException:
            await self.forget(keys)
            raise
        if published is None:
            await self.forget(keys)  # another delivery of the same message won
            return result
        await self.tickets.hub.publish_event(published.ticket_id, to_ev(published))
        self.tickets.published(person, published.ticket_id, published)
        return result

    async def _store(self, mail: Inbound, message_id: str, via: str, decision: Decision, person: Person,
                     ticket_id: int | None, body: str, judged: list[tuple[str, bytes, str]], keys: list[str],
                     held: int | None) -> tuple[Result, store.NewEvent | None]:
        now = self.clock.now()
        async with self.tickets.writing() as s:
            if held is not None:  # claim it: two staff deciding at once post it once
                claimed = await s.execute(update(InboundMail).where(
                    InboundMail.id == held, InboundMail.status == Outcome.HOLD.value).values(
                    status=decision.outcome.value))
                row_id: int | None = held if claimed.rowcount else None  # type: ignore[attr-defined]
            else:
                row_id = (await s.execute(upsert_insert(s, InboundMail).values(
                    message_id=message_id, from_addr=mail.from_addr[:320], from_name=mail.from_name,
                    subject=mail.subject, body=mail.text, received_at=now, via=via, status=decision.outcome.value,
                    user_id=person.id,
                ).on_conflict_do_nothing().returning(InboundMail.id))).scalar_one_or_none()
            if row_id is None:
                return Result("duplicate"), None
            changes: dict[str, Any] | None
            if ticket_id is None:  # a new ticket for the sender
                subject = ticket_rules.check_subject(mail.subject.strip() or "(no subject)")
                assert person.org_id is not None
                ticket = await store.create(s, org_id=person.org_id, opened_by=person.id, subject=subject,
                                            priority=Priority.NORMAL.value, now=now)
                ticket_id = ticket.id
                due = sla.on_open(self.tickets.sla, Priority.NORMAL, now)
                changes = {"next_update_at": due.at, "next_update_source": due.source}
            else:
                changes = await self.tickets.sla_after_chat(s, person, ticket_id, now)
            rows = [Attachment(ticket_id=ticket_id, visibility="public", name=name, content_type=kind,
                               size=len(data), sha256=hashlib.sha256(data).hexdigest(), storage_key=key,
                               uploaded_by=person.id, created_at=now)
                    for (name, data, kind), key in zip(judged, keys, strict=True)]
            s.add_all(rows)
            await s.flush()
            data: dict[str, Any] = {"body": body, "visibility": "public", "source": "email"}
            if rows:
                data["attachments"] = [{"id": r.id, "name": r.name, "size": r.size, "type": r.content_type,
                                        "url": url_of(r.id, r.name)} for r in rows]
            if changes is not None and ticket_id is not None and decision.outcome is Outcome.POST:
                data.update(next_update_at=store.iso(changes["next_update_at"]),
                            next_update_source=changes["next_update_source"])
            ev = await store.append_event(s, ticket_id, kind="chat", visibility="public", actor=person, data=data,
                                          now=now, changes=changes)
            for r in rows:
                r.seq = ev.seq
            row = await s.get(InboundMail, row_id)
            assert row is not None
            row.ticket_id, row.seq = ticket_id, ev.seq
        return Result(decision.outcome.value, None, ticket_id, ev.seq), ev

    async def _judge(self, mail: Inbound) -> tuple[list[tuple[str, bytes, str]], list[str]]:
        """The files that pass the upload checks (name, size, content), and why the others did not."""
        ok: list[tuple[str, bytes, str]] = []
        refused: list[str] = []
        for part in mail.parts:
            if len(ok) >= MAX_FILES:
                refused.append(f"{part.name}: at most {MAX_FILES} files come with one message")
                continue
            try:
                name = file_rules.check_name(part.name)
                file_rules.check_size(name, len(part.data), self.config.max_attachment_bytes)
                verdict = await asyncio.to_thread(file_rules.judge, name, part.data)
            except LivesupportError as exc:
                refused.append(f"{part.name[:100]}: {exc.message}")
                continue
            ok.append((name, part.data, verdict.content_type))
        return ok, refused

    async def _keep(self, mail: Inbound, raw: bytes, message_id: str, via: str, decision: Decision,
                    found: _Match) -> Result:
        """Held (the raw message kept for staff) or dropped (a row, so it is not looked at again)."""
        key = await self.files.put(raw) if decision.outcome is Outcome.HOLD else None
        async with self.tickets.writing() as s:
            row_id = (await s.execute(upsert_insert(s, InboundMail).values(
                message_id=message_id, from_addr=mail.from_addr[:320], from_name=mail.from_name,
                subject=mail.subject, body=(mail.text or mail.full_text)[:20000], received_at=self.clock.now(),
                via=via, status=decision.outcome.value, reason=decision.reason, ticket_id=found.ticket_id,
                user_id=found.user_id, storage_key=key,
            ).on_conflict_do_nothing().returning(InboundMail.id))).scalar_one_or_none()
        if row_id is None:
            await self.forget([key] if key else [])
            return Result("duplicate")
        if decision.outcome is Outcome.HOLD:
            log.info("mail %s from %s held for review: %s", message_id, mail.from_addr, decision.reason)
        return Result(decision.outcome.value, decision.reason, found.ticket_id)

    async def forget(self, keys: list[str]) -> None:
        """Remove stored files nothing refers to (best effort)."""
        for key in keys:
            try:
                await self.files.delete(key)
            except Exception as exc:  # noqa: BLE001
                log.warning("could not remove an unused file: %s", exc)
