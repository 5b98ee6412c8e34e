"""Mail to review: held e-mail listed for staff only, decided once (open for a new contact, post as the sender,
discard), over the API on SQLite and PostgreSQL (the page: tests/browser/test_mail_review.py)."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator

import httpx
import pytest

from tests.conftest import Deployment, token_for
from tests.mailin.helpers import MailDesk, corpus, mail_desk, reply_address
from tests.realtime.helpers import all_events, open_ticket


@pytest.fixture(scope="module")
async def desk(deployment: Deployment, redis_url: tuple[str, str]) -> AsyncIterator[MailDesk]:
    async with mail_desk(deployment, redis_url) as m:
        yield m


async def held_from(desk: MailDesk, sender: str, tid: int) -> int:
    """A stranger's reply, held; its id on the review list."""
    mid = secrets.token_hex(4)
    to = reply_address(desk.d, tid, "client")
    await asyncio.to_thread(desk.deliver, corpus("gmail.eml", tid, sender, to, mid), sender, to)
    row = await desk.inbound(f"<{mid}.CAGm1x=Qa9Zt3@mail.gmail.com>")
    assert row is not None and row.status == "held"
    return row.id


async def api(desk: MailDesk, who: str, method: str, path: str, body: dict | None = None) -> httpx.Response:
    token = await token_for(desk.server, desk.d, who)
    async with httpx.AsyncClient(base_url=desk.server.url) as http:
        return await http.request(method, path, json=body, headers={"Authorization": f"Bearer {token}"})


async def test_staff_open_a_stranger_s_mail_as_a_ticket_once(desk: MailDesk) -> None:
    tid = await open_ticket(desk.server, desk.d, "Review: stranger")
    stranger = f"new-{secrets.token_hex(3)}@acme.test"
    mail_id = await held_from(desk, stranger, tid)
    assert (await api(desk, "client", "GET", "/api/mail-review")).status_code == 403  # staff only
    listed = (await api(desk, "engineer", "GET", "/api/mail-review")).json()["mails"]
    (mine,) = [m for m in listed if m["id"] == mail_id]
    assert mine["from"] == stranger and mine["reason"] == "unknown_sender" and "GMAIL-NEW" in mine["body"]
    refused = await api(desk, "engineer", "POST", f"/api/mail-review/{mail_id}/attach", {"ticket_id": tid})
    assert refused.status_code == 400 and refused.json()["error"]["code"] == "bad_request"  # never as someone else
    org = desk.d.users["client"]["org_id"]
    opened = await api(desk, "engineer", "POST", f"/api/mail-review/{mail_id}/open", {"org_id": org})
    assert opened.status_code == 201, opened.text
    new_ticket = opened.json()["ticket_id"]
    (ev,) = await all_events(desk.server, desk.d, "client", new_ticket)  # Acme's contacts see it
    assert ev["data"]["source"] == "email" and ev["actor"]["name"] == "Alice Client"  # the sender's own name
    again = await api(desk, "engineer", "POST", f"/api/mail-review/{mail_id}/discard")
    assert again.status_code == 409  # decided once


async def test_a_held_reply_from_a_contact_is_posted_as_them(desk: MailDesk) -> None:
    tid = await open_ticket(desk.server, desk.d, "Review: revoked address")
    alice = desk.d.users["client"]
    mid = secrets.token_hex(4)
    to = reply_address(desk.d, tid, "client", generation=7)  # not the current generation: a revoked address
    raw = corpus("gmail.eml", tid, alice["email"], to, mid).replace(b"In-Reply-To", b"X-In-Reply-To").replace(
        b"References:", b"X-References:").replace(f"[#{tid}]".encode(), b"")
    await asyncio.to_thread(desk.deliver, raw, alice["email"], to)
    row = await desk.inbound(f"<{mid}.CAGm1x=Qa9Zt3@mail.gmail.com>")
    assert row is not None and (row.status, row.reason) == ("held", "stale_token")
    posted = await api(desk, "engineer", "POST", f"/api/mail-review/{row.id}/attach", {"ticket_id": tid})
    assert posted.status_code == 200, posted.text
    (ev,) = [e for e in await all_events(desk.server, desk.d, "client", tid) if e["data"].get("source")]
    assert ev["actor"]["id"] == alice["id"] and "GMAIL-NEW" in ev["data"]["body"]
    bad = await api(desk, "engineer", "POST", "/api/mail-review/99999999/discard")
    assert bad.status_code == 404
