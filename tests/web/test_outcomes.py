"""How tickets end, over HTTP on both databases, at chosen instants: solve, reopen (and its follow-up offer),
rate (and change it), the e-mailed rating link, and the worker's closing rules run as `worker --once --now`."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from livesupport.clock import FixedClock
from livesupport.store.database import Database
from livesupport.store.models import OutboxEmail, TicketRating
from tests.conftest import Deployment, _deployment
from tests.utils import cli, clocked_server

START = datetime(2027, 3, 1, 15, 0, tzinfo=UTC)


@dataclass
class Desk:
    d: Deployment
    url: str
    clock: FixedClock
    tokens: dict[str, str]

    async def call(self, who: str, method: str, path: str, **kwargs: Any) -> httpx.Response:
        if who not in self.tokens:
            user = self.d.users[who]
            async with httpx.AsyncClient(base_url=self.url) as http:
                r = await http.post("/api/tokens", json={"email": user["email"], "password": user["password"]})
                assert r.status_code == 201, r.text
                self.tokens[who] = r.json()["token"]
        async with httpx.AsyncClient(base_url=self.url) as http:
            return await http.request(method, path, headers={"Authorization": f"Bearer {self.tokens[who]}"},
                                      **kwargs)

    async def open(self, subject: str, who: str = "client", **extra: Any) -> int:
        r = await self.call(who, "POST", "/api/tickets", json={"subject": subject, "body": "Help, please.", **extra})
        assert r.status_code == 201, r.text
        return int(r.json()["id"])

    async def status(self, who: str, tid: int, status: str) -> httpx.Response:
        return await self.call(who, "POST", f"/api/tickets/{tid}/status", json={"status": status})

    async def state(self, who: str, tid: int) -> dict[str, Any]:
        r = await self.call(who, "GET", f"/api/tickets/{tid}")
        assert r.status_code == 200, r.text
        return r.json()  # type: ignore[no-any-return]

    async def events(self, who: str, tid: int) -> list[dict[str, Any]]:
        return (await self.call(who, "GET", f"/api/tickets/{tid}/events?since=0")).json()["events"]  # type: ignore

    def later(self, **delta: float) -> None:
        self.clock.at = self.clock.at + timedelta(**delta)
        self.tokens.clear()  # tokens last hours: sign in again at the new instant

    def worker(self, at: datetime) -> str:
        done = cli(self.d, "worker", "--once", "--now", at.isoformat())
        assert done.returncode == 0, done.stderr
        return done.stdout

    async def mails(self, to: str, subject_part: str) -> list[OutboxEmail]:
        db = Database(self.d.database_url)
        try:
            async with db.read() as s:
                return list((await s.execute(select(OutboxEmail).where(
                    OutboxEmail.to_addr == to, OutboxEmail.subject.contains(subject_part)))).scalars())
        finally:
            await db.dispose()


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
async def desk(request: pytest.FixtureRequest) -> AsyncIterator[Desk]:
    """A database of its own and a server whose clock the test moves (tokens live long enough for it)."""
    async for d in _deployment(request.param):  # noqa: B007
        clock = FixedClock(START)
        async with clocked_server(d.env(SESSION_MAX_DAYS="365", BASE_URL="http://desk.test"), clock) as url:
            yield Desk(d, url, clock, {})


async def test_client_marks_solved_and_reopens_within_the_window(desk: Desk) -> None:
    desk.clock.at = START
    desk.tokens.clear()
    tid = await desk.open("Printer jams OC-1")
    # A client may only mark it solved; an outsider cannot touch it; staff set anything.
    r = await desk.status("client", tid, "in_progress")
    assert r.status_code == 403 and r.json()["error"]["code"] == "forbidden"
    r = await desk.status("client", tid, "sleeping")
    assert r.status_code == 400 and r.json()["error"]["code"] == "bad_request"
    assert (await desk.status("outsider", tid, "resolved")).status_code == 403
    r = await desk.call("client", "POST", f"/api/tickets/{tid}/reopen")
    assert r.status_code == 409 and "still open" in r.json()["error"]["message"]
    r = await desk.call("client", "POST", f"/api/tickets/{tid}/rating", json={"score": "good"})
    assert r.status_code == 409 and "once it is resolved" in r.json()["error"]["message"]

    r = await desk.status("client", tid, "resolved")
    assert r.status_code == 200, r.text
    state = await desk.state("client", tid)
    assert state["status"] == "resolved" and state["next_update_at"] is None  # the SLA clock pauses
    assert state["may_reopen"] is True and state["may_rate"] is True
    assert (await desk.status("client", tid, "resolved")).status_code == 409  # solved already
    # Asked once, by e-mail, with one-click links.
    asked = await desk.mails(desk.d.users["client"]["email"], "How did we do?")
    assert len(asked) == 1 and "/rate/" in asked[0].body

    desk.later(days=13)
    r = await desk.call("client", "POST", f"/api/tickets/{tid}/reopen")
    assert r.status_code == 200, r.text
    state = await desk.state("client", tid)
    assert state["status"] == "in_progress"
    assert datetime.fromisoformat(state["next_update_at"]) == desk.clock.at + timedelta(hours=4)  # response target
    kinds = [(e["kind"], e["data"].get("status")) for e in await desk.events("client", tid)]
    assert kinds[-2:] == [("status", "resolved"), ("status", "in_progress")]

    # Staff resolve it again: no second question by e-mail.
    assert (await desk.status("engineer", tid, "resolved")).status_code == 200
    assert len(await desk.mails(desk.d.users["client"]["email"], "How did we do?")) == 1


async def test_too_late_or_closed_offers_a_linked_follow_up(desk: Desk) -> None:
    desk.clock.at = START
    desk.tokens.clear()
    tid = await desk.open("Mail bounces OC-2")
    assert (await desk.status("engineer", tid, "resolved")).status_code == 200
    desk.later(days=14, seconds=1)
    r = await desk.call("client", "POST", f"/api/tickets/{tid}/reopen")
    assert r.status_code == 409
    error = r.json()["error"]
    assert error["code"] == "conflict" and "14 days" in error["message"]
    assert error["follow_up"]["body"] == {"follows_up": tid}
    closed = await desk.open("Closed one OC-2b")
    assert (await desk.status("engineer", closed, "closed")).status_code == 200
    r = await desk.call("client", "POST", f"/api/tickets/{closed}/reopen")
    assert r.status_code == 409 and "closed" in r.json()["error"]["message"]

    new = await desk.open("Mail bounces again OC-2", follows_up=tid)
    assert (await desk.state("client", new))["follows_up"] == {"id": tid, "subject": "Mail bounces OC-2"}
    assert (await desk.state("client", tid))["follow_ups"] == [{"id": new, "subject": "Mail bounces again OC-2"}]
    # Another organisation's ticket cannot be followed up, nor a bad id.
    r = await desk.call("outsider", "POST", "/api/tickets", json={"subject": "x", "body": "y", "follows_up": tid})
    assert r.status_code == 403
    r = await desk.call("client", "POST", "/api/tickets", json={"subject": "x", "body": "y", "follows_up": "abc"})
    assert r.status_code == 400 and r.json()["error"]["code"] == "bad_request"


async def test_rating_changes_for_seven_days_and_staff_see_it(desk: Desk) -> None:
    desk.clock.at = START
    desk.tokens.clear()
    tid = await desk.open("Slow VPN OC-3")
    r = await desk.call("engineer", "POST", f"/api/tickets/{tid}/status", json={"status": "resolved"})
    assert r.status_code == 200
    path = f"/api/tickets/{tid}/rating"
    assert (await desk.call("engineer", "POST", path, json={"score": "good"})).status_code == 403
    assert (await desk.call("outsider", "POST", path, json={"score": "good"})).status_code == 403
    for bad in ({"score": "great"}, {"score": "good", "comment": 5}, {}):
        r = await desk.call("client", "POST", path, json=bad)
        assert r.status_code == 400 and r.json()["error"]["message"], bad
    r = await desk.call("client", "POST", path, json={"score": "good", "comment": "x" * 2001})
    assert r.status_code == 413

    r = await desk.call("client", "POST", path, json={"score": "good", "comment": "Quick!"})
    assert r.status_code == 200 and r.json()["score"] == "good"
    desk.later(days=6)
    r = await desk.call("client2", "POST", path, json={"score": "bad"})  # a colleague changes it: latest counts
    assert r.status_code == 200
    staff = await desk.state("engineer", tid)
    assert staff["rating"]["score"] == "bad" and staff["rating"]["by"]["id"] == desk.d.users["client2"]["id"]
    assert (await desk.state("client", tid))["rating"] is None  # not their rating any more
    assert (await desk.state("client2", tid))["rating"]["score"] == "bad"
    assert "rating" in [e["kind"] for e in await desk.events("engineer", tid)]
    assert "rating" not in [e["kind"] for e in await desk.events("client", tid)]  # staff-visible only
    desk.later(days=1, seconds=1)
    r = await desk.call("client", "POST", path, json={"score": "good"})
    assert r.status_code == 409 and "7 days" in r.json()["error"]["message"]
    db = Database(desk.d.database_url)
    try:
        async with db.read() as s:
            rows = list((await s.execute(select(TicketRating).where(TicketRating.ticket_id == tid))).scalars())
    finally:
        await db.dispose()
    assert [(r.score, r.user_id) for r in rows] == [("bad", desk.d.users["client2"]["id"])]


def _link(body: str, score: str) -> str:
    found = re.search(rf"{score.capitalize()}:\s+http://desk\.test(/rate/\S+)", body)
    assert found, body
    return found.group(1)


async def test_the_emailed_link_confirms_on_a_page(desk: Desk) -> None:
    desk.clock.at = START
    desk.tokens.clear()
    tid = await desk.open("Rate by mail OC-4")
    assert (await desk.status("engineer", tid, "resolved")).status_code == 200
    (mail,) = await desk.mails(desk.d.users["client"]["email"], f"[#{tid}] How did we do?")
    good = _link(mail.body, "good")
    async with httpx.AsyncClient(base_url=desk.url) as scanner:  # a link scanner only GETs
        page = await scanner.get(good)
        assert page.status_code == 200 and "Nothing is recorded until you press the button" in page.text
        assert (await scanner.post(good, data={"comment": "no csrf"})).status_code == 403
    assert (await desk.state("engineer", tid))["rating"] is None
    async with httpx.AsyncClient(base_url=desk.url) as browser:
        page = await browser.get(good)
        csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
        done = await browser.post(good, data={"csrf": csrf, "comment": "Thanks"})
        assert done.status_code == 200 and "Thank you" in done.text
        tampered = good[:-3] + ("AAA" if not good.endswith("AAA") else "BBB")
        page = await browser.get(tampered)
        assert page.status_code == 400 and "not valid" in page.text
        desk.later(days=7, hours=2)
        page = await browser.get(good)
        assert page.status_code == 400 and "expired" in page.text
    rating = (await desk.state("engineer", tid))["rating"]
    assert rating["score"] == "good" and rating["comment"] == "Thanks"


async def test_worker_reminds_resolves_and_closes(desk: Desk) -> None:
    desk.clock.at = START
    desk.tokens.clear()
    waiting = await desk.open("Waiting on you OC-5")
    answered = await desk.open("Client answered OC-5b")
    for tid in (waiting, answered):
        assert (await desk.status("engineer", tid, "waiting_on_client")).status_code == 200
    desk.later(hours=1)
    r = await desk.call("client", "POST", f"/api/tickets/{answered}/attachments", files={"file": ("a.txt", b"hi")})
    assert r.status_code == 201
    email = desk.d.users["client"]["email"]

    out = desk.worker(START + timedelta(days=2, hours=23))
    assert "waiting reminders 0" in out
    out = desk.worker(START + timedelta(days=3, minutes=1))
    assert "waiting reminders 1" in out, out
    assert "waiting reminders 0" in desk.worker(START + timedelta(days=3, minutes=2))  # once
    assert len(await desk.mails(email, f"[#{waiting}] We are waiting for your answer")) == 1
    assert [e["kind"] for e in await desk.events("client", waiting)][-1] == "reminder"

    out = desk.worker(START + timedelta(days=7, minutes=1))
    assert "waiting tickets resolved 1" in out, out
    assert (await desk.state("client", waiting))["status"] == "resolved"
    assert (await desk.state("client", answered))["status"] == "waiting_on_client"  # the ball is with staff
    assert len(await desk.mails(email, f"[#{waiting}] Marked solved")) == 1
    assert len(await desk.mails(email, f"[#{waiting}] How did we do?")) == 1
    last = (await desk.events("client", waiting))[-1]
    assert last["actor"]["role"] == "system" and last["data"]["automatic"] == "resolve"

    assert "tickets closed 0" in desk.worker(START + timedelta(days=13, minutes=59))
    out = desk.worker(START + timedelta(days=14, minutes=2))
    assert "tickets closed 1" in out, out
    assert (await desk.state("client", waiting))["status"] == "closed"
    assert len(await desk.mails(email, f"[#{waiting}] Closed")) == 1
    # Every one of them is part of the ticket's thread and answers to her reply address for it (docs/email.md).
    mails = [m for part in ("We are waiting", "Marked solved", "How did we do?", "Closed")
             for m in await desk.mails(email, f"[#{waiting}] {part}")]
    ids = {m.headers["Message-ID"] for m in mails if m.headers}
    assert len(ids) == len(mails) == 4
    for m in mails:
        assert m.headers and m.headers["In-Reply-To"] == m.headers["References"] == f"<ticket-{waiting}@localhost>"
        assert m.headers["Reply-To"].startswith("support+") and m.headers["Auto-Submitted"] == "auto-generated"
    assert "tickets closed 0" in desk.worker(START + timedelta(days=14, minutes=3))
    await asyncio.sleep(0)
