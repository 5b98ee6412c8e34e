"""E-mail to followers who were away, end to end: a real server, a real SMTP server (aiosmtpd), and the
`livesupport worker --once --now` an operator runs, on SQLite and on PostgreSQL.

Each test works on tickets of its own in a deployment of its own, and looks only at mail about them.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import Message
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy import select

from livesupport.actions import update_mail
from livesupport.actions.mail import Mailer
from livesupport.actions.reply_tokens import ReplyToken, ReplyTokens
from livesupport.clock import SystemClock
from livesupport.domain import mail_threads
from livesupport.store import huddle as huddle_store
from livesupport.store.database import Database
from livesupport.store.models import OutboxEmail
from tests.conftest import PASSWORD, Deployment, _deployment, new_person, token_for
from tests.realtime.helpers import connected, open_ticket
from tests.smtp import Inbox, body_of, smtp_server
from tests.utils import Server, cli, csrf_of, free_port, run_server

NY = ZoneInfo("America/New_York")


@dataclass
class Desk:
    server: Server
    d: Deployment
    inbox: Inbox
    smtp_port: int
    last_run: list[Message] = field(default_factory=list)  # what the last worker run delivered

    def email(self, who: str) -> str:
        return str(self.d.users[who]["email"])

    async def worker(self, at: datetime, smtp_port: int | None = None, inbox: Inbox | None = None) -> str:
        """One run of the worker at `at`, as an operator would start it, delivering to `smtp_port` (whose
        server keeps what it receives in `inbox`). It returns once every e-mail it says it delivered is there."""
        inbox = inbox or self.inbox
        before = len(inbox.messages)
        done = await asyncio.to_thread(
            cli, self.d, "worker", "--once", "--now", at.isoformat(),
            SMTP_URL=f"smtp://127.0.0.1:{smtp_port or self.smtp_port}", BASE_URL=self.server.url)
        assert done.returncode == 0, done.stderr
        self.last_run = await inbox.delivered_by(before, done.stdout)
        return done.stdout

    def about(self, who: str, ticket_id: int) -> list[Message]:
        return self.inbox.about(self.email(who), f"[#{ticket_id}]")


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
async def desk(request: pytest.FixtureRequest) -> AsyncIterator[Desk]:
    """A deployment of its own whose server only serves (WORKER=separate): the tests run the worker."""
    inbox, smtp_port, port = Inbox(), free_port(), free_port()
    with smtp_server(inbox, smtp_port):
        async for d in _deployment(request.param):
            env = d.env(SMTP_URL=f"smtp://127.0.0.1:{smtp_port}", BASE_URL=f"http://127.0.0.1:{port}",
                        WORKER="separate", CHAT_RATE="0")
            async with run_server(env, port=port) as srv:
                yield Desk(srv, d, inbox, smtp_port)


def minutes(n: float) -> datetime:
    return datetime.now(UTC) + timedelta(minutes=n)


async def say(desk: Desk, who: str, ticket_id: int, *bodies: str, visibility: str = "public") -> list[int]:
    async with connected(desk.server, desk.d, who) as c:
        replies = [await c.request({"type": "chat", "topic": f"ticket:{ticket_id}", "body": b,
                                    "visibility": visibility}) for b in bodies]
    assert all(r["ok"] for r in replies), replies
    return [r["seq"] for r in replies]


async def test_three_quick_messages_make_one_email(desk: Desk) -> None:
    tid = await open_ticket(desk.server, desk.d, "Outlook asks for my password QM-1")
    await say(desk, "engineer", tid, "First, close Outlook. QM-STEP-1", "Then open Credential Manager. QM-STEP-2",
              "Remove the Office entries and start Outlook again. QM-STEP-3")
    await desk.worker(minutes(2))  # still inside the five-minute window: more may come
    assert desk.about("client", tid) == []

    out = await desk.worker(minutes(6))
    (mail,) = desk.about("client", tid)
    sent = re.search(r"update e-mails (\d+)", out)
    assert sent and mail in desk.last_run  # the run says how many it sent, and this one is among them
    assert int(sent.group(1)) == len([m for m in desk.last_run if re.match(r"\[#\d+\]", str(m["Subject"]))]) >= 1
    body = body_of(mail)
    assert mail["Subject"] == f"[#{tid}] Outlook asks for my password QM-1"
    assert "3 new updates" in body
    assert body.index("QM-STEP-1") < body.index("QM-STEP-2") < body.index("QM-STEP-3")
    assert "Dana Engineer wrote:" in body
    assert f"Open the ticket: {desk.server.url}/tickets/{tid}" in body
    assert "because you opened this ticket" in body
    unsubscribe = re.fullmatch(r"<(http://127\.0\.0\.1:\d+/unsubscribe/\S+)>", header(mail, "List-Unsubscribe"))
    assert unsubscribe and unsubscribe.group(1) in body
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert mail["Auto-Submitted"] == "auto-generated"

    await desk.worker(minutes(7))  # run again: nothing new, nothing sent twice
    await desk.worker(minutes(12))
    assert len(desk.about("client", tid)) == 1
    assert desk.about("engineer", tid) == []  # she wrote them, and does not follow the ticket anyway
    assert desk.about("client2", tid) == []  # a colleague who does not follow it

    await say(desk, "engineer", tid, "Did that work? QM-STEP-4")  # the next one is about what is new only
    await desk.worker(minutes(18))
    later = [m for m in desk.about("client", tid) if m is not mail]
    assert len(later) == 1 and "QM-STEP-4" in body_of(later[0]) and "QM-STEP-1" not in body_of(later[0])
    assert "1 new update on" in body_of(later[0])


async def test_a_client_reading_live_gets_none(desk: Desk) -> None:
    tid = await open_ticket(desk.server, desk.d, "Printer jams WL-1")
    topic = f"ticket:{tid}"
    async with connected(desk.server, desk.d, "client") as alice:
        joined = await alice.join(topic)
        assert joined["type"] == "joined"
        seqs = await say(desk, "engineer", tid, "Open tray 2. WL-1", "Pull the green lever. WL-2")
        for seq in seqs:  # as the ticket page does: `seen` for what came in live
            await alice.expect(type="event", seq=seq)
            await alice.send({"type": "seen", "topic": topic, "seq": seq})
        await alice.request({"type": "ping"})  # the seen frames were read
        await reviewed_up_to(desk, "client", tid, seqs[-1])  # and stored in the background
    await desk.worker(minutes(6))
    assert desk.about("client", tid) == []


async def test_internal_notes_never_reach_a_client(desk: Desk) -> None:
    tid = await open_ticket(desk.server, desk.d, "VPN drops IN-1")
    topic = f"ticket:{tid}"
    eng = desk.d.users["engineer"]["id"]
    async with connected(desk.server, desk.d, "engineer2") as sam:
        assert (await sam.request({"type": "assign", "topic": topic, "assignees": [eng]}))["ok"]
        assert (await sam.request({"type": "chat", "topic": topic, "visibility": "internal",
                                   "body": "Their firewall is misconfigured. SECRET-NOTE-77"}))["ok"]
        assert (await sam.request({"type": "task", "topic": topic, "title": "Check the tunnel logs",
                                   "note": "staff only: SECRET-TASK-NOTE-78"}))["ok"]
        assert (await sam.request({"type": "invite", "topic": topic, "user_id": desk.d.users["phone"]["id"],
                                   "message": "SECRET-INVITE-79"}))["ok"]
        assert (await sam.request({"type": "chat", "topic": topic, "body": "We are looking into it. PUBLIC-80"}))["ok"]
    await desk.worker(minutes(6))
    (client_mail,) = desk.about("client", tid)
    text = body_of(client_mail)
    assert "PUBLIC-80" in text and "Check the tunnel logs" in text and "Lee Phones into the team" in text
    assert "Dana Engineer" in text  # the assignment
    for secret in ("SECRET-NOTE-77", "SECRET-TASK-NOTE-78", "SECRET-INVITE-79", "internal note"):
        assert secret not in text
    # The engineer assigned to it follows it, and staff mail has the staff's view.
    (staff_mail,) = desk.about("engineer", tid)
    staff_text = body_of(staff_mail)
    for secret in ("SECRET-NOTE-77", "SECRET-TASK-NOTE-78", "PUBLIC-80"):
        assert secret in staff_text
    assert "because you are assigned to this ticket" in staff_text

    # Internal activity alone sends a client nothing at all.
    await say(desk, "engineer", tid, "Still internal. SECRET-NOTE-81", visibility="internal")
    await desk.worker(minutes(12))
    assert len(desk.about("client", tid)) == 1


@pytest.mark.parametrize("bad", [{"mode": "hourly", "digest_hour": "9"}, {"mode": "daily", "digest_hour": "25"}])
async def test_preferences_refuse_bad_input(desk: Desk, bad: dict[str, str]) -> None:
    async with signed_in(desk, "client2") as http:
        page = await http.get("/account")
        r = await http.post("/account/notifications", data={**bad, "csrf": csrf_of(page.text)})
        assert r.status_code == 400 and ("immediately, a daily digest" in r.text or "from 0 (midnight)" in r.text)
        r = await http.post("/account/notifications", data={"mode": "off", "digest_hour": "9"})
        assert r.status_code == 403 and "expired" in r.text


async def test_the_daily_digest(desk: Desk) -> None:
    bob_key = await new_person(desk.d)  # his preferences change here: an account of the test's own
    tokens = await token_for(desk.server, desk.d, bob_key)
    first = await open_ticket(desk.server, desk.d, "Scanner offline DG-1")
    second = await open_ticket(desk.server, desk.d, "New laptop DG-2")
    async with httpx.AsyncClient(base_url=desk.server.url, headers={"Authorization": f"Bearer {tokens}"}) as api:
        for tid in (first, second):  # Bob follows what his colleague opened
            r = await api.post(f"/api/tickets/{tid}/follow")
            assert r.status_code == 200 and r.json() == {"following": True, "reason": "follow", "user_id":
                                                         desk.d.users[bob_key]["id"]}
    async with signed_in(desk, bob_key) as http:
        page = await http.get("/account")
        assert 'id="notifications"' in page.text and "America/New York" in page.text
        r = await http.post("/account/notifications", data={"mode": "daily", "digest_hour": "9",
                                                            "csrf": csrf_of(page.text)})
        assert r.status_code == 303 and r.headers["location"] == "/account?saved=notifications#notifications"
        saved = await http.get(r.headers["location"])
        assert "Your e-mail preferences were saved." in saved.text and 'value="daily" checked' in saved.text

    await say(desk, "engineer", first, "The scanner needs a new driver. DG-A")
    await say(desk, "engineer", second, "Your laptop ships on Monday. DG-B")
    tomorrow = datetime.now(NY).date() + timedelta(days=1)
    await desk.worker(datetime(tomorrow.year, tomorrow.month, tomorrow.day, 8, 30, tzinfo=NY))
    bob = desk.email(bob_key)
    assert desk.inbox.about(bob, "digest") == [] and desk.about(bob_key, first) == []  # not before 09:00
    await desk.worker(datetime(tomorrow.year, tomorrow.month, tomorrow.day, 9, 5, tzinfo=NY))
    (digest,) = desk.inbox.about(bob, "digest")
    text = body_of(digest)
    assert digest["Subject"] == f"Your support digest for {tomorrow.isoformat()}: 2 updates"
    assert f"== #{first} Scanner offline DG-1 ==" in text and f"== #{second} New laptop DG-2 ==" in text
    assert "DG-A" in text and "DG-B" in text and digest["List-Unsubscribe"]
    await desk.worker(datetime(tomorrow.year, tomorrow.month, tomorrow.day, 10, 0, tzinfo=NY))
    assert len(desk.inbox.about(bob, "digest")) == 1  # one a day
    assert desk.about(bob_key, first) == desk.about(bob_key, second) == []  # and no e-mail per ticket


async def test_unsubscribe_by_the_header_and_by_the_link(desk: Desk) -> None:
    by_header = await open_ticket(desk.server, desk.d, "Wi-Fi slow UN-1")
    by_link = await open_ticket(desk.server, desk.d, "Shared drive UN-2")
    for tid in (by_header, by_link):
        await say(desk, "engineer", tid, f"Looking at it. UN-{tid}")
    await desk.worker(minutes(6))
    (header_mail,), (link_mail,) = desk.about("client", by_header), desk.about("client", by_link)

    # RFC 8058: the mail program POSTs to the header's address, with no cookie and no CSRF token.
    url = header(header_mail, "List-Unsubscribe").strip("<>")
    async with httpx.AsyncClient() as bare:
        r = await bare.post(url, content="List-Unsubscribe=One-Click",
                            headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert r.status_code == 200 and f"about ticket #{by_header}" in r.text

    # The link in the text opens a page; opening it (as a mail scanner would) changes nothing.
    link = re.search(r"Stop e-mails about this ticket: (\S+)", body_of(link_mail))
    assert link
    async with httpx.AsyncClient() as browser:
        page = await browser.get(link.group(1))
        assert page.status_code == 200 and "Stop e-mails about this ticket" in page.text
        assert "Shared drive UN-2" in page.text
        await say(desk, "engineer", by_link, "Still on it. UN-LINK-2")
        await desk.worker(minutes(12))
        assert len(desk.about("client", by_link)) == 2  # the GET unsubscribed nobody
        done = await browser.post(link.group(1), data={"scope": "ticket"})
        assert done.status_code == 200 and "You are unsubscribed" in done.text

    for tid in (by_header, by_link):
        await say(desk, "engineer", tid, "One more thing. UN-AFTER")
    await desk.worker(minutes(18))
    assert [m for m in desk.inbox.to(desk.email("client")) if "UN-AFTER" in body_of(m)] == []
    # The ticket page shows it: not following any more.
    async with signed_in(desk, "client") as http:
        assert 'aria-pressed="false"' in (await http.get(f"/tickets/{by_header}")).text

    async with httpx.AsyncClient(base_url=desk.server.url) as bare:
        bad = await bare.get("/unsubscribe/not-a-real-token")
        assert bad.status_code == 400 and "not valid" in bad.text
        forged = await bare.post(url.rsplit("/", 1)[0] + "/" + url.rsplit("/", 1)[1][:-2] + "xx",
                                 data={"scope": "all"})
        assert forged.status_code == 400
        wrong = await bare.post(url, data={"scope": "everything"})
        assert wrong.status_code == 400 and "Choose what to stop" in wrong.text


async def test_a_failed_send_is_retried_with_backoff(desk: Desk) -> None:
    tid = await open_ticket(desk.server, desk.d, "Phones dead RT-1")
    await say(desk, "engineer", tid, "Checking the PBX. RT-1")
    down = free_port()  # nothing listens here yet
    start = minutes(6)
    await desk.worker(start, smtp_port=down)
    mail = await outbox_row(desk, tid)
    assert mail.sent_at is None and mail.attempts == 1 and mail.last_error
    assert mail.next_attempt_at is not None and mail.next_attempt_at - start == timedelta(seconds=30)

    inbox = Inbox()
    with smtp_server(inbox, down):
        await desk.worker(start + timedelta(seconds=10), smtp_port=down, inbox=inbox)  # backing off: not yet
        assert inbox.messages == [] and (await outbox_row(desk, tid)).attempts == 1
        await desk.worker(start + timedelta(seconds=45), smtp_port=down, inbox=inbox)
        (sent,) = inbox.about(desk.email("client"), f"[#{tid}]")
    assert "RT-1" in body_of(sent)
    row = await outbox_row(desk, tid)
    assert row.sent_at is not None and row.attempts == 2
    await desk.worker(start + timedelta(minutes=5))
    assert desk.about("client", tid) == []  # delivered once, not again by the next run


def header(mail: Message, name: str) -> str:
    """A header as one line (long ones arrive folded)."""
    return "".join(str(mail[name]).split())


async def test_off_means_nothing_now_or_later(desk: Desk) -> None:
    carol = await new_person(desk.d, org="Globex")  # her preferences change here: an account of the test's own
    tid = await open_ticket(desk.server, desk.d, "Toner empty OF-1", who=carol)
    await say(desk, "engineer", tid, "A new cartridge is on its way. OFF-1")
    await desk.worker(minutes(1))  # noted as waiting for her, not due yet
    async with signed_in(desk, carol) as http:
        page = await http.get("/account")
        r = await http.post("/account/notifications", data={"mode": "off", "digest_hour": "8",
                                                            "csrf": csrf_of(page.text)})
        assert r.status_code == 303
        await desk.worker(minutes(6))
        assert desk.about(carol, tid) == []
        page = await http.get("/account")
        r = await http.post("/account/notifications", data={"mode": "immediate", "digest_hour": "8",
                                                            "csrf": csrf_of(page.text)})
        assert r.status_code == 303
    await desk.worker(minutes(18))
    assert desk.about(carol, tid) == []  # nothing of the time it was off
    await say(desk, "engineer", tid, "Did it fit? OFF-3")
    await desk.worker(minutes(24))
    (mail,) = desk.about(carol, tid)
    assert "OFF-3" in body_of(mail) and "OFF-1" not in body_of(mail)


async def test_more_than_one_email_holds_goes_on_in_the_next(desk: Desk, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(update_mail, "MAX_READ", 5)  # the limits of one e-mail, made small
    monkeypatch.setattr(update_mail, "MAX_LISTED", 3)
    tid = await open_ticket(desk.server, desk.d, "Many updates MU-1")
    await say(desk, "engineer", tid, *[f"Update number {i} MU" for i in range(1, 9)])
    db = Database(desk.d.database_url)
    try:
        job = update_mail.UpdateMail(db, SystemClock(), Mailer(db, SystemClock(), "desk <d@localhost>"),
                                     tz=NY, window=timedelta(minutes=5), secret_key="test-secret-key",
                                     base_url=desk.server.url)
        await job.run(minutes(6))
        await job.run(minutes(8))  # the rest waits out a window of its own
        await job.run(minutes(12))
        async with db.read() as s:
            mails = list((await s.execute(select(OutboxEmail).where(OutboxEmail.subject.like(f"[#{tid}]%"))
                                          .order_by(OutboxEmail.id))).scalars())
    finally:
        await db.dispose()
    # The first e-mail read five events (her own opening message and updates 1-4), listed three and
    # counted the fourth; the second goes on from update 5 (5-7 listed, 8 counted).
    first, second = mails
    assert [f"Update number {i} MU" in first.body for i in range(1, 9)] == [True] * 3 + [False] * 5
    assert "4 new updates" in first.body and "… and 1 more update on the ticket." in first.body
    assert [f"Update number {i} MU" in second.body for i in range(1, 9)] == [False] * 4 + [True] * 3 + [False]
    assert "4 new updates" in second.body and "… and 1 more update on the ticket." in second.body


async def reviewed_up_to(desk: Desk, who: str, ticket_id: int, seq: int, timeout: float = 10) -> None:
    """Wait until the database holds that `who` has read the ticket up to `seq`."""
    db = Database(desk.d.database_url)
    user_id = desk.d.users[who]["id"]
    try:
        deadline = time.monotonic() + timeout
        while True:
            async with db.read() as s:
                got = await huddle_store.reviewed(s, ticket_id, [user_id])
            if got.get(user_id, 0) >= seq:
                return
            assert time.monotonic() < deadline, f"ticket {ticket_id} not stored as read up to {seq}: {got}"
            await asyncio.sleep(0.05)
    finally:
        await db.dispose()


async def outbox_row(desk: Desk, ticket_id: int) -> OutboxEmail:
    db = Database(desk.d.database_url)
    try:
        async with db.read() as s:
            rows = (await s.execute(select(OutboxEmail).where(OutboxEmail.subject.like(f"[#{ticket_id}]%")))).scalars()
            (row,) = list(rows)
            return row
    finally:
        await db.dispose()


class signed_in:  # noqa: N801 - used as `async with signed_in(...)`
    """A browser-like session (cookie and CSRF token) for one of the test users."""

    def __init__(self, desk: Desk, who: str) -> None:
        self.http = httpx.AsyncClient(base_url=desk.server.url)
        self.email = desk.email(who)

    async def __aenter__(self) -> httpx.AsyncClient:
        page = await self.http.get("/login")
        r = await self.http.post("/login", data={"email": self.email, "password": PASSWORD,
                                                 "csrf": csrf_of(page.text), "next": "/tickets"})
        assert r.status_code == 303, r.text
        return self.http

    async def __aexit__(self, *exc: object) -> None:
        await self.http.aclose()


async def test_ticket_mails_thread_and_answer_to_a_signed_revocable_address(desk: Desk) -> None:
    tid = await open_ticket(desk.server, desk.d, "Shared drive is read-only TH-1")
    await say(desk, "engineer", tid, "Checking the permissions. TH-1")
    await desk.worker(minutes(6))
    await say(desk, "engineer", tid, "Fixed: try again. TH-2")
    await desk.worker(minutes(12))
    first, second = desk.about("client", tid)
    root = f"<ticket-{tid}@localhost>"  # MAIL_FROM is support@localhost: its domain is MAIL_IN_DOMAIN's default
    for mail in (first, second):
        assert mail["In-Reply-To"] == root and mail["References"] == root
        assert re.fullmatch(rf"<ticket-{tid}\.[0-9a-z.-]+@localhost>", mail["Message-ID"])
        assert mail["Auto-Submitted"] == "auto-generated"
    assert first["Message-ID"] != second["Message-ID"]
    assert first["Reply-To"] == second["Reply-To"]
    token = mail_threads.token_in(mail_threads.address_of(first["Reply-To"]), "localhost")
    assert token and mail_threads.address_of(first["Reply-To"]).startswith("support+")
    tokens = ReplyTokens("test-secret-key")
    read = tokens.read(token)
    assert read == ReplyToken(tid, desk.d.users["client"]["id"], 0)
    assert tokens.read(token[:-1] + ("a" if token[-1] != "a" else "b")) is None  # the signature is checked
    db = Database(desk.d.database_url)
    try:
        async with db.write() as s:
            assert await tokens.current(s, read)
            await tokens.revoke(s, tid, read.user_id)
        async with db.read() as s:
            assert not await tokens.current(s, read)  # revoked: the old address no longer names anyone
            assert tokens.read(await tokens.for_recipient(s, tid, read.user_id)) == ReplyToken(tid, read.user_id, 1)
    finally:
        await db.dispose()


async def test_an_email_reply_reaches_followers_but_not_its_sender(desk: Desk) -> None:
    """A reply that came in by e-mail is an update like any other: the engineer following the ticket hears of it
    by e-mail, the client who wrote it does not."""
    from tests.mailin.helpers import corpus, mail_in, reply_address

    tid = await open_ticket(desk.server, desk.d, "Scanner offline ER-1")
    token = await token_for(desk.server, desk.d, "engineer")
    async with httpx.AsyncClient(base_url=desk.server.url) as http:
        r = await http.post(f"/api/tickets/{tid}/follow", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200, r.text
    await desk.worker(minutes(6))  # the ticket's opening is behind everyone
    alice = desk.d.users["client"]
    to = reply_address(desk.d, tid, "client").replace("@support.test", "@localhost")
    raw = corpus("thunderbird.eml", tid, alice["email"], to, "er-1")
    port = free_port()
    async with mail_in(desk.d.env(MAIL_FROM="Support <support@localhost>"), port):
        def deliver() -> dict[str, tuple[int, bytes]]:
            import smtplib

            with smtplib.LMTP("127.0.0.1", port, timeout=30) as lmtp:
                return lmtp.sendmail(alice["email"], [to], raw)  # type: ignore[return-value]

        assert await asyncio.to_thread(deliver) == {}
    await desk.worker(minutes(12))
    (mail,) = desk.about("engineer", tid)
    assert "-NEW" in body_of(mail) and "Alice" in body_of(mail)
    assert [m for m in desk.about("client", tid) if "-NEW" in body_of(m)] == []  # her own words, not sent back
