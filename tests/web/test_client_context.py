"""The client context over HTTP and the socket: staff read it, a client never does (SQLite and PostgreSQL)."""

from __future__ import annotations

import pytest

from tests.conftest import Deployment, new_person
from tests.realtime.helpers import connected, http_get, open_ticket
from tests.utils import Server, signed_in


@pytest.fixture
def d(server: Server) -> Deployment:
    return server.deployment  # type: ignore[attr-defined,no-any-return]


async def test_staff_read_the_context_and_clients_are_refused(server: Server, d: Deployment) -> None:
    contact = await new_person(d, "client", org="Acme")
    tid = await open_ticket(server, d, "Scanner jammed", who=contact)
    other = await open_ticket(server, d, "Second printer", who=contact)
    async with connected(server, d, contact) as c:
        reply = await c.request({"type": "time_zone", "time_zone": "Asia/Kolkata"})
        assert reply["ok"] is True
        bad = await c.request({"type": "time_zone", "time_zone": "Moon/Base"})
        assert bad["ok"] is False and bad["error"]["code"] == "bad_request" and "IANA" in bad["error"]["message"]
    r = await http_get(server, d, "engineer", f"/api/tickets/{tid}/context")
    assert r.status_code == 200, r.text
    seen = r.json()
    assert seen["org"]["name"] == "Acme" and seen["billing"]["standing"] in ("good", "late", "suspended")
    assert other in [t["id"] for t in seen["open_tickets"]] and tid not in [t["id"] for t in seen["open_tickets"]]
    assert seen["contact"]["id"] == d.users[contact]["id"]
    local = seen["contact"]["local_time"]
    assert local["time_zone"] == "Asia/Kolkata" and local["offset"] == "UTC+05:30"
    for who in (contact, "client", "domain_admin", "outsider"):
        refused = await http_get(server, d, who, f"/api/tickets/{tid}/context")
        assert refused.status_code == 403 and refused.json()["error"]["code"] == "forbidden"
        assert "billing" not in refused.text and "Acme" not in refused.text


async def test_the_panel_is_on_the_staff_page_only(server: Server, d: Deployment) -> None:
    tid = await open_ticket(server, d, "Panel check")
    async with signed_in(server, d.users["engineer"]["email"]) as staff:
        page = (await staff.get(f"/tickets/{tid}")).text
    assert 'id="client-context"' in page and "Billing" in page
    async with signed_in(server, d.users["client"]["email"]) as client:
        page = (await client.get(f"/tickets/{tid}")).text
    assert 'id="client-context"' not in page and "owed" not in page and "standing" not in page.lower()
