"""IMAP_URL: the worker reads a real Dovecot mailbox into tickets, marking each message done only after it was
stored; reading it again (the flag lost, a second worker) posts nothing twice. SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator, Iterator

import aioimaplib
import pytest

from livesupport.actions.inbound_mail import Result
from livesupport.mailin.imap import ImapPoller
from tests.conftest import Deployment
from tests.mailin.dovecot import Dovecot, dovecot
from tests.mailin.helpers import MAIL_FROM, corpus, reply_address
from tests.realtime.helpers import all_events, connected, open_ticket
from tests.utils import Server, cli, run_server


@pytest.fixture
def imap() -> Iterator[Dovecot]:
    """A mailbox of each test's own: it counts what is in it."""
    with dovecot() as server:
        yield server


@pytest.fixture(scope="module")
async def served(deployment: Deployment, redis_url: tuple[str, str]) -> AsyncIterator[Server]:
    url, prefix = redis_url
    env = deployment.env(REDIS_URL=url, REDIS_PREFIX=prefix, MAIL_FROM=MAIL_FROM, WORKER="separate")
    async with run_server(env) as srv:
        yield srv


def worker_once(d: Deployment, imap: Dovecot, redis_url: tuple[str, str]) -> str:
    done = cli(d, "worker", "--once", IMAP_URL=imap.url, MAIL_FROM=MAIL_FROM, REDIS_URL=redis_url[0],
               REDIS_PREFIX=redis_url[1])
    assert done.returncode == 0, done.stderr
    return done.stdout


async def unseen(imap: Dovecot) -> None:
    """Take the \\Seen flag off every message, as a crash before the flag was stored would leave them."""
    client = aioimaplib.IMAP4("127.0.0.1", imap.port)
    await client.wait_hello_from_server()
    await client.login(imap.user, imap.password)
    await client.select("INBOX")
    await client.store("1:*", "-FLAGS", r"(\Seen)")
    await client.logout()


async def test_a_reply_in_the_mailbox_reaches_the_ticket_once(deployment: Deployment, served: Server,
                                                              imap: Dovecot, redis_url: tuple[str, str]) -> None:
    tid = await open_ticket(served, deployment, "Read from IMAP")
    alice = deployment.users["client"]
    to = reply_address(deployment, tid, "client")
    imap.deliver(corpus("outlook_html_only.eml", tid, alice["email"], to, secrets.token_hex(4)), "a")
    async with connected(served, deployment, "engineer") as dana:
        await dana.join(f"ticket:{tid}")
        out = await asyncio.to_thread(worker_once, deployment, imap, redis_url)
        assert "e-mails read from IMAP 1" in out
        ev = await dana.expect(type="event", kind="chat")  # live, through Redis, from the worker process
    assert ev["data"]["source"] == "email" and "OUTLOOK-NEW" in ev["data"]["body"]
    assert "e-mails read from IMAP 0" in await asyncio.to_thread(worker_once, deployment, imap, redis_url)
    await unseen(imap)  # the flag lost: read again, stored once
    assert "e-mails read from IMAP 1" in await asyncio.to_thread(worker_once, deployment, imap, redis_url)
    chats = [e for e in await all_events(served, deployment, "engineer", tid) if e["data"].get("source")]
    assert len(chats) == 1


async def test_the_long_running_worker_hears_new_mail_by_idle(sqlite_deployment: Deployment, imap: Dovecot) -> None:
    """One machine, the in-process worker with a ten-minute interval: a message arriving while it waits comes in at
    once, so only IDLE can have told it (a poll would wait the ten minutes)."""
    d = sqlite_deployment
    env = d.env(MAIL_FROM=MAIL_FROM, IMAP_URL=imap.url, WORKER_INTERVAL="600")
    async with run_server(env) as srv:
        tid = await open_ticket(srv, d, "Read by IDLE")
        alice = d.users["client"]
        to = reply_address(d, tid, "client")
        async with connected(srv, d, "engineer") as dana:
            await dana.join(f"ticket:{tid}")
            imap.deliver(corpus("gmail.eml", tid, alice["email"], to, secrets.token_hex(4)), "first")
            first = await dana.expect(type="event", kind="chat", timeout=30)  # the first pass, or IDLE
            imap.deliver(corpus("apple_mail.eml", tid, alice["email"], to, secrets.token_hex(4)), "second")
            second = await dana.expect(type="event", kind="chat", timeout=30)  # now waiting: IDLE only
    assert "GMAIL-NEW" in first["data"]["body"] and "APPLE-NEW" in second["data"]["body"]


class Arrivals:
    """Stands in for the mail pipeline (what is under test is the reading of the mailbox): it keeps what it is
    handed, holds back (defers) the messages named so, and has another message arrive while it handles one."""

    def __init__(self, imap: Dovecot, arriving: dict[bytes, bytes], deferred: set[bytes]) -> None:
        self.imap, self.arriving, self.deferred, self.handed = imap, arriving, deferred, []

    async def receive(self, raw: bytes, via: str) -> Result:
        subject = next(line for line in raw.splitlines() if line.startswith(b"Subject: "))[9:]
        self.handed.append(subject)
        if subject in self.arriving:  # delivered while this one is fetched and marked: no IDLE announces it
            self.imap.deliver(message(self.arriving.pop(subject)), subject.decode() + "-next")
        return Result("deferred" if subject in self.deferred else "post")


def message(subject: bytes) -> bytes:
    return b"From: alice@acme.test\r\nMessage-ID: <" + subject + b"@acme.test>\r\nSubject: " + subject + b"\r\n\r\nHi\r\n"


async def test_mail_that_arrives_during_a_pass_is_read_in_that_pass(imap: Dovecot) -> None:
    """The server announces a message that arrives while another is fetched or marked during that command, where
    the IMAP client drops it, and IDLE does not announce it again: the pass searches once more before it waits.
    A deferred message is handed over once per pass and stays unseen for the next."""
    imap.deliver(message(b"first"), "first")
    imap.deliver(message(b"held"), "held")
    pipeline = Arrivals(imap, {b"first": b"second", b"second": b"third"}, {b"held"})
    poller = ImapPoller(imap.url, pipeline)  # type: ignore[arg-type]
    assert await poller.run_once() == 3
    assert sorted(pipeline.handed) == [b"first", b"held", b"second", b"third"]
    pipeline.handed.clear()
    assert await poller.run_once() == 0
    assert pipeline.handed == [b"held"]  # still unseen, tried again, once
