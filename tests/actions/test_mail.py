"""The mailer against a real database and a real SMTP server: one message, two workers, sent once;
headers that cannot be forged; retries that wait their turn."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from livesupport.actions.mail import Mailer
from livesupport.clock import FixedClock
from livesupport.store.database import Database
from livesupport.store.models import OutboxEmail
from tests.conftest import Deployment, _deployment
from tests.smtp import Inbox, smtp_server
from tests.utils import free_port

T0 = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
async def deployment(request: pytest.FixtureRequest) -> AsyncIterator[Deployment]:
    """An outbox of its own: these tests count what is waiting in it."""
    async for d in _deployment(request.param):
        yield d


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
        assert sum(sent) == 1  # one of the two sent it; handed over before the server answered, so it is here
        (mail,) = inbox.to(to)
        assert mail["Subject"] == "Once Bcc: victim@evil.test"  # one line: no header was forged
        assert mail["Bcc"] is None and mail["List-Unsubscribe"] == "<https://desk.test/u/x>"
        assert mail["Message-ID"].startswith("<outbox-") and mail["Message-ID"].endswith("@localhost>")  # every one
    finally:
        await other.dispose()


async def test_a_failed_try_waits_before_the_next(db: Database, deployment: Deployment) -> None:
    port = free_port()  # nobody listens
    clock = FixedClock(T0)
    mailer = Mailer(db, clock, "desk <desk@localhost>", f"smtp://127.0.0.1:{port}")
    to = f"later-{deployment.kind}@acme.test"
    async with db.write() as s:
        ids = [await mailer.queue(s, to, f"Later {i}", "When the server is back.") for i in range(3)]

    async def row(message_id: int) -> OutboxEmail:
        async with db.read() as s:
            found = await s.get(OutboxEmail, message_id)
            assert found is not None
            return found

    async def attempts() -> list[int]:
        return [(await row(i)).attempts for i in ids]

    await mailer.deliver_pending()  # the server is down: the first fails, and the run stops there
    assert await attempts() == [1, 0, 0]  # the others would have waited out the same failure
    first = await row(ids[0])
    assert first.sent_at is None and "127.0.0.1" in (first.last_error or "")
    assert first.next_attempt_at == T0 + timedelta(seconds=30)
    await mailer.deliver_pending()
    await mailer.deliver_pending()
    assert await attempts() == [1, 1, 1]
    await mailer.deliver_pending()  # nothing is due: each waits its 30 s
    assert await attempts() == [1, 1, 1]
    clock.at += timedelta(seconds=30)
    await mailer.deliver_pending()
    assert await attempts() == [2, 1, 1]
    assert (await row(ids[0])).next_attempt_at == clock.now() + timedelta(seconds=60)  # then twice as long
    clock.at += timedelta(seconds=60)
    inbox = Inbox()
    with smtp_server(inbox, port):
        assert await mailer.deliver_pending() == 3  # each handed over before the server's answer came back
    assert len(inbox.to(to)) == 3 and await attempts() == [3, 2, 2]
