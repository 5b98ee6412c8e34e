"""E-mail to followers who were away: a worker job, never on the request or socket path.

Each run (1) scans the ticket events stored since its cursor and notes, per follower, that something they
may see is waiting; (2) mails each follower whose first waiting update is older than the coalescing window
one e-mail per ticket listing everything since the last one, unless they read it already (their review
seq) or are on the ticket right now; (3) sends the daily digests that are due. Whatever a follower was told
moves their cursor in the same transaction that queues the e-mail, on the condition that nobody moved it
meanwhile: a second run, or a second worker, never sends it again.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from sqlalchemy import and_, or_, select

from livesupport.actions.following import UnsubscribeLinks
from livesupport.actions.mail import Mailer
from livesupport.actions.reply_tokens import TicketThreads
from livesupport.clock import Clock
from livesupport.domain.notifications import Mode, digest_day
from livesupport.domain.people import Person, can_see_org
from livesupport.domain.update_mail import TicketUpdates, Update, digest_mail, ticket_mail
from livesupport.store import huddle as huddle_store
from livesupport.store import notifications as store
from livesupport.store import tickets as tickets_store
from livesupport.store.database import Database, upsert_insert
from livesupport.store.models import (
    NotificationCursor,
    NotificationPref,
    SentNotice,
    Ticket,
    TicketEvent,
    User,
)
from livesupport.store.people import person_of

log = logging.getLogger("livesupport.update_mail")

BATCH = 2_000  # events scanned per transaction
MAX_BATCHES = 25  # per run; a backlog is caught up over the next runs
SETTLE = timedelta(seconds=60)  # the scan cursor passes an event only this long after it was stored
MAX_READ = 500  # events read for one e-mail; more go into the next one
MAX_LISTED = 50  # updates listed in one e-mail; the rest are counted
DUE_PER_RUN = 500  # e-mails prepared per run


class _Raced(Exception):
    """Another run moved a cursor this e-mail covers: roll it all back."""


class Watchers(Protocol):
    """Who is on a ticket right now, on any process (the hub, or the presence store)."""

    async def members_of(self, ticket_id: int) -> list[dict[str, Any]]: ...


@dataclass(frozen=True, slots=True)
class Prepared:
    """One ticket's updates for one follower, read and ready to send (or to mark told, when `mail` is None)."""

    ticket_id: int
    user: User
    was: int
    upto: int
    mail: TicketUpdates | None
    more_after: bool = False  # more events than one e-mail reads: the next one carries on from `upto`


class UpdateMail:
    def __init__(self, db: Database, clock: Clock, mailer: Mailer, *, tz: ZoneInfo, window: timedelta,
                 secret_key: str, base_url: str | None, watchers: Watchers | None = None,
                 mail_in_domain: str | None = None) -> None:
        self.db, self.clock, self.mailer, self.tz, self.window = db, clock, mailer, tz, window
        # Replies go to <local>+<token>@<domain>: MAIL_FROM's local part at MAIL_IN_DOMAIN.
        self.mail_domain = mail_in_domain or mailer.domain
        self.threads = TicketThreads(secret_key, mailer.sender, self.mail_domain)
        self.links, self.base, self.watchers = UnsubscribeLinks(secret_key), base_url or "", watchers
        if not base_url:
            log.warning("BASE_URL is not set: notification e-mails carry links without the site's address, "
                        "and no List-Unsubscribe header")

    async def run(self, now: datetime | None = None) -> str:
        now = now or self.clock.now()
        scanned = await self.scan(now)
        sent = await self.send_due(now)
        digests = await self.send_digests(now)
        return f"ticket updates scanned {scanned}, update e-mails {sent}, digests {digests}"

    # -- 1. what is waiting for whom ----------------------------------------------------------

    async def scan(self, now: datetime) -> int:
        total = 0
        for _ in range(MAX_BATCHES):
            count, caught_up = await self._scan_batch(now)
            total += count
            if caught_up:
                break
        return total

    async def _scan_batch(self, now: datetime) -> tuple[int, bool]:
        async with self.db.read() as s:
            cursor = await store.job_cursor(s, store.SCAN)
            start = cursor.position if cursor else 0
            rows = (await s.execute(
                select(TicketEvent.id, TicketEvent.ticket_id, TicketEvent.seq, TicketEvent.visibility,
                       TicketEvent.actor_id, TicketEvent.at)
                .where(TicketEvent.id > start).order_by(TicketEvent.id).limit(BATCH))).all()
            if not rows:
                return 0, True
            by_ticket: dict[int, list[Any]] = defaultdict(list)
            for r in rows:
                by_ticket[r.ticket_id].append(r)
            opened: dict[int, int] = {t: o for t, o in (await s.execute(
                select(Ticket.id, Ticket.opened_by).where(Ticket.id.in_(list(by_ticket))))).all()}
            follow = await store.followers_of(s, opened)
            people = {uid for f in follow.values() for uid in f}
            users = {u.id: u for u in (await s.execute(select(User).where(User.id.in_(list(people))))).scalars()}
            prefs = await store.prefs(s, people)
            cursors = await store.cursors(s, list(by_ticket))
        settled = start
        for r in rows:  # a younger event may sit behind a transaction not yet committed: do not pass it yet
            if r.at > now - SETTLE:
                break
            settled = r.id
        async with self.db.write() as s:
            for ticket_id, events in by_ticket.items():
                for uid in follow.get(ticket_id, {}):
                    user = users.get(uid)
                    if user is None or user.disabled_at is not None:
                        continue
                    await self._note(s, ticket_id, person_of(user), prefs[uid][0], events,
                                     cursors.get((ticket_id, uid)))
            await store.move_job_cursor(s, store.SCAN, position=settled)
        return len(rows), len(rows) < BATCH or settled != rows[-1].id

    @staticmethod
    async def _note(s: Any, ticket_id: int, person: Person, mode: Mode, events: Sequence[Any],
                    cursor: NotificationCursor | None) -> None:
        told = cursor.told_seq if cursor is not None else events[0].seq - 1
        if mode is Mode.OFF:  # nothing is kept for later: turning e-mail on again does not send the past
            upto = max(e.seq for e in events)
            if cursor is None:
                await store.start_cursor(s, ticket_id, person.id, upto, None)
            elif upto > told:
                await store.tell(s, ticket_id, person.id, told, upto, None)
            return
        mine = [e for e in events if e.seq > told and e.actor_id != person.id
                and (person.is_staff or e.visibility == "public")]
        since = min((e.at for e in mine), default=None)
        if cursor is None:
            await store.start_cursor(s, ticket_id, person.id, told, since)
        elif since is not None and cursor.pending_since is None:
            await store.mark_pending(s, ticket_id, person.id, since)

    # -- 2. one e-mail per ticket, once the window has passed --------------------------------------

    async def send_due(self, now: datetime) -> int:
        immediate = or_(NotificationPref.mode.is_(None), NotificationPref.mode == Mode.IMMEDIATE.value)
        async with self.db.read() as s:
            due = (await s.execute(
                select(NotificationCursor.ticket_id, NotificationCursor.user_id, NotificationCursor.told_seq)
                .outerjoin(NotificationPref, NotificationPref.user_id == NotificationCursor.user_id)
                .where(NotificationCursor.pending_since <= now - self.window, immediate)
                .order_by(NotificationCursor.pending_since).limit(DUE_PER_RUN))).all()
        sent = 0
        for ticket_id, user_id, told in due:
            prepared = await self._prepare(ticket_id, user_id, told)
            if prepared is None:
                continue
            if prepared.mail is None:
                async with self.db.write() as s:
                    await store.tell(s, ticket_id, user_id, told, prepared.upto, None,
                                     now if prepared.more_after else None)
                continue
            subject, body = ticket_mail(prepared.user.name, prepared.mail, person_of(prepared.user).is_staff,
                                        self.tz, self._url("/account#notifications"))
            key = f"notify:{ticket_id}:{user_id}:{prepared.upto}"
            sent += await self._send(key, prepared.user, subject, body, prepared.mail.unsubscribe_url,
                                     [prepared], now, ticket_id=ticket_id)
        return sent

    async def _prepare(self, ticket_id: int, user_id: int, told: int) -> Prepared | None:
        """What this follower has not seen on this ticket; `mail` None: nothing to send (read, watched, gone)."""
        async with self.db.read() as s:
            found = await tickets_store.get(s, ticket_id)
            user = await s.get(User, user_id)
            if found is None or user is None:
                return None
            ticket, org = found
            person = person_of(user)
            reason = (await store.followers_of(s, {ticket.id: ticket.opened_by}))[ticket.id].get(user_id)
            events = list(await tickets_store.events_since(s, ticket_id, told, staff=person.is_staff,
                                                           limit=MAX_READ))
            reviewed = (await huddle_store.reviewed(s, ticket_id, [user_id])).get(user_id, 0)
        upto = events[-1].seq if events else told
        more_after = len(events) == MAX_READ
        gone = reason is None or user.disabled_at is not None or not can_see_org(person, org.id, org.partner_id)
        shown = [e for e in events if e.seq > reviewed and e.actor_id != user_id
                 and (person.is_staff or e.visibility == "public")]
        if gone or not shown or await self._watching(ticket_id, user_id):
            return Prepared(ticket_id, user, told, upto, None, more_after)
        updates = [self._update(e, person.is_staff) for e in shown[:MAX_LISTED]]
        mail = TicketUpdates(ticket_id, ticket.subject, self._url(f"/tickets/{ticket_id}"), updates,
                             len(shown) - len(updates), reason or "follow",
                             self._url(f"/unsubscribe/{self.links.token(user_id, ticket_id)}"))
        return Prepared(ticket_id, user, told, upto, mail, more_after)

    async def _watching(self, ticket_id: int, user_id: int) -> bool:
        if self.watchers is None:
            return False
        try:
            return any(m.get("id") == user_id for m in await self.watchers.members_of(ticket_id))
        except Exception as exc:  # noqa: BLE001 - unsure who is watching: mail rather than stay silent
            log.warning("could not tell who is on ticket %d (%s); mailing its followers", ticket_id, exc)
            return False

    @staticmethod
    def _update(ev: TicketEvent, staff: bool) -> Update:
        data = tickets_store.event_frame(ev, staff=staff)["data"]  # a client gets the redacted version
        return Update(ev.seq, ev.kind, ev.at, ev.actor, data, ev.visibility == "internal")

    async def _send(self, key: str, user: User, subject: str, body: str, unsubscribe: str,
                    told: Sequence[Prepared], now: datetime, ticket_id: int | None = None) -> int:
        """Queue the e-mail and move the cursors it covers, all or nothing, once per key. An e-mail about one
        ticket joins its thread and answers to the reply address of that ticket and recipient."""
        unique = key.split(":", 1)[1].replace(":", ".")
        headers = {"Auto-Submitted": "auto-generated",
                   "Message-ID": f"<{key.split(':', 1)[0]}.{unique}@{self.mail_domain}>"}
        if unsubscribe.startswith(("https://", "http://")):
            headers.update({"List-Unsubscribe": f"<{unsubscribe}>",
                            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"})
        try:
            async with self.db.write() as s:
                fresh = await s.execute(upsert_insert(s, SentNotice).values(key=key[:200], at=now)
                                        .on_conflict_do_nothing().returning(SentNotice.id))
                if fresh.scalar_one_or_none() is None:
                    return 0  # sent already
                for p in told:
                    if not await store.tell(s, p.ticket_id, user.id, p.was, p.upto, now,
                                            now if p.more_after else None):
                        raise _Raced  # someone else told them meanwhile: no e-mail, no record
                if ticket_id is not None:
                    headers.update(await self.threads.headers(s, ticket_id, user.id, unique))
                await self.mailer.queue(s, user.email, subject, body, headers)
        except _Raced:
            return 0
        return 1

    def _url(self, path: str) -> str:
        return self.base + path

    # -- 3. daily digests ----------------------------------------------------------------------

    async def send_digests(self, now: datetime) -> int:
        async with self.db.read() as s:
            waiting = (await s.execute(
                select(NotificationCursor.user_id, NotificationPref.digest_hour).distinct()
                .join(NotificationPref, and_(NotificationPref.user_id == NotificationCursor.user_id,
                                             NotificationPref.mode == Mode.DAILY.value))
                .where(NotificationCursor.pending_since.is_not(None)))).all()
        sent = 0
        for user_id, hour in waiting:
            day = digest_day(now, self.tz, hour)
            if day is not None:
                sent += await self._digest(user_id, day.isoformat(), now)
        return sent

    async def _digest(self, user_id: int, day: str, now: datetime) -> int:
        key = f"digest:{user_id}:{day}"
        async with self.db.read() as s:
            if await s.scalar(select(SentNotice.id).where(SentNotice.key == key)) is not None:
                return 0
            pending = (await s.execute(select(NotificationCursor.ticket_id, NotificationCursor.told_seq).where(
                NotificationCursor.user_id == user_id, NotificationCursor.pending_since.is_not(None))
                .order_by(NotificationCursor.ticket_id))).all()
        prepared = [p for t, told in pending if (p := await self._prepare(t, user_id, told)) is not None]
        sections = [p.mail for p in prepared if p.mail is not None]
        if not sections:  # everything was read meanwhile: no digest, nothing waits
            async with self.db.write() as s:
                for p in prepared:
                    await store.tell(s, p.ticket_id, user_id, p.was, p.upto, None, now if p.more_after else None)
            return 0
        user = prepared[0].user
        unsubscribe = self._url(f"/unsubscribe/{self.links.token(user_id, None)}")
        subject, body = digest_mail(user.name, day, sections, person_of(user).is_staff, self.tz, unsubscribe,
                                    self._url("/account#notifications"))
        return await self._send(key, user, subject, body, unsubscribe, prepared, now)
