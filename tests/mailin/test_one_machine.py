"""On one machine (no Redis, the in-process worker), MAIL_IN_LMTP makes `serve` take mail by LMTP itself, so a
reply shows on an open ticket page at once; a bad MAIL_IN_LMTP stops the start with a clear message."""

from __future__ import annotations

import asyncio
import smtplib

import pytest

from livesupport import settings as config
from tests.conftest import Deployment
from tests.mailin.helpers import MAIL_FROM, corpus, reply_address
from tests.realtime.helpers import connected, open_ticket
from tests.utils import free_port, run_server


async def test_serve_takes_mail_itself_and_the_reply_is_live(sqlite_deployment: Deployment) -> None:
    d = sqlite_deployment
    port = free_port()
    env = d.env(MAIL_FROM=MAIL_FROM, MAIL_IN_LMTP=f"127.0.0.1:{port}", CHAT_RATE="0")
    assert not env["REDIS_URL"]  # the in-process broker
    async with run_server(env) as srv:
        srv.deployment = d  # type: ignore[attr-defined]
        tid = await open_ticket(srv, d, "Reply by mail, one machine")
        alice = d.users["client"]
        to = reply_address(d, tid, "client")
        raw = corpus("gmail.eml", tid, alice["email"], to, "one-machine")

        def deliver() -> dict[str, tuple[int, bytes]]:
            with smtplib.LMTP("127.0.0.1", port, timeout=30) as lmtp:
                return lmtp.sendmail(alice["email"], [to], raw)  # type: ignore[return-value]

        async with connected(srv, d, "engineer") as dana:
            await dana.join(f"ticket:{tid}")
            assert await asyncio.to_thread(deliver) == {}
            ev = await dana.expect(type="event", kind="chat")
        assert ev["actor"]["id"] == alice["id"] and ev["data"]["source"] == "email"


@pytest.mark.parametrize("value", ["8024", "127.0.0.1:", "127.0.0.1:70000", "127.0.0.1:８０", "host:1_0"])
def test_a_bad_mail_in_lmtp_is_refused_plainly(value: str) -> None:
    with pytest.raises(ValueError, match="MAIL_IN_LMTP is HOST:PORT"):
        config.load({"MAIL_IN_LMTP": value})
