"""Phone support against a real server: PINs, the verification API and its lock, a caller in arrears, the red
lines through every route, the audit log, and the handout PDF read back."""

from __future__ import annotations

import asyncio
import io
import re
import secrets
from typing import Any

import httpx
import pytest
from pypdf import PdfReader

from tests.conftest import PASSWORD, Deployment, token_for
from tests.utils import Server, cli, csrf_of


@pytest.fixture
def d(server: Server) -> Deployment:
    return server.deployment  # type: ignore[attr-defined,no-any-return]


async def api(srv: Server, token: str, method: str, path: str, **kw: Any) -> httpx.Response:
    async with httpx.AsyncClient(base_url=srv.url) as http:
        return await http.request(method, path, headers={"Authorization": f"Bearer {token}"}, **kw)


async def new_contact(d: Deployment, srv: Server) -> tuple[str, str]:
    """A new organisation's domain administrator; (e-mail, token)."""
    name = f"Practice {secrets.token_hex(3)}"
    email = f"office@{name.split()[1]}.test"
    made = await asyncio.to_thread(cli, d, "user", "add", "--email", email, "--password", PASSWORD,
                                   "--role", "domain_admin", "--org", name)
    assert made.returncode == 0, made.stderr
    async with httpx.AsyncClient(base_url=srv.url) as http:
        token = (await http.post("/api/tokens", json={"email": email, "password": PASSWORD})).json()["token"]
    return email, token


async def my_pin(srv: Server, token: str) -> str:
    r = await api(srv, token, "GET", "/api/me/pin")
    assert r.status_code == 200, r.text
    return str(r.json()["pin"])


async def test_verification_right_wrong_and_the_lock(server: Server, d: Deployment) -> None:
    email, contact = await new_contact(d, server)
    pin = await my_pin(server, contact)
    assert re.fullmatch(r"\d{6}", pin) and await my_pin(server, contact) == pin  # the same until changed
    phone = await token_for(server, d, "phone")
    ok = await api(server, phone, "POST", "/api/pin/verify", json={"email": email.upper(), "pin": pin})
    assert ok.status_code == 200 and ok.json()["verified"] is True
    assert ok.json()["standing"] == "good" and ok.json()["contact"]["email"] == email
    assert pin not in ok.text  # staff never see the PIN itself
    wrong = "000000" if pin != "000000" else "111111"
    for _ in range(5):
        r = await api(server, phone, "POST", "/api/pin/verify", json={"email": email, "pin": wrong})
        assert r.status_code == 200 and r.json() == {"verified": False, "message": r.json()["message"]}
    locked = await api(server, phone, "POST", "/api/pin/verify", json={"email": email, "pin": pin})
    assert locked.status_code == 429 and "Try again in" in locked.json()["error"]["message"]
    # The contact is told, by e-mail, that their PIN is being guessed at.
    async with httpx.AsyncClient(base_url=server.url) as http:
        page = await http.get("/login")
        csrf = csrf_of(page.text)
        await http.post("/login", data={"email": d.users["admin"]["email"], "password": PASSWORD, "csrf": csrf})
        outbox = (await http.get("/outbox")).text
    assert "Someone tried your support PIN" in outbox and email in outbox
    for bad in ({"email": email, "pin": "12345"}, {"email": email, "pin": 123456}, {"email": "x", "pin": "123456"}):
        assert (await api(server, phone, "POST", "/api/pin/verify", json=bad)).status_code == 400
    assert (await api(server, contact, "POST", "/api/pin/verify", json={"email": email, "pin": pin})).status_code \
        == 403  # a client cannot use the staff's verification


async def test_a_new_pin_replaces_the_old_one(server: Server, d: Deployment) -> None:
    email, contact = await new_contact(d, server)
    phone = await token_for(server, d, "phone")

    async def verified(pin: str) -> bool:
        r = await api(server, phone, "POST", "/api/pin/verify", json={"email": email, "pin": pin})
        assert r.status_code == 200, r.text
        return bool(r.json()["verified"])

    old = await my_pin(server, contact)
    assert await verified(old)
    made = await api(server, contact, "POST", "/api/me/pin")
    assert made.status_code == 200, made.text
    fresh = made.json()["pin"]
    assert re.fullmatch(r"\d{6}", fresh) and fresh != old and await my_pin(server, contact) == fresh
    assert not await verified(old)  # the old PIN is refused from now on
    assert await verified(fresh)


async def test_a_caller_in_arrears_gets_public_help_only(server: Server, d: Deployment) -> None:
    email, contact = await new_contact(d, server)
    org = email.split("@")[1].split(".")[0]
    name = next(o["name"] for o in (await api(server, contact, "GET", "/api/orgs")).json()["orgs"])
    assert org in name.lower()
    added = await asyncio.to_thread(cli, d, "service", "add", "--org", name, "--name", "Archiving",
                                    "--monthly-cents", "1000", "--started", "2026-01-10T10:00:00-05:00")
    assert added.returncode == 0
    ran = await asyncio.to_thread(cli, d, "worker", "--once", "--now", "2026-03-02T09:00:00-05:00")
    assert ran.returncode == 0, ran.stderr
    phone = await token_for(server, d, "phone")
    state = (await api(server, phone, "POST", "/api/pin/verify",
                       json={"email": email, "pin": await my_pin(server, contact)})).json()
    assert state["verified"] is True and state["standing"] in ("late", "suspended")
    actions = {a["name"]: a for a in state["actions"]}
    assert actions["product_help"]["allowed"] is True
    assert actions["open_ticket"]["allowed"] is False and "Public help only" in actions["open_ticket"]["why"]
    refused = await api(server, phone, "POST", "/api/phone/actions",
                        json={"verification_id": state["verification_id"], "action": "email_invoice"})
    assert refused.status_code == 403 and "Public help only" in refused.json()["error"]["message"]


async def test_red_lines_hold_through_every_route(server: Server, d: Deployment) -> None:
    email, contact = await new_contact(d, server)
    phone = await token_for(server, d, "phone")
    state = (await api(server, phone, "POST", "/api/pin/verify",
                       json={"email": email, "pin": await my_pin(server, contact)})).json()
    acts = {a["name"]: a for a in state["actions"]}
    for red in ("add_contact", "delete_service"):
        assert acts[red]["allowed"] is False and "Never by phone" in acts[red]["why"]
        r = await api(server, phone, "POST", "/api/phone/actions",
                      json={"verification_id": state["verification_id"], "action": red})
        assert r.status_code == 403 and "Never by phone" in r.json()["error"]["message"]
    # Nor around the console: Level 1 cannot cancel a service through the billing API ...
    name = (await api(server, contact, "GET", "/api/orgs")).json()["orgs"][0]["name"]
    added = await asyncio.to_thread(cli, d, "service", "add", "--org", name, "--name", "Filtering",
                                    "--monthly-cents", "1500")
    service_id = int(re.search(r"added service (\d+)", added.stdout).group(1))  # type: ignore[union-attr]
    r = await api(server, phone, "POST", f"/api/services/{service_id}/cancellation", json={})
    assert r.status_code == 403 and "Never by phone" in r.json()["error"]["message"]
    # ... nor add a contact: only the organisation's domain administrator has that page.
    async with httpx.AsyncClient(base_url=server.url) as http:
        page = await http.get("/login")
        csrf = csrf_of(page.text)
        r = await http.post("/login", data={"email": d.users["phone"]["email"], "password": PASSWORD, "csrf": csrf})
        assert r.status_code == 303
        assert (await http.get("/org/contacts")).status_code == 404
        assert (await http.post("/org/contacts", data={"csrf": csrf, "name": "X", "email": "x@x.test"})).status_code \
            == 404
    # The verified, in-good-standing caller gets a ticket opened for them.
    opened = await api(server, phone, "POST", "/api/phone/actions",
                       json={"verification_id": state["verification_id"], "action": "open_ticket",
                             "text": "Outlook asks for the password\nSince this morning."})
    assert opened.status_code == 200 and "opened" in opened.json()["done"]
    mine = (await api(server, contact, "GET", "/api/tickets")).json()["tickets"]
    assert any(t["subject"] == "By phone: Outlook asks for the password" for t in mine)

    # Everything is in the audit log, which Level 3 can read and Level 1 cannot.
    senior = await token_for(server, d, "engineer2")
    log = (await api(server, senior, "GET", f"/api/phone/audit?email={email}")).json()["entries"]
    assert [(e["action"], e["result"]) for e in reversed(log)] == [
        ("verify", "ok"), ("add_contact", "refused"), ("delete_service", "refused"), ("open_ticket", "ok")]
    assert all(e["staff"] == "Lee Phones" for e in log)
    assert (await api(server, phone, "GET", "/api/phone/audit")).status_code == 403


async def test_the_handout_is_a_real_pdf(server: Server) -> None:
    async with httpx.AsyncClient(base_url=server.url) as http:
        r = await http.get("/pin/handout.pdf")
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(r.content)).pages)
    assert "how to be added as a contact" in text and "Add contact" in text
