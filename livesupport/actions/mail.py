"""E-mail, one module for every feature: kept in the outbox table, then delivered by SMTP when configured.

Without SMTP_URL the outbox is the delivery: admins read it at /outbox. Delivery runs in the background,
so a page that sends mail for some requests and not others (a sign-in link for an unknown address) answers
in the same time either way.
"""

from __future__ import annotations

import asyncio
import logging
from email.message import EmailMessage
from urllib.parse import parse_qs, unquote, urlsplit

import aiosmtplib
from sqlalchemy import select

from livesupport.clock import Clock
from livesupport.store.database import Database
from livesupport.store.models import OutboxEmail

log = logging.getLogger("livesupport.mail")

MAX_ATTEMPTS = 5


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
        self._tasks: set[asyncio.Task[int]] = set()
        self._lock = asyncio.Lock()

    @property
    def delivery(self) -> str:
        return f"SMTP via {self.smtp.host}:{self.smtp.port}" if self.smtp else "the outbox at /outbox (no SMTP_URL)"

    async def send(self, to: str, subject: str, body: str) -> int:
        """Keep the message, and deliver it in the background; returns its outbox id."""
        async with self.db.write() as s:
            row = OutboxEmail(to_addr=to, subject=subject, body=body, created_at=self.clock.now())
            s.add(row)
            await s.flush()
            message_id = row.id
        if self.smtp is not None:
            task = asyncio.create_task(self.deliver_pending())
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        return message_id

    async def deliver_pending(self) -> int:
        """Send what is waiting (at most MAX_ATTEMPTS tries each); returns how many went out."""
        if self.smtp is None:
            return 0
        sent = 0
        async with self._lock:  # one delivery run at a time: no message goes out twice from this process
            async with self.db.read() as s:
                waiting = list((await s.execute(select(OutboxEmail).where(
                    OutboxEmail.sent_at.is_(None), OutboxEmail.attempts < MAX_ATTEMPTS).order_by(OutboxEmail.id)
                )).scalars())
            for mail in waiting:
                error = await self._deliver(mail)
                async with self.db.write() as s:
                    row = await s.get(OutboxEmail, mail.id)
                    if row is None:
                        continue
                    row.attempts += 1
                    if error is None:
                        row.sent_at = self.clock.now()
                        sent += 1
                    else:
                        row.last_error = error[:500]
        return sent

    async def _deliver(self, mail: OutboxEmail) -> str | None:
        assert self.smtp is not None
        msg = EmailMessage()
        msg["From"], msg["To"], msg["Subject"] = self.sender, mail.to_addr, mail.subject
        msg.set_content(mail.body)
        try:
            await aiosmtplib.send(
                msg, hostname=self.smtp.host, port=self.smtp.port, username=self.smtp.username,
                password=self.smtp.password, use_tls=self.smtp.use_tls, start_tls=self.smtp.start_tls or None,
                timeout=15,
            )
        except (aiosmtplib.SMTPException, OSError) as exc:
            log.warning("could not deliver mail %d to %s: %s", mail.id, mail.to_addr, exc)
            return str(exc)
        log.info("mail %d delivered to %s", mail.id, mail.to_addr)
        return None

    async def outbox(self, limit: int = 100) -> list[OutboxEmail]:
        async with self.db.read() as s:
            return list((await s.execute(select(OutboxEmail).order_by(OutboxEmail.id.desc()).limit(limit))).scalars())

    async def stop(self) -> None:
        for task in list(self._tasks):
            try:
                await asyncio.wait_for(asyncio.shield(task), 10)
            except Exception:  # noqa: BLE001
                task.cancel()
