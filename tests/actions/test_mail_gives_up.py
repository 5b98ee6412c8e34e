"""Mail the SMTP server keeps refusing is tried on the documented schedule (30 s, 1 min, 2 min … at most an hour
apart, 12 times) and then given up: `livesupport worker --once --now <instant>` at each instant, a real SMTP
server that refuses, on SQLite and PostgreSQL. docs/operations.md."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from aiosmtpd.controller import Controller

from livesupport.actions.mail import Mailer
from livesupport.clock import FixedClock
from livesupport.store.database import Database
from livesupport.store.models import OutboxEmail
from tests.conftest import Deployment, _deployment
from tests.utils import cli, free_port, run_server, signed_in
from tests.web.guarantee_helpers import new_account

T0 = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
# The wait after each failed try, as docs/operations.md gives it: doubling from 30 s, at most an hour.
WAITS = [timedelta(seconds=s) for s in (30, 60, 120, 240, 480, 960, 1920, 3600, 3600, 3600, 3600)]


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
async def deployment(request: pytest.FixtureRequest) -> AsyncIterator[Deployment]:
    """An outbox of its own: the worker here delivers everything that waits in it."""
    async for d in _deployment(request.param):
        yield d


class Refusing:
    """An SMTP server that takes the envelope and refuses every message."""

    def __init__(self) -> None:
        self.tries = 0

    async def handle_DATA(self, server: object, session: object, envelope: object) -> str:  # noqa: N802
        self.tries += 1
        return "554 5.7.1 Message refused by policy"


async def test_mail_is_given_up_after_its_last_try(db: Database, deployment: Deployment) -> None:
    d = deployment
    port, smtp = free_port(), Refusing()
    to = f"never-{d.kind}@acme.test"
    async with db.write() as s:
        message_id = await Mailer(db, FixedClock(T0), "desk <desk@localhost>").queue(s, to, "Refused", "No luck.")

    async def row() -> OutboxEmail:
        async with db.read() as s:
            found = await s.get(OutboxEmail, message_id)
            assert found is not None
            return found

    async def worker(at: datetime) -> str:
        done = await asyncio.to_thread(cli, d, "worker", "--once", "--now", at.isoformat(),
                                       SMTP_URL=f"smtp://127.0.0.1:{port}")
        assert done.returncode == 0, done.stderr
        return done.stdout

    controller = Controller(smtp, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        at = T0
        assert "e-mails delivered 0" in await worker(at)
        assert (await row()).attempts == 1 and smtp.tries == 1
        await worker(at + WAITS[0] - timedelta(seconds=1))  # not due yet: it waits its turn
        assert (await row()).attempts == 1 and smtp.tries == 1
        for tries, wait in enumerate(WAITS, start=2):
            due = (await row()).next_attempt_at
            assert due == at + wait, (tries, due, at + wait)
            at = due
            await worker(at)
            assert (await row()).attempts == tries and smtp.tries == tries
        last = await row()
        assert last.attempts == 12 and last.sent_at is None and "554" in (last.last_error or "")
        await worker(at + timedelta(days=2))  # given up: never tried again
        assert (await row()).attempts == 12 and smtp.tries == 12
    finally:
        controller.stop()
    admin, _ = await new_account(d, "admin")
    async with run_server(d.env()) as srv, signed_in(srv, admin) as http:
        page = (await http.get("/outbox")).text
    item = page.split(f"<code>{to}</code>")[1].split("</li>")[0]
    assert "given up</strong> after 12 tries" in item
    assert "tries: 554 5.7.1 Message refused by policy</p>" in item  # as the server said it, not a Python tuple
