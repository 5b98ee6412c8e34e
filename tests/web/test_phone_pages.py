"""The phone support pages over plain HTTP against a real server: /pin answering alike for anyone, the single-use
set-PIN link read from the outbox, the PIN card and its button, the console (staff only, No match, an action,
the red lines) and the phone log (Level 3 and admins only)."""

from __future__ import annotations

import asyncio
import html
import re
import secrets

import httpx
import pytest

from tests.conftest import PASSWORD, Deployment
from tests.utils import Server, cli, csrf_of, signed_in

LINK = re.compile(r"http://\S+?/pin/set/[A-Za-z0-9_-]+")


@pytest.fixture
def d(server: Server) -> Deployment:
    return server.deployment  # type: ignore[attr-defined,no-any-return]



async def new_contact(d: Deployment) -> str:
    """A client contact of a new organisation of its own (its PIN and throttles change here)."""
    tag = secrets.token_hex(3)
    email = f"reception@clinic-{tag}.test"
    made = await asyncio.to_thread(cli, d, "user", "add", "--email", email, "--password", PASSWORD,
                                   "--role", "client", "--org", f"Clinic {tag}", "--name", f"Robin {tag}")
    assert made.returncode == 0, made.stderr
    return email


def shown_pin(page: str, element_id: str) -> str:
    match = re.search(rf'id="{element_id}" data-pin="(\d+)"', page)
    assert match, f"no #{element_id} on the page"
    return match.group(1)


async def newest_mail_to(srv: Server, d: Deployment, email: str) -> str | None:
    """The body of the newest e-mail to `email`, as the admins' outbox page shows it (no SMTP in these tests)."""
    async with signed_in(srv, d.users["admin"]["email"]) as admin:
        page = (await admin.get("/outbox")).text
    for item in page.split('<li class="feedback-item outbox-item">')[1:]:  # newest first
        if f"<code>{email}</code>" in item:
            return html.unescape(item)
    return None


async def test_pin_answers_alike_for_known_and_unknown_addresses(server: Server, d: Deployment) -> None:
    known, unknown = await new_contact(d), f"nobody-{secrets.token_hex(3)}@clinic.test"
    async with httpx.AsyncClient(base_url=server.url) as http:
        form = await http.get("/pin")
        assert form.status_code == 200 and 'href="/pin/handout.pdf"' in form.text
        assert 'href="/pin"' in (await http.get("/login")).text  # found from the sign-in page
        csrf = csrf_of(form.text)
        a = await http.post("/pin", data={"email": known, "csrf": csrf})
        b = await http.post("/pin", data={"email": unknown, "csrf": csrf})
        assert a.status_code == b.status_code == 200
        assert "If <strong>" in a.text and "belongs to a contact, we've sent a" in a.text
        assert a.text.replace(known, "ADDRESS") == b.text.replace(unknown, "ADDRESS")
        assert 'href="/pin/handout.pdf"' in a.text  # the handout is offered whatever the answer
        no_csrf = await http.post("/pin", data={"email": known})
        assert no_csrf.status_code == 403 and "expired" in no_csrf.text
    assert await newest_mail_to(server, d, unknown) is None


async def console_accepts(srv: Server, d: Deployment, email: str, pin: str) -> bool:
    """Does the phone console verify `pin` for `email`?"""
    async with signed_in(srv, d.users["phone"]["email"]) as staff:
        page = await staff.get("/support/verify")
        r = await staff.post("/support/verify", data={"csrf": csrf_of(page.text), "email": email, "pin": pin})
    if r.status_code == 303 and r.headers["location"].startswith("/support/verify?v="):
        return True
    assert r.status_code == 200 and "No match" in r.text, r.text
    return False


async def test_the_set_pin_link_shows_a_new_pin_once(server: Server, d: Deployment) -> None:
    email = await new_contact(d)
    async with signed_in(server, email) as contact:
        old = shown_pin((await contact.get("/account")).text, "pin-value")
        assert re.fullmatch(r"\d{6}", old)
        async with httpx.AsyncClient(base_url=server.url) as http:
            page = await http.get("/pin")
            assert (await http.post("/pin", data={"email": email, "csrf": csrf_of(page.text)})).status_code == 200
        mail = await newest_mail_to(server, d, email)
        assert mail is not None and "Set a new support PIN" in mail
        found = LINK.search(mail)
        assert found, mail
        path = found.group(0).split(server.url, 1)[1]
        async with httpx.AsyncClient(base_url=server.url) as http:
            landing = await http.get(path)  # opening it (or a mail scanner doing so) does not use it up
            assert landing.status_code == 200 and 'id="pin-set-submit"' in landing.text
            assert (await http.get(path)).status_code == 200
            used = await http.post(path, data={"csrf": csrf_of(landing.text)})
            assert used.status_code == 200 and used.headers["cache-control"] == "no-store"
            pin = shown_pin(used.text, "new-pin")
            assert re.fullmatch(r"\d{6}", pin)
            again = await http.post(path, data={"csrf": csrf_of(landing.text)})
            assert again.status_code == 401 and "expired or was already used" in again.text
            assert 'href="/pin"' in again.text and pin not in again.text
        # The contact's pages show the new PIN; the old one is gone.
        account = (await contact.get("/account")).text
        assert shown_pin(account, "pin-value") == pin and pin != old
    assert not await console_accepts(server, d, email, old)
    assert await console_accepts(server, d, email, pin)


async def test_a_contact_sees_their_pin_and_gets_a_new_one(server: Server, d: Deployment) -> None:
    email = await new_contact(d)
    async with signed_in(server, email) as http:
        tickets = await http.get("/tickets")
        pin = shown_pin(tickets.text, "pin-value")
        assert "Give it with your e-mail address when you call us" in tickets.text
        assert shown_pin((await http.get("/account")).text, "pin-value") == pin  # the same on both pages
        refused = await http.post("/account/pin", data={"next": "/tickets"})  # no CSRF field: nothing changes
        assert refused.status_code == 303 and "pin=expired" in refused.headers["location"]
        assert shown_pin((await http.get("/tickets")).text, "pin-value") == pin
        r = await http.post("/account/pin", data={"next": "/tickets", "csrf": csrf_of(tickets.text)})
        assert r.status_code == 303 and r.headers["location"] == "/tickets?pin=new#support-pin"
        after = await http.get("/tickets?pin=new")
        fresh = shown_pin(after.text, "pin-value")
        assert "This is your new PIN" in after.text and re.fullmatch(r"\d{6}", fresh) and fresh != pin
    assert not await console_accepts(server, d, email, pin)  # the old PIN is refused
    assert await console_accepts(server, d, email, fresh)
    async with signed_in(server, d.users["phone"]["email"]) as staff:  # staff have no PIN
        assert 'id="support-pin"' not in (await staff.get("/tickets")).text


async def test_the_console_is_for_staff_and_keeps_the_red_lines(server: Server, d: Deployment) -> None:
    email = await new_contact(d)
    async with signed_in(server, email) as contact:
        page = await contact.get("/tickets")
        pin, csrf = shown_pin(page.text, "pin-value"), csrf_of(page.text)
        assert (await contact.get("/support/verify")).status_code == 404
        r = await contact.post("/support/verify", data={"csrf": csrf, "email": email, "pin": pin})
        assert r.status_code == 404 and "Verified until" not in r.text
        assert (await contact.post("/support/act", data={"csrf": csrf, "v": "1", "action": "open_ticket",
                                                         "text": "x"})).status_code == 404
    async with httpx.AsyncClient(base_url=server.url) as anonymous:
        r = await anonymous.get("/support/verify")
        assert r.status_code == 303 and r.headers["location"].startswith("/login?next=/support/verify")

    async with signed_in(server, d.users["phone"]["email"]) as staff:
        console = await staff.get("/support/verify")
        assert console.status_code == 200
        for group in ("actions-public", "actions-pin", "actions-never"):
            assert f'id="{group}"' in console.text
        assert 'id="phone-console-link"' in console.text and 'id="phone-log-link"' not in console.text
        csrf = csrf_of(console.text)
        wrong = "000000" if pin != "000000" else "111111"
        miss = await staff.post("/support/verify", data={"csrf": csrf, "email": email, "pin": wrong})
        assert miss.status_code == 200 and "No match" in miss.text and "Verified until" not in miss.text
        unknown = await staff.post("/support/verify", data={"csrf": csrf, "email": "x" + email, "pin": wrong})
        assert _error(unknown.text) == _error(miss.text)  # never which part was wrong
        ok = await staff.post("/support/verify", data={"csrf": csrf, "email": email, "pin": pin})
        assert ok.status_code == 303 and re.fullmatch(r"/support/verify\?v=\d+", ok.headers["location"])
        vid = ok.headers["location"].split("=")[1]
        verified = await staff.get(ok.headers["location"])
        assert "Verified until" in verified.text and "In good standing" in verified.text
        assert pin not in verified.text  # staff never see the PIN itself
        for red in ("add_contact", "delete_service"):  # shown, disabled, with the reason, and with no form
            item = re.search(rf'<li [^>]*id="action-{red}">(.*?)</li>', verified.text, re.S)
            assert item and "disabled" in item.group(1) and "Never by phone" in item.group(1)
            assert "<form" not in item.group(1)
            r = await staff.post("/support/act", data={"csrf": csrf, "v": vid, "action": red})
            assert r.status_code == 403 and "Never by phone" in r.text
        assert 'id="form-open_ticket"' in verified.text and 'id="form-request_change"' in verified.text
        empty = await staff.post("/support/act", data={"csrf": csrf, "v": vid, "action": "open_ticket", "text": " "})
        assert empty.status_code == 400 and "Write down what the caller needs" in empty.text
        done = await staff.post("/support/act", data={"csrf": csrf, "v": vid, "action": "open_ticket",
                                                      "text": "The printer in room 2 jams\nSince Monday."})
        assert done.status_code == 303
        shown = await staff.get(done.headers["location"].split("#")[0])
        number = re.search(r'Ticket #(\d+) opened: By phone: The printer in room 2 jams', shown.text)
        assert number and f'href="/tickets/{number.group(1)}"' in shown.text
        assert 'id="done"' not in (await staff.get(done.headers["location"].split("#")[0])).text  # said once
        other = await staff.get("/support/verify?v=999999")
        assert other.status_code == 404 and "verify the caller again" in other.text
    async with signed_in(server, email) as contact:
        assert "By phone: The printer in room 2 jams" in (await contact.get("/tickets")).text


def _error(page: str) -> str:
    match = re.search(r'id="verify-error">(.*?)</p>', page, re.S)
    assert match, "no error shown"
    return match.group(1).strip()


async def test_the_phone_log_is_for_level_3_and_admins(server: Server, d: Deployment) -> None:
    email = await new_contact(d)
    async with signed_in(server, d.users["phone"]["email"]) as staff:
        page = await staff.get("/support/verify")
        await staff.post("/support/verify", data={"csrf": csrf_of(page.text), "email": email, "pin": "999 999"})
        assert (await staff.get("/support/audit")).status_code == 404  # Level 1
    async with signed_in(server, d.users["engineer"]["email"]) as level2:
        r = await level2.get("/support/audit")
        assert r.status_code == 404 and "no such page" in r.text
    for who in ("engineer2", "admin"):
        async with signed_in(server, d.users[who]["email"]) as senior:
            log = await senior.get(f"/support/audit?email={email}")
            assert log.status_code == 200 and 'id="phone-log-link"' in log.text
            entries = re.findall(r'<li class="phone-log-entry" data-action="(\w+)" data-result="(\w+)">', log.text)
            assert entries and entries[0] == ("verify", "no_match") and email in log.text
            assert "Lee Phones" in log.text
            none = await senior.get(f"/support/audit?email={email}&result=ok")
            assert 'id="audit-empty"' in none.text and "Nothing matches" in none.text
            every = await senior.get("/support/audit?action=bogus&result=no_match")
            assert every.status_code == 200 and email in every.text
