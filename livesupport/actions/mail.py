"""E-mail, one module for every feature: kept in the outbox table, then delivered by SMTP when configured.

Without SMTP_URL the outbox is the delivery: admins read it at /outbox. Delivery runs in the background,
so a page that sends mail for some requests and not others (a sign-in link for an unknown address) answers
in the same time either way. A failed send is tried again later, backing off (30 s, 1 min, 2 min … 1 h),
and each try is claimed first, so two workers never send one message at the same time.
"""

from __future__ import annotations

import asyncio
import logging
import re
from datetime import timedelta
from email.message import EmailMessage
from urllib.parse import parse_qs, unquote, urlsplit

import aiosmtplib
from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from livesupport.clock import Clock
from livesupport.domain.mail_threads import address_of, domain_of
from livesupport.domain.notifications import retry_delay
from livesupport.store.database import Database
from livesupport.store.models import OutboxEmail

log = logging.getLogger("livesupport.mail")

MAX_ATTEMPTS = 12  # with the backoff, about seven hours of trying; then it waits in /outbox with its error
CLAIM = timedelta(minutes=2)  # a try that never reported back (a crashed worker) is retried after this
# Failures of the server or of our settings, not of one message: the others would fail alike.
SERVER_TROUBLE = (aiosmtplib.SMTPAuthenticationError, aiosmtplib.SMTPHeloError, aiosmtplib.SMTPNotSupported)
HEADERS = frozenset({"List-Unsubscribe", "List-Unsubscribe-Post", "Auto-Submitted", "Precedence", "Message-ID",
                     "In-Reply-To", "References", "Reply-To"})


def one_line(text: str, limit: int = 300) -> str:
    """A header value: no line breaks (they would forge headers), no run of spaces."""
    return re.sub(r"\s+", " ", text).strip()[:limit]


class SmtpSettings:
    """`smtp://user:password@host:587?starttls=true`, or `smtps://host:465` for implicit TLS."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise ValueError("SMTP_URL looks like smtp://user:password@host:587 or smtps://host:465")
        query = parse_qs(parts.query)
        self.host = parts.hostname
        self.use_tls = parts.scheme == "smtps"
        self.port = parts.port or (465 if self.use_tls else 25)
        self.username = unquote(parts.username) if parts.username else None
        self.password = unquote(parts.password) if parts.password else None
        self.start_tls = query.get("starttls", ["false"])[0].lower() in ("1", "true", "yes")


class Mailer:
    def __init__(self, db: Database, clock: Clock, sender: str, smtp_url: str | None = None) -> None:
        self.db, self.clock, self.sender = db, clock, sender
        self.smtp = SmtpSettings(smtp_url) if smtp_url else None
        self.domain = domain_of(address_of(sender)) or "localhost"
        self._tasks: set[asyncio.Task[int]] = set()
        self._lock = asyncio.Lock()

    @property
    def delivery(self) -> str:
        return f"SMTP via {self.smtp.host}:{self.smtp.port}" if self.smtp else "the outbox at /outbox (no SMTP_URL)"

    async def send(self, to: str, subject: str, body: str, secret: str | None = None) -> int:
        """Keep the message, and deliver it in the background; returns its outbox id. `secret`: what credential
        the body holds ("a sign-in link"), so /outbox never shows it to admins while mail is delivered."""
        async with self.db.write() as s:
            message_id = await self.queue(s, to, subject, body, secret=secret)
        if self.smtp is not None:
            task = asyncio.create_task(self.deliver_pending())
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        return message_id

    async def queue(self, s: AsyncSession, to: str, subject: str, body: str,
                    headers: dict[str, str] | None = None, secret: str | None = None) -> int:
        """Keep a message in the caller's transaction (it leaves with the rest, or not at all); the worker
        delivers it. `headers`: only those of HEADERS."""
        extra = {k: one_line(v, 2000) for k, v in (headers or {}).items() if k in HEADERS} or None
        row = OutboxEmail(to_addr=to, subject=one_line(subject), body=body, created_at=self.clock.now(),
                          headers=extra, secret=secret)
        s.add(row)
        await s.flush()
        return row.id

    async def deliver_pending(self) -> int:
        """Send what is due (at most MAX_ATTEMPTS tries each, backing off); returns how many went out."""
        if self.smtp is None:
            return 0
        sent = 0
        async with self._lock:  # one delivery run at a time in this process; claims keep processes apart
            now = self.clock.now()
            async with self.db.read() as s:
                waiting = list((await s.execute(select(OutboxEmail).where(
                    OutboxEmail.sent_at.is_(None), OutboxEmail.attempts < MAX_ATTEMPTS,
                    or_(OutboxEmail.next_attempt_at.is_(None), OutboxEmail.next_attempt_at <= now),
                ).order_by(OutboxEmail.id).limit(500))).scalars())
            for mail in waiting:
                if not await self._claim(mail):
                    continue  # another worker is sending it
                error, server_down = await self._deliver(mail)
                async with self.db.write() as s:
                    row = await s.get(OutboxEmail, mail.id)
                    if row is None:
                        continue
                    if error is None:
                        row.sent_at = self.clock.now()
                        sent += 1
                    else:
                        row.last_error = error[:500]
                        row.next_attempt_at = self.clock.now() + retry_delay(row.attempts)
                if server_down:  # every other message would wait out the same timeout: they go next run
                    log.warning("the SMTP server is unreachable; %d message(s) wait for the next run",
                                len(waiting) - waiting.index(mail) - 1)
                    break
        return sent

    async def _claim(self, mail: OutboxEmail) -> bool:
        """Count this try and hold the message for it; False when someone else claimed it first."""
        async with self.db.write() as s:
            done = await s.execute(update(OutboxEmail).where(
                OutboxEmail.id == mail.id, OutboxEmail.attempts == mail.attempts, OutboxEmail.sent_at.is_(None),
            ).values(attempts=mail.attempts + 1, next_attempt_at=self.clock.now() + CLAIM))
        return bool(done.rowcount)  # type: ignore[attr-defined]

    async def _deliver(self, mail: OutboxEmail) -> tuple[str | None, bool]:
        """(the error, or None when it was accepted; whether the server itself is unreachable or refuses us)."""
        assert self.smtp is not None
        msg = EmailMessage()
        msg["From"], msg["To"], msg["Subject"] = self.sender, mail.to_addr, one_line(mail.subject)
        for name, value in (mail.headers or {}).items():
            if name in HEADERS:
                msg[name] = one_line(value, 2000)
        if "Message-ID" not in msg:  # every e-mail has one; a ticket's name their ticket (domain.mail_threads)
            msg["Message-ID"] = f"<outbox-{mail.id}.{int(mail.created_at.timestamp())}@{self.domain}>"
        msg.set_content(mail.body)
        try:
            await aiosmtplib.send(
                msg, hostname=self.smtp.host, port=self.smtp.port, username=self.smtp.username,
                password=self.smtp.password, use_tls=self.smtp.use_tls, start_tls=self.smtp.start_tls or None,
                timeout=15,
            )
        except (aiosmtplib.SMTPException, OSError) as exc:
            log.warning("could not deliver mail %d to %s: %s", mail.id, mail.to_addr, exc)
            return smtp_error_text(exc), isinstance(exc, (OSError, *SERVER_TROUBLE))
        log.info("mail %d delivered to %s", mail.id, mail.to_addr)
        return None, False

    async def outbox(self, limit: int = 100) -> list[OutboxEmail]:
        async with self.db.read() as s:
            return list((await s.execute(select(OutboxEmail).order_by(OutboxEmail.id.desc()).limit(limit))).scalars())

    async def stop(self) -> None:
        for task in list(self._tasks):
            try:
                await asyncio.wait_for(asyncio.shield(task), 10)
            except Exception:  # noqa: BLE001
                task.cancel()


def smtp_error_text(exc: BaseException) -> str:
    """What the SMTP server said, as a person reads it ("554 5.7.1 Relay denied"), not a Python tuple."""
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        return "; ".join(smtp_error_text(each) for each in exc.recipients) or "every recipient was refused"
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        who = f"{exc.recipient}: " if isinstance(exc, aiosmtplib.SMTPRecipientRefused) else ""
        return f"{who}{exc.code} {exc.message}".strip()
    return str(exc) or type(exc).__name__
