"""E-mail in by LMTP, end to end: a real server, `livesupport mail-in` (aiosmtpd) and Redis between them, a
WebSocket client on the ticket; on SQLite and on PostgreSQL."""

from __future__ import annotations

import asyncio
import secrets
import smtplib
from collections.abc import AsyncIterator

import pytest

from tests.conftest import Deployment
from tests.mailin.helpers import MailDesk, corpus, mail_desk, reply_address
from tests.realtime.helpers import all_events, connected, open_ticket


@pytest.fixture(scope="module")
async def desk(deployment: Deployment, redis_url: tuple[str, str]) -> AsyncIterator[MailDesk]:
    async with mail_desk(deployment, redis_url) as m:
        yield m


def n() -> str:
    return secrets.token_hex(4)


async def deliver(desk: MailDesk, raw: bytes, sender: str, *to: str) -> dict:
    return await asyncio.to_thread(desk.deliver, raw, sender, *to)


@pytest.mark.parametrize("name", ["gmail.eml", "outlook.eml", "outlook_html_only.eml", "apple_mail.eml",
                                  "thunderbird.eml", "iso_8859_1.eml", "shift_jis.eml"])
async def test_a_reply_appears_on_the_ticket_at_once_as_its_sender(desk: MailDesk, name: str) -> None:
    tid = await open_ticket(desk.server, desk.d, f"Printer jams {name}")
    alice = desk.d.users["client"]
    to = reply_address(desk.d, tid, "client")
    raw = corpus(name, tid, alice["email"], to, n())
    async with connected(desk.server, desk.d, "engineer") as dana:
        await dana.join(f"ticket:{tid}")
        assert await deliver(desk, raw, alice["email"], to) == {}  # 250 for the one recipient
        ev = await dana.expect(type="event", kind="chat")
    assert ev["actor"]["id"] == alice["id"] and ev["data"]["visibility"] == "public"
    assert ev["data"]["source"] == "email" and "-NEW" in ev["data"]["body"]
    assert "QUOTED-OLD" not in ev["data"]["body"]  # the quote stayed in the mail
    files = [a["name"] for a in ev["data"].get("attachments", [])]
    assert files == {"apple_mail.eml": ["IMG_0412.png"], "thunderbird.eml": ["status page.txt"]}.get(name, [])


async def test_a_reply_restarts_a_paused_clock_as_a_client_message_does(desk: MailDesk) -> None:
    tid = await open_ticket(desk.server, desk.d, "Waiting on you")
    alice = desk.d.users["client"]
    to = reply_address(desk.d, tid, "client")
    async with connected(desk.server, desk.d, "engineer") as dana:
        await dana.join(f"ticket:{tid}")
        reply = await dana.request({"type": "chat", "topic": f"ticket:{tid}", "body": "Does it work now?",
                                    "status": "waiting_on_client"})
        assert reply["ok"], reply
        await dana.expect(type="event", kind="status")
        await deliver(desk, corpus("gmail.eml", tid, alice["email"], to, n()), alice["email"], to)
        ev = await dana.expect(type="event", kind="chat", match=lambda f: f.get("data", {}).get("source") == "email")
    assert ev["data"]["next_update_at"] and ev["data"]["next_update_source"] == "sla"


async def test_the_same_message_twice_makes_one_event(desk: MailDesk) -> None:
    tid = await open_ticket(desk.server, desk.d, "Twice")
    alice = desk.d.users["client"]
    to = reply_address(desk.d, tid, "client")
    raw = corpus("gmail.eml", tid, alice["email"], to, n())
    answers = await asyncio.gather(*(deliver(desk, raw, alice["email"], to) for _ in range(3)))  # retried, raced
    assert answers == [{}, {}, {}]
    await deliver(desk, raw, alice["email"], to)
    chats = [e for e in await all_events(desk.server, desk.d, "engineer", tid) if e["data"].get("source") == "email"]
    assert len(chats) == 1


@pytest.mark.parametrize("header", ["Auto-Submitted: auto-replied", "Precedence: bulk", "X-Autoreply: yes"])
async def test_automatic_replies_make_no_message(desk: MailDesk, header: str) -> None:
    tid = await open_ticket(desk.server, desk.d, "Out of office")
    alice = desk.d.users["client"]
    to = reply_address(desk.d, tid, "client")
    mid = n()
    raw = corpus("gmail.eml", tid, alice["email"], to, mid).replace(b"MIME-Version", f"{header}\r\nMIME-Version".encode())
    assert await deliver(desk, raw, alice["email"], to) == {}  # taken (so it is not retried), and dropped
    row = await desk.inbound(f"<{mid}.CAGm1x=Qa9Zt3@mail.gmail.com>")
    assert row is not None and row.status == "dropped"
    assert [e for e in await all_events(desk.server, desk.d, "engineer", tid) if e["data"].get("source")] == []


async def test_our_own_mail_coming_back_makes_no_message(desk: MailDesk) -> None:
    tid = await open_ticket(desk.server, desk.d, "Echo")
    to = reply_address(desk.d, tid, "client")
    mid = n()
    assert await deliver(desk, corpus("gmail.eml", tid, "support@support.test", to, mid), "", to) == {}
    row = await desk.inbound(f"<{mid}.CAGm1x=Qa9Zt3@mail.gmail.com>")
    assert row is not None and (row.status, row.reason) == ("dropped", "own_address")


async def test_nobody_writes_as_someone_else(desk: MailDesk) -> None:
    tid = await open_ticket(desk.server, desk.d, "Forged")
    carol = desk.d.users["outsider"]["email"]  # another organisation, holding Alice's reply address
    to = reply_address(desk.d, tid, "client")
    mid = n()
    assert await deliver(desk, corpus("gmail.eml", tid, carol, to, mid), carol, to) == {}
    row = await desk.inbound(f"<{mid}.CAGm1x=Qa9Zt3@mail.gmail.com>")
    assert row is not None and (row.status, row.reason) == ("held", "not_allowed")
    stranger = f"x{mid}@elsewhere.test"
    mid2 = n()
    await deliver(desk, corpus("gmail.eml", tid, stranger, to, mid2), stranger, to)
    row = await desk.inbound(f"<{mid2}.CAGm1x=Qa9Zt3@mail.gmail.com>")
    assert row is not None and (row.status, row.reason) == ("held", "unknown_sender")
    forged = corpus("gmail.eml", tid, desk.d.users["client"]["email"], to, n()).replace(b"dmarc=pass", b"dmarc=fail")
    await deliver(desk, forged, "x@evil.test", to)
    assert [e for e in await all_events(desk.server, desk.d, "engineer", tid) if e["data"].get("source")] == []


async def test_a_colleague_may_answer_through_the_thread(desk: MailDesk) -> None:
    tid = await open_ticket(desk.server, desk.d, "Colleague")
    bob = desk.d.users["client2"]  # same organisation: may see the ticket
    raw = corpus("outlook.eml", tid, bob["email"], "support@support.test", n())  # matched by References
    assert await deliver(desk, raw, bob["email"], "support@support.test") == {}
    (ev,) = [e for e in await all_events(desk.server, desk.d, "engineer", tid) if e["data"].get("source")]
    assert ev["actor"]["id"] == bob["id"]


async def test_new_mail_from_a_contact_opens_a_ticket(desk: MailDesk) -> None:
    alice = desk.d.users["client"]
    mid = n()
    raw = (f"From: Alice Client <{alice['email']}>\r\nTo: Support <support@support.test>\r\n"
           f"Subject: =?utf-8?q?Scanner_won=E2=80=99t_start?=\r\nMessage-ID: <{mid}@acme.test>\r\n"
           "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nThe scanner shows E42.\r\n").encode()
    assert await deliver(desk, raw, alice["email"], "support@support.test") == {}
    row = await desk.inbound(f"<{mid}@acme.test>")
    assert row is not None and row.status == "opened" and row.ticket_id is not None
    (ev,) = await all_events(desk.server, desk.d, "client", row.ticket_id)
    assert ev["data"]["body"] == "The scanner shows E42." and ev["data"]["source"] == "email"


async def test_other_domains_are_refused_and_a_bad_file_is_left_out(desk: MailDesk) -> None:
    tid = await open_ticket(desk.server, desk.d, "Files")
    alice = desk.d.users["client"]
    to = reply_address(desk.d, tid, "client")
    answers = await deliver(desk, corpus("gmail.eml", tid, alice["email"], to, n()), alice["email"], to,
                            "someone@elsewhere.test")
    assert answers["someone@elsewhere.test"][0] == 550
    raw = corpus("thunderbird.eml", tid, alice["email"], to, n()).replace(b'"status page.txt"', b'"update.exe"')
    raw = raw.replace(b"UHJpbnRlciBzdGF0dXM6IFJFQURZClBhZ2VzIHByaW50ZWQ6IDEwNDIzCg==", b"TVqQAAMAAAAEAAAA//8AALgAAAAA")
    assert await deliver(desk, raw, alice["email"], to) == {}
    events = [e for e in await all_events(desk.server, desk.d, "engineer", tid) if e["data"].get("source")]
    last = events[-1]["data"]
    assert "attachments" not in last and "(not attached: update.exe:" in last["body"]


async def test_a_sender_past_their_rate_is_asked_to_try_later(deployment: Deployment,
                                                             redis_url: tuple[str, str]) -> None:
    async with mail_desk(deployment, redis_url, MAIL_IN_BURST="2", MAIL_IN_RATE="0.001") as limited:
        tid = await open_ticket(limited.server, limited.d, "Chatty sender")
        alice = limited.d.users["client"]
        to = reply_address(limited.d, tid, "client")
        mails = [corpus("gmail.eml", tid, alice["email"], to, n()) for _ in range(3)]
        assert await deliver(limited, mails[0], alice["email"], to) == {}
        assert await deliver(limited, mails[1], alice["email"], to) == {}
        with pytest.raises(smtplib.SMTPDataError) as refused:  # 451: the sending server keeps it, tries later
            await deliver(limited, mails[2], alice["email"], to)
        assert refused.value.smtp_code == 451
        chats = [e for e in await all_events(limited.server, limited.d, "engineer", tid) if e["data"].get("source")]
        assert len(chats) == 2


def lmtp_conversation(port: int, sender: str, recipients: list[str], raw: bytes) -> list[str]:
    """LMTP by hand (smtplib reads one answer after DATA; LMTP gives one per accepted recipient): the answers."""
    import socket

    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        stream = sock.makefile("rwb")

        def answer() -> list[str]:
            lines = []
            while True:
                line = stream.readline().decode().rstrip("\r\n")
                lines.append(line)
                if len(line) < 4 or line[3] != "-":
                    return lines

        def say(command: str) -> list[str]:
            stream.write(command.encode() + b"\r\n")
            stream.flush()
            return answer()

        answer()  # the greeting
        say("LHLO test.example")
        say(f"MAIL FROM:<{sender}>")
        accepted = [r for r in recipients if say(f"RCPT TO:<{r}>")[-1].startswith("250")]
        assert say("DATA")[-1].startswith("354")
        body = raw.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
        body = b"\r\n".join(b"." + line if line.startswith(b".") else line for line in body.split(b"\r\n"))
        stream.write(body + b"\r\n.\r\n")
        stream.flush()
        answers = [answer()[-1] for _ in accepted]
        say("QUIT")
        return answers


async def test_one_answer_for_each_accepted_recipient(desk: MailDesk) -> None:
    """Two of the desk's addresses and one elsewhere: the stranger refused at RCPT, then one answer per accepted
    recipient after the message, which is posted once."""
    tid = await open_ticket(desk.server, desk.d, "Two recipients")
    alice = desk.d.users["client"]
    mine, colleague = reply_address(desk.d, tid, "client"), reply_address(desk.d, tid, "client2")
    raw = corpus("gmail.eml", tid, alice["email"], mine, n())
    answers = await asyncio.to_thread(lmtp_conversation, desk.lmtp_port, alice["email"],
                                      [mine, "someone@elsewhere.test", colleague], raw)
    assert len(answers) == 2 and all(a.startswith("250") for a in answers), answers
    chats = [e for e in await all_events(desk.server, desk.d, "engineer", tid) if e["data"].get("source")]
    assert len(chats) == 1


async def test_staff_revoke_a_reply_address_and_mail_to_it_is_held(desk: MailDesk) -> None:
    import httpx

    from tests.conftest import token_for

    tid = await open_ticket(desk.server, desk.d, "Leaked reply address")
    alice = desk.d.users["client"]
    old = reply_address(desk.d, tid, "client")

    async def revoke(who: str, body: dict[str, object], ticket: int = tid) -> httpx.Response:
        token = await token_for(desk.server, desk.d, who)
        async with httpx.AsyncClient(base_url=desk.server.url) as http:
            return await http.post(f"/api/tickets/{ticket}/reply-address/revoke", json=body,
                                   headers={"Authorization": f"Bearer {token}"})

    refused = await revoke("client", {"user_id": alice["id"]})
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "forbidden"
    for body, status in (({"user_id": "x"}, 400), ({"user_id": 99999999}, 404), ({}, 400)):
        assert (await revoke("engineer", body)).status_code == status, body
    assert (await revoke("engineer", {"user_id": alice["id"]}, ticket=99999999)).status_code == 404
    done = await revoke("engineer", {"user_id": alice["id"]})
    assert done.status_code == 200 and done.json() == {"ticket_id": tid, "user_id": alice["id"], "revoked": True}

    message = n()
    assert await deliver(desk, corpus("gmail.eml", tid, alice["email"], old, message), alice["email"], old) == {}
    row = await desk.inbound(f"<{message}.CAGm1x=Qa9Zt3@mail.gmail.com>")
    assert row is not None and (row.status, row.reason) == ("held", "stale_token")
    new = reply_address(desk.d, tid, "client", generation=1)  # what her next e-mail about the ticket carries
    message = n()
    assert await deliver(desk, corpus("gmail.eml", tid, alice["email"], new, message), alice["email"], new) == {}
    row = await desk.inbound(f"<{message}.CAGm1x=Qa9Zt3@mail.gmail.com>")
    assert row is not None and row.status == "posted"
