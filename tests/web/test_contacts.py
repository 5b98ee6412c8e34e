"""A domain administrator adding a contact learns nothing about whether the address has an account elsewhere."""

from __future__ import annotations

import asyncio
import re
import secrets
import time

import httpx
import pytest

from tests.conftest import PASSWORD, Deployment
from tests.utils import Server, csrf_of, new_user, signed_in
from tests.web.transfer_helpers import mails_to


@pytest.fixture
def d(server: Server) -> Deployment:
    return server.deployment  # type: ignore[attr-defined,no-any-return]


async def mail_to(d: Deployment, address: str) -> tuple[str, str]:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        sent = await mails_to(d, address)
        if sent:
            return sent[-1]
        await asyncio.sleep(0.05)
    raise AssertionError(f"no mail to {address}")


def row_of(page: str, email: str) -> str:
    """The contact's row on the page, with its address and id blanked out, to compare with another's."""
    rows = re.findall(r'<li class="feedback-item" data-contact-id="[^"]*">.*?</li>', page, re.S)
    row = next(r for r in rows if f"<code>{email}</code>" in r)
    return re.sub(r'(data-contact-id|value)="[^"]*"', r'\1="…"', row.replace(email, "…"))


async def test_an_address_with_an_account_elsewhere_gets_the_answer_a_new_one_gets(server: Server,
                                                                                 d: Deployment) -> None:
    domain = f"dental-{secrets.token_hex(3)}.test"
    await new_user(d, "domain_admin", org=f"Dental {domain}", domain=domain)
    elsewhere = await new_user(d, "client", org=f"Other {secrets.token_hex(3)}")
    fresh = f"new-{secrets.token_hex(3)}@{domain}"
    async with signed_in(server, domain, PASSWORD) as http:
        page = await http.get("/org/contacts")
        answers = [await http.post("/org/contacts", data={"csrf": csrf_of(page.text), "name": "Pat Example",
                                                          "email": address}) for address in (elsewhere, fresh)]
        listed = (await http.get("/org/contacts")).text
        again = await http.post("/org/contacts", data={"csrf": csrf_of(page.text), "name": "Pat Example",
                                                       "email": elsewhere})
    (a, b) = answers
    assert a.status_code == b.status_code == 200, (a.text[-500:], b.text[-500:])
    assert a.text.replace(elsewhere, "…").split('<ul class="feedback-list" id="contacts">')[0] \
        == b.text.replace(fresh, "…").split('<ul class="feedback-list" id="contacts">')[0]
    assert "was added and has been sent an e-mail" in a.text
    assert row_of(listed, elsewhere) == row_of(listed, fresh)  # the list does not tell them apart either
    assert again.status_code == 409 and "already a contact" in again.text  # their own list says as much

    # The new address can sign in with its link; the other account is untouched, and its owner is told.
    subject, body = await mail_to(d, fresh)
    assert "/login/link/" in body
    subject, body = await mail_to(d, elsewhere)
    assert "tried to add you" in subject and "/login/" not in body
    async with httpx.AsyncClient(base_url=server.url) as anon:
        r = await anon.post("/api/tokens", json={"email": elsewhere, "password": PASSWORD})
        assert r.status_code == 201
        me = await anon.get("/api/tickets", headers={"Authorization": f"Bearer {r.json()['token']}"})
        assert me.status_code == 200 and all(f"Dental {domain}" != t["org"]["name"] for t in me.json()["tickets"])


async def test_removing_an_added_contact(server: Server, d: Deployment) -> None:
    domain = f"clinic-{secrets.token_hex(3)}.test"
    await new_user(d, "domain_admin", org=f"Clinic {domain}", domain=domain)
    elsewhere = await new_user(d, "client", org=f"Other {secrets.token_hex(3)}")
    fresh = f"new-{secrets.token_hex(3)}@{domain}"
    async with signed_in(server, domain, PASSWORD) as http:
        page = await http.get("/org/contacts")
        for address in (elsewhere, fresh):
            added = await http.post("/org/contacts", data={"csrf": csrf_of(page.text), "name": "Sam Example",
                                                           "email": address})
            assert added.status_code == 200
        ids = re.findall(r'name="remove" value="(i\d+)"', added.text)
        assert len(ids) == 2
        for ident in ids:
            assert (await http.post("/org/contacts", data={"csrf": csrf_of(page.text), "remove": ident})) \
                .status_code == 303
        listed = (await http.get("/org/contacts")).text
        assert listed.count("<em>removed</em>") == 2
        bad = await http.post("/org/contacts", data={"csrf": csrf_of(page.text), "remove": "i999999999"})
        assert bad.status_code == 404
    async with httpx.AsyncClient(base_url=server.url) as anon:  # the other organisation's account still works
        assert (await anon.post("/api/tokens", json={"email": elsewhere, "password": PASSWORD})).status_code == 201
