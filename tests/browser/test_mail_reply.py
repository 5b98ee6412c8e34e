"""An e-mail reply in a real browser: on one machine (MAIL_IN_LMTP, no Redis) the engineer watching the ticket sees
the client's reply come in at once, marked "by e-mail", with the quoted part left out; on a laptop and a phone."""

from __future__ import annotations

import asyncio
import smtplib
from typing import Any

import pytest

from tests.browser.helpers import DESKTOP, PHONE, expect, log_in, message
from tests.conftest import Deployment, LiveServer
from tests.mailin.helpers import MAIL_FROM, corpus, reply_address
from tests.realtime.helpers import open_ticket
from tests.utils import free_port, run_server


@pytest.mark.parametrize("size", ["laptop", "phone"])
async def test_an_email_reply_shows_live_marked_by_email(browser: Any, sqlite_deployment: Deployment,
                                                         size: str) -> None:
    d = sqlite_deployment
    port = free_port()
    async with run_server(d.env(MAIL_FROM=MAIL_FROM, MAIL_IN_LMTP=f"127.0.0.1:{port}")) as srv:
        srv.deployment = d  # type: ignore[attr-defined]
        site = LiveServer(srv.url, {k: (v["email"], v["password"]) for k, v in d.users.items()}, srv, d)
        tid = await open_ticket(srv, d, f"Badge printer ({size})")
        engineer = await log_in(browser, site, "engineer", DESKTOP if size == "laptop" else PHONE)
        try:
            await engineer.open_ticket(srv.url, tid)
            alice = d.users["client"]
            to = reply_address(d, tid, "client")
            raw = corpus("outlook.eml", tid, alice["email"], to, f"browser-{size}")

            def deliver() -> dict[str, tuple[int, bytes]]:
                with smtplib.LMTP("127.0.0.1", port, timeout=30) as lmtp:
                    return lmtp.sendmail(alice["email"], [to], raw)  # type: ignore[return-value]

            assert await asyncio.to_thread(deliver) == {}
            reply = message(engineer.page, "OUTLOOK-NEW")
            await expect(reply).to_have_count(1)
            await expect(reply.locator(".msg-source")).to_have_text("by e-mail")
            await expect(reply).not_to_contain_text("QUOTED-OLD")
            await engineer.shot(f"mail-reply-{size}")
            engineer.assert_clean()
        finally:
            await engineer.context.close()
