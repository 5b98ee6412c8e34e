"""The mailer against a real database and a real SMTP server: one message, two workers, sent once;
headers that cannot be forged; retries that wait their turn."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from livesupport.actions.mail import Mailer
from livesupport.clock import FixedClock
from livesupport.store.database import Database
from livesupport.store.models import OutboxEmail
from tests.conftest import Deployment
from tests.smtp import Inbox, smtp_server
from tests.utils import free_port

T0 = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)


async def test_two_workers_send_a_message_once(db: Database, deployment: Deployment) -> None:
    port, inbox = free_port(), Inbox()
    other = Database(deployment.database_url)  # a second worker process has its own connections
    clock = FixedClock(T0)
    first = Mailer(db, clock, "desk <desk@localhost>", f"smtp://127.0.0.1:{port}")
    second = Mailer(other, clock, "desk <desk@localhost>", f"smtp://127.0.0.1:{port}")
    to = f"twice-{deployment.kind}@acme.test"
    try:
        async with db.write() as s:
            await first.queue(s, to, "Once\r\nBcc: victim@evil.test", "Only once, please.",
                              {"List-Unsubscribe": "<https://desk.test/u/x>", "Bcc": "victim@evil.test"})
        with smtp_server(inbox, port):
            sent = await asyncio.gather(first.deliver_pending(), second.deliver_pending())
            await asyncio.sleep(0.3)
        assert sum(sent) >= 1
        (mail,) = inbox.to(to)
        assert mail["Subject"] == "Once Bcc: victim@evil.test"  # one line: no header was forged
        assert mail["Bcc"] is None and mail["List-Unsubscribe"] == "<https://desk.test/u/x>"
    finally:
        await other.dispose()


async def test_a_failed_try_waits_before_the_next(db: Database, deployment: Deployment) -> None:
    port = free_port()  # nobody listens
    clock = FixedClock(T0)
    mailer = Mailer(db, clock, "desk <desk@localhost>", f"smtp://127.0.0.1:{port}")
    to = f"later-{deployment.kind}@acme.test"
    async with db.write() as s:
        message_id = await mailer.queue(s, to, "Later", "When the server is back.")

    async def row() -> OutboxEmail:
        async with db.read() as s:
            found = await s.get(OutboxEmail, message_id)
            assert found is not None
            return found

    for attempts, wait in ((1, 30), (2, 60), (3, 120)):
        await mailer.deliver_pending()
        r = await row()
        assert (r.attempts, r.sent_at) == (attempts, None) and r.last_error
        assert r.next_attempt_at == clock.now() + timedelta(seconds=wait)
        await mailer.deliver_pending()  # too early: not tried
        assert (await row()).attempts == attempts
        clock.at += timedelta(seconds=wait)
    inbox = Inbox()
    with smtp_server(inbox, port):
        assert await mailer.deliver_pending() >= 1
        await asyncio.sleep(0.3)
    assert len(inbox.to(to)) == 1 and (await row()).attempts == 4
