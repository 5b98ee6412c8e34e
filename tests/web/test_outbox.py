"""Secrets stay secret, also from admins: with SMTP the outbox says that a sign-in, PIN or transfer link went, and
to whom, never the link; without SMTP (the demo) it shows them, under a banner that says why."""

from __future__ import annotations

import asyncio
import html
import re
import secrets
import time
from collections.abc import AsyncIterator

import httpx
import pytest

from tests.conftest import PASSWORD, Deployment, _deployment
from tests.smtp import Inbox, body_of, smtp_server
from tests.utils import csrf_of, free_port, new_user, run_server, signed_in
from tests.web.transfer_helpers import answers, file_transfer, visitor


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
async def own(request: pytest.FixtureRequest) -> AsyncIterator[Deployment]:
    async for d in _deployment(request.param):
        yield d


async def link_mailed(inbox: Inbox, to: str, pattern: str) -> str:
    """The link of `pattern` in the mail the SMTP server received for `to`."""
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        for mail in inbox.to(to):
            found = re.search(pattern, body_of(mail))
            if found:
                return found.group(0)
        await asyncio.sleep(0.05)
    raise AssertionError(f"no mail to {to} with {pattern}")


async def test_the_outbox_hides_links_from_admins_when_mail_is_delivered(own: Deployment) -> None:
    client = await new_user(own, "client", org=f"Dental {secrets.token_hex(3)}")
    admin = await new_user(own, "admin")
    given = answers()
    partner = given[1]["contact_email"]  # the client contact of the transfer: its first party link
    inbox, port = Inbox(), free_port()
    with smtp_server(inbox, port):
        async with run_server(own.env(SMTP_URL=f"smtp://127.0.0.1:{port}")) as srv:
            async with httpx.AsyncClient(base_url=srv.url) as http:
                page = await http.get("/login/link")
                assert (await http.post("/login/link", data={"email": client, "csrf": csrf_of(page.text)})) \
                    .status_code == 200
                page = await http.get("/pin")
                assert (await http.post("/pin", data={"email": client, "csrf": csrf_of(page.text)})).status_code == 200
            async with visitor(srv.url) as guest:
                await file_transfer(guest, given)
            links = [await link_mailed(inbox, client, r"http://\S+/login/link/\S+"),
                     await link_mailed(inbox, client, r"http://\S+/pin/set/\S+"),
                     await link_mailed(inbox, partner, r"http://\S+/transfer/\d+/p/\S+")]
            async with signed_in(srv, admin, PASSWORD) as http:
                shown = html.unescape((await http.get("/outbox")).text)
    items = shown.split('<li class="feedback-item outbox-item">')[1:]
    for link in links:
        token = link.rsplit("/", 1)[1]
        assert token not in shown, link
    assert 'id="outbox-secrets-shown"' not in shown
    for to, words in ((client, "a sign-in link"), (client, "a link to set a PIN"), (partner, "a personal transfer link")):
        assert any(f"<code>{to}</code>" in item and f"(contains {words}: hidden)" in item for item in items), words
    assert "Set a new support PIN" in shown and "sent" in shown  # whom, what and that it went are still shown

    # The same messages on a server that delivers no mail: shown in full, under the banner that says why.
    async with run_server(own.env()) as demo, signed_in(demo, admin, PASSWORD) as http:
        full = html.unescape((await http.get("/outbox")).text)
    assert 'id="outbox-secrets-shown"' in full and "Mail is not being delivered" in full
    assert all(link.rsplit("/", 1)[1] in full for link in links)
