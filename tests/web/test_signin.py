"""Signing in for real: sign-in links, two-factor codes, the verification API, domain administrators, password
changes and the e-mails they send, through a real server and a real SMTP server (aiosmtpd) on 127.0.0.1."""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from email.message import Message

import httpx
import pyotp
import pytest
from aiosmtpd.controller import Controller
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from tests.conftest import PASSWORD, Deployment, _deployment, new_person
from tests.smtp import Inbox
from tests.utils import QUIET, Server, csrf_of, free_port, run_server


@dataclass
class Desk:
    server: Server
    d: Deployment
    inbox: Inbox

    def email(self, who: str) -> str:
        return str(self.d.users[who]["email"])


@pytest.fixture(scope="module")
async def desk() -> AsyncIterator[Desk]:
    """A deployment of its own (its throttles and accounts change here), with mail going to a local SMTP server."""
    inbox = Inbox()
    port = free_port()
    smtp = Controller(inbox, hostname="127.0.0.1", port=port)
    smtp.start()
    try:
        async for d in _deployment("sqlite"):
            async with run_server(d.env(SMTP_URL=f"smtp://127.0.0.1:{port}")) as srv:
                yield Desk(srv, d, inbox)
    finally:
        smtp.stop()



def link_in(mail: Message) -> str:
    body = mail.get_payload(decode=True).decode()  # type: ignore[union-attr]
    match = re.search(r"(http://\S+/login/link/\S+)", body)
    assert match, body
    return match.group(1)


@asynccontextmanager
async def browser(desk: Desk) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=desk.server.url) as http:
        yield http


async def password_step(http: httpx.AsyncClient, login: str, password: str = PASSWORD) -> httpx.Response:
    page = await http.get("/login")
    return await http.post("/login", data={"email": login, "password": password, "csrf": csrf_of(page.text),
                                           "next": "/tickets"})


async def test_a_sign_in_link_works_once(desk: Desk) -> None:
    email = desk.email("client2")
    async with browser(desk) as http:
        page = await http.get("/login/link")
        r = await http.post("/login/link", data={"email": email, "csrf": csrf_of(page.text)})
        assert r.status_code == 200 and "Check your e-mail" in r.text
        unknown = await http.post("/login/link", data={"email": "nobody@acme.test", "csrf": csrf_of(page.text)})
        # The same answer for an address without an account (apart from the address itself).
        assert unknown.status_code == 200 and unknown.text.replace("nobody@acme.test", email) == r.text
    link = link_in(await desk.inbox.wait_for(email, "sign-in link"))
    await asyncio.sleep(QUIET)  # the known address's mail came: allow the other as long again, then none is there
    assert desk.inbox.to("nobody@acme.test") == []
    path = link.split(desk.server.url, 1)[1]
    async with browser(desk) as http:
        landing = await http.get(path)  # opening the link (or a mail scanner doing so) does not use it up
        assert landing.status_code == 200 and 'id="link-open-submit"' in landing.text
        used = await http.post(path, data={"csrf": csrf_of(landing.text)})
        assert used.status_code == 303 and used.headers["location"] == "/tickets"
        assert (await http.get("/tickets")).status_code == 200
    async with browser(desk) as http:  # a second click, from anywhere, is refused
        landing = await http.get(path)
        again = await http.post(path, data={"csrf": csrf_of(landing.text)})
        assert again.status_code == 401 and "expired or was already used" in again.text
        forged = await http.post("/login/link/not-a-real-token", data={"csrf": csrf_of(landing.text)})
        assert forged.status_code == 401


async def test_sign_in_links_are_throttled(desk: Desk) -> None:
    email = desk.email(await new_person(desk.d, org="Globex"))  # its links are throttled for an hour after
    async with browser(desk) as http:
        page = await http.get("/login/link")
        statuses = [(await http.post("/login/link", data={"email": email, "csrf": csrf_of(page.text)})).status_code
                    for _ in range(6)]
    assert statuses[:5] == [200] * 5 and statuses[5] == 429
    for _ in range(5):
        await desk.inbox.wait_for(email, "sign-in link")


async def test_guessing_a_password_locks_it_and_tells_the_owner(desk: Desk) -> None:
    email = desk.email(await new_person(desk.d, role="staff", org=None, tier=2))  # locked for 15 minutes after
    async with browser(desk) as http:
        codes = [(await password_step(http, email, f"wrong guess {i}")).status_code for i in range(10)]
        assert codes == [401] * 10
        locked = await password_step(http, email)  # even the right password waits now
        assert locked.status_code == 429 and "Try again in" in locked.text
    warning = await desk.inbox.wait_for(email, "trying to sign in")
    assert "10 times" in warning.get_payload(decode=True).decode()  # type: ignore[union-attr]


async def test_two_factor_from_enrolment_to_reuse(desk: Desk) -> None:
    email = desk.email(await new_person(desk.d))  # two-factor stays on: an account of the test's own
    async with browser(desk) as http:
        assert (await password_step(http, email)).status_code == 303
        account = await http.get("/account")
        started = await http.post("/account/2fa/start", data={"csrf": csrf_of(account.text)})
        secret = re.search(r'id="totp-secret">([A-Z2-7]+)<', started.text).group(1)  # type: ignore[union-attr]
        assert "<svg" in started.text  # the QR code to scan
        wrong = await http.post("/account/2fa/confirm", data={"csrf": csrf_of(started.text), "code": "000000"})
        assert wrong.status_code == 401 and "not right" in wrong.text
        totp = pyotp.TOTP(secret)
        done = await http.post("/account/2fa/confirm", data={"csrf": csrf_of(started.text), "code": totp.now()})
        codes = re.findall(r"<code>([0-9a-f]{5}-[0-9a-f]{5})</code>", done.text)
        assert done.status_code == 200 and len(codes) == 10

    # The password alone is no longer enough, over the API or in the browser.
    async with browser(desk) as http:
        r = await http.post("/api/tokens", json={"email": email, "password": PASSWORD})
        assert r.status_code == 401 and r.json()["error"]["code"] == "otp_required"
        step = await password_step(http, email)
        assert step.status_code == 303 and step.headers["location"] == "/login/code"
        assert (await http.get("/tickets")).status_code == 303  # not signed in yet
        form = await http.get("/login/code")
        next_code = totp.at(time.time() + 30)  # the code of the next step: the current one was used to confirm
        ok = await http.post("/login/code", data={"csrf": csrf_of(form.text), "code": next_code})
        assert ok.status_code == 303 and (await http.get("/tickets")).status_code == 200
    async with browser(desk) as http:  # the same code again: refused, it was used
        r = await http.post("/api/tokens", json={"email": email, "password": PASSWORD, "otp": next_code})
        assert r.status_code == 401 and "already used" in r.json()["error"]["message"]
        # A recovery code works once.
        r = await http.post("/api/tokens", json={"email": email, "password": PASSWORD, "otp": codes[0]})
        assert r.status_code == 201
        r = await http.post("/api/tokens", json={"email": email, "password": PASSWORD, "otp": codes[0]})
        assert r.status_code == 401


async def test_other_applications_verify_codes_with_a_key(desk: Desk) -> None:
    email = desk.email(await new_person(desk.d, role="staff", org=None, tier=3))
    async with browser(desk) as http:  # Sam turns 2FA on
        assert (await password_step(http, email)).status_code == 303
        account = await http.get("/account")
        started = await http.post("/account/2fa/start", data={"csrf": csrf_of(account.text)})
        secret = re.search(r'id="totp-secret">([A-Z2-7]+)<', started.text).group(1)  # type: ignore[union-attr]
        totp = pyotp.TOTP(secret)
        await http.post("/account/2fa/confirm", data={"csrf": csrf_of(started.text), "code": totp.now()})
    async with browser(desk) as http:  # the admin makes a key; others may not
        assert (await password_step(http, desk.email("admin"))).status_code == 303
        page = await http.get("/admin/app-keys")
        made = await http.post("/admin/app-keys", data={"csrf": csrf_of(page.text), "name": "VPN gateway"})
        key = re.search(r'id="new-key">(lsk_[^<]+)<', made.text).group(1)  # type: ignore[union-attr]
    async with browser(desk) as http:
        assert (await password_step(http, desk.email("client2"))).status_code == 303
        assert (await http.get("/admin/app-keys")).status_code == 404

    async def verify(code: str, key: str = key, who: str = email) -> httpx.Response:
        async with browser(desk) as http:
            return await http.post("/api/otp/verify", json={"email": who, "code": code},
                                   headers={"Authorization": f"Bearer {key}"})

    code = totp.at(time.time() + 30)
    good = await verify(code)
    assert good.status_code == 200 and good.json()["valid"] is True and good.json()["user"]["email"] == email
    assert (await verify(code)).json() == {"valid": False}  # used once already
    assert (await verify(code, who="nobody@support.test")).json() == {"valid": False}
    bad_key = await verify(code, key="lsk_not-a-key")
    assert bad_key.status_code == 401 and bad_key.json()["error"]["code"] == "unauthorized"
    assert (await verify("12345")).status_code == 400  # not a code at all: refused, and not counted
    # The reused code was the first failure for this address; four more make five, and the sixth try is locked
    # out, whatever the code.
    answers = [(await verify("000000")).status_code for _ in range(5)]
    assert answers == [200, 200, 200, 200, 429]
    locked = await verify(totp.at(time.time() + 60))
    assert locked.status_code == 429 and "Try again in" in locked.json()["error"]["message"]


async def test_a_domain_administrator_manages_their_own_organisation(desk: Desk) -> None:
    leaver = await new_person(desk.d)  # the contact removed below: one of the test's own
    async with browser(desk) as http:
        signed = await password_step(http, "acme.test")  # the bare domain
        assert signed.status_code == 303
        page = await http.get("/org/contacts")
        assert page.status_code == 200 and desk.email("client") in page.text
        assert desk.email("outsider") not in page.text
        added = await http.post("/org/contacts", data={"csrf": csrf_of(page.text), "name": "Jamie New",
                                                       "email": "jamie@acme.test"})
        assert added.status_code == 200 and "jamie@acme.test was added" in added.text
        dup = await http.post("/org/contacts", data={"csrf": csrf_of(page.text), "name": "Jamie",
                                                     "email": "jamie@acme.test"})
        assert dup.status_code == 409 and "already a contact" in dup.text
        no_csrf = await http.post("/org/contacts", data={"name": "X", "email": "x@acme.test"})
        assert no_csrf.status_code == 403
    welcome = await desk.inbox.wait_for("jamie@acme.test", "support desk")
    assert "/login/link/" in welcome.get_payload(decode=True).decode()  # type: ignore[union-attr]

    # The domain admin sees the organisation's tickets, never another's: over HTTP and over the socket.
    async with browser(desk) as http:
        token = (await http.post("/api/tokens", json={"email": "acme.test", "password": PASSWORD})).json()["token"]
        outsider = (await http.post("/api/tokens", json={"email": desk.email("outsider"),
                                                         "password": PASSWORD})).json()["token"]
        theirs = await http.post("/api/tickets", json={"subject": "Globex only", "body": "x"},
                                 headers={"Authorization": f"Bearer {outsider}"})
        gid = theirs.json()["id"]
        r = await http.get(f"/api/tickets/{gid}", headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 403
    async with connect(f"{desk.server.ws_url}?token={token}") as ws:
        await ws.send(json.dumps({"type": "join", "topic": f"ticket:{gid}", "ref": "j"}))
        assert '"forbidden"' in await ws.recv()
        await ws.send(json.dumps({"type": "join", "topic": f"org:{desk.d.users['outsider']['org_id']}", "ref": "o"}))
        assert '"forbidden"' in await ws.recv()

    # Removing a contact ends their sessions at once.
    async with browser(desk) as http:
        bob = (await http.post("/api/tokens", json={"email": desk.email(leaver),
                                                    "password": PASSWORD})).json()["token"]
    async with connect(f"{desk.server.ws_url}?token={bob}") as bob_ws:
        async with browser(desk) as http:
            await password_step(http, "acme.test")
            page = await http.get("/org/contacts")
            removed = await http.post("/org/contacts", data={"csrf": csrf_of(page.text),
                                                             "remove": str(desk.d.users[leaver]["id"])})
            assert removed.status_code == 303
            foreign = await http.post("/org/contacts", data={"csrf": csrf_of(page.text),
                                                             "remove": str(desk.d.users["outsider"]["id"])})
            assert foreign.status_code == 404
        with pytest.raises(ConnectionClosed) as closed:
            await asyncio.wait_for(bob_ws.recv(), 10)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4401
    async with browser(desk) as http:
        assert (await http.get("/api/tickets", headers={"Authorization": f"Bearer {bob}"})).status_code == 401
        assert (await password_step(http, desk.email(leaver))).status_code == 401




async def test_common_and_combined_passwords(desk: Desk) -> None:
    email = desk.email(await new_person(desk.d))  # the password changes for good: an account of the test's own
    composed = "Cafe\u0301 au lait, s'il vous plaît 😀"  # e + combining accent, typed on one keyboard
    precomposed = "Café au lait, s'il vous plaît 😀"  # é as one character, typed on another
    async with browser(desk) as http:
        api = (await http.post("/api/tokens", json={"email": email, "password": PASSWORD})).json()["token"]
        async with connect(f"{desk.server.ws_url}?token={api}") as ws:
            assert (await password_step(http, email)).status_code == 303
            page = await http.get("/account")
            common = await http.post("/account/password", data={"csrf": csrf_of(page.text), "current": PASSWORD,
                                                                "new": "password123"})
            assert common.status_code == 400 and "most common" in common.text
            wrong = await http.post("/account/password", data={"csrf": csrf_of(page.text), "current": "nope",
                                                               "new": composed})
            assert wrong.status_code == 401
            done = await http.post("/account/password", data={"csrf": csrf_of(page.text), "current": PASSWORD,
                                                              "new": composed})
            assert done.status_code == 303 and done.headers["location"] == "/account?saved=password"
            assert (await http.get("/account")).status_code == 200  # this browser got a fresh session
            with pytest.raises(ConnectionClosed) as closed:  # every other session and token ended
                await asyncio.wait_for(ws.recv(), 10)
            assert closed.value.rcvd is not None and closed.value.rcvd.code == 4401
    await desk.inbox.wait_for(email, "password was changed")
    async with browser(desk) as http:
        assert (await password_step(http, email, precomposed)).status_code == 303  # NFC: the same password
    async with browser(desk) as http:
        assert (await password_step(http, email, PASSWORD)).status_code == 401
