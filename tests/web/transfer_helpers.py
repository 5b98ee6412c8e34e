"""Filing a transfer through the survey as a visitor would, and reading what the desk e-mailed."""

from __future__ import annotations

import re
import secrets
from datetime import date, timedelta
from typing import Any

import httpx
from sqlalchemy import select

from livesupport.store.database import Database
from livesupport.store.models import OutboxEmail
from tests.conftest import Deployment
from tests.utils import csrf_of

PARTY_LINK = re.compile(r"https?://\S+?/transfer/(\d+)/p/([A-Za-z0-9_.\-]+)")


def answers(tag: str | None = None, provider: bool = True) -> dict[int, dict[str, str]]:
    """A whole survey's answers, with addresses of their own (`tag`) so tests never read each other's mail."""
    tag = tag or secrets.token_hex(3)
    return {
        1: {"org_name": f"Harbour Dental {tag}", "contact_name": "Hana Harbour", "contact_email": f"hana@dental-{tag}.test",
            "contact_phone": "+1 555 0100"},
        2: {"reason": "partner_gone", "reason_detail": "Our partner stopped answering in March."},
        3: {"partner_org_id": "", "partner_name": f"Old Partner {tag}", "partner_contact": "Pat Old",
            "partner_email": f"pat@oldpartner-{tag}.test", "partner_phone": ""},
        4: ({"destination": "partner", "provider_name": f"New IT {tag}", "provider_contact": "Nina New",
             "provider_email": f"nina@newit-{tag}.test", "provider_phone": ""} if provider
            else {"destination": "vendor"}),
        5: {"services_other": "Hosted e-mail for 12 mailboxes"},
        6: {"desired_date": (date.today() + timedelta(days=21)).isoformat()},
    }


def visitor(url: str, address: str | None = None) -> httpx.AsyncClient:
    """A browser-like client from an address of its own (the server trusts X-Forwarded-For from 127.0.0.1)."""
    address = address or f"10.{secrets.randbelow(250)}.{secrets.randbelow(250)}.{secrets.randbelow(250) + 1}"
    return httpx.AsyncClient(base_url=url, headers={"X-Forwarded-For": address}, timeout=20)


async def step(http: httpx.AsyncClient, number: int, fields: dict[str, Any], move: str = "next") -> httpx.Response:
    page = await http.get("/transfer")
    return await http.post("/transfer", data={"csrf": csrf_of(page.text), "step": str(number), "move": move, **fields})


async def file_transfer(http: httpx.AsyncClient, given: dict[int, dict[str, str]]) -> int:
    for number in range(1, 7):
        r = await step(http, number, given[number])
        assert r.status_code == 303, f"step {number}: {r.status_code} {r.text[-2000:]}"
    r = await step(http, 7, {}, "submit")
    assert r.status_code == 303, r.text[-2000:]
    page = await http.get("/transfer")
    match = re.search(r"Transfer (\d+)", page.text)
    assert match and 'id="transfer-filed"' in page.text, page.text[-2000:]
    return int(match.group(1))


async def mails_to(d: Deployment, address: str) -> list[tuple[str, str]]:
    """(subject, body) of every e-mail to `address`, oldest first: the outbox is the delivery without SMTP."""
    db = Database(d.database_url)
    try:
        async with db.read() as s:
            rows = (await s.execute(select(OutboxEmail.subject, OutboxEmail.body).where(
                OutboxEmail.to_addr == address).order_by(OutboxEmail.id))).all()
    finally:
        await db.dispose()
    return [(subject, body) for subject, body in rows]


async def link_for(d: Deployment, address: str, newest: bool = True) -> tuple[int, str]:
    """The newest (or first) personal transfer link e-mailed to `address`: (transfer id, token)."""
    sent = await mails_to(d, address)
    for _, body in reversed(sent) if newest else sent:
        match = PARTY_LINK.search(body)
        if match:
            return int(match.group(1)), match.group(2)
    raise AssertionError(f"no transfer link was e-mailed to {address}; got {sent}")


async def party_post(http: httpx.AsyncClient, transfer_id: int, token: str, action: str,
                     **fields: str) -> httpx.Response:
    page = await http.get(f"/transfer/{transfer_id}/p/{token}")
    assert page.status_code == 200, page.text[-1500:]
    return await http.post(f"/transfer/{transfer_id}/p/{token}/{action}", data={"csrf": csrf_of(page.text), **fields},
                           follow_redirects=True)


def waiver_hash(page: str) -> str:
    match = re.search(r'name="waiver_sha256" value="([0-9a-f]{64})"', page)
    assert match, "no waiver on the page"
    return match.group(1)
