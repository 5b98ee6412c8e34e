"""Who may manage which webhooks, on every route (API and pages), and the pages' own flow: add an endpoint
(its secret shown once), send a test event to a real receiver, read the delivery log."""

from __future__ import annotations

import re
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest

from tests.conftest import Deployment, _deployment, new_person, token_for
from tests.utils import Server, csrf_of, run_server, signed_in
from tests.webhook_receiver import receiver, signed_ok


@dataclass
class Desk:
    server: Server
    d: Deployment

    async def api(self, who: str | None, method: str, path: str, body: object = None) -> httpx.Response:
        headers = {"Authorization": f"Bearer {await token_for(self.server, self.d, who)}"} if who else {}
        async with httpx.AsyncClient(base_url=self.server.url, timeout=30) as http:
            return await http.request(method, path, json=body, headers=headers)

    async def organisation(self) -> tuple[str, str]:
        """A new organisation: (its domain administrator, a client of it)."""
        tag = secrets.token_hex(3)
        admin = await new_person(self.d, role="domain_admin", org=f"Pages {tag}", domain=f"pages{tag}.test")
        return admin, await new_person(self.d, role="client", org=f"Pages {tag}")


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
async def desk(request: pytest.FixtureRequest) -> AsyncIterator[Desk]:
    async for d in _deployment(request.param):
        async with run_server(d.env(WORKER="separate", WEBHOOK_ALLOW_LOCAL="1")) as srv:
            yield Desk(srv, d)


ONE = ["GET", "DELETE"]
ACTIONS = ["rotate", "enable", "disable", "test"]


async def test_nobody_but_the_owner_scope_touches_an_endpoint(desk: Desk) -> None:
    (owner, client), (stranger, _) = await desk.organisation(), await desk.organisation()
    with receiver() as box:
        made = (await desk.api(owner, "POST", "/api/webhooks", {"url": box.url, "events": ["ticket.created"]})).json()
        ep = made["id"]
        desk_ep = (await desk.api("admin", "POST", "/api/webhooks", {"url": box.url, "events": ["ticket.created"],
                                                                    "description": "desk"})).json()["id"]
        for who, code in ((stranger, 404), ("admin", 404), (client, 403), ("engineer", 403), ("client", 403),
                          (None, 401)):
            for method in ONE:
                r = await desk.api(who, method, f"/api/webhooks/{ep}")
                assert r.status_code == code, (who, method, r.text)
            for action in ACTIONS:
                r = await desk.api(who, "POST", f"/api/webhooks/{ep}/{action}")
                assert r.status_code == code, (who, action, r.text)
                assert "secret" not in r.text
        for who, code in ((client, 403), ("engineer", 403), (None, 401)):
            assert (await desk.api(who, "GET", "/api/webhooks")).status_code == code
            r = await desk.api(who, "POST", "/api/webhooks", {"url": box.url, "events": ["ticket.created"]})
            assert r.status_code == code
        assert [e["id"] for e in (await desk.api(stranger, "GET", "/api/webhooks")).json()["endpoints"]] == []
        admin_sees = [e["id"] for e in (await desk.api("admin", "GET", "/api/webhooks")).json()["endpoints"]]
        assert ep not in admin_sees and desk_ep in admin_sees
        for action in ACTIONS:  # the organisation's administrator cannot reach the desk's endpoint either
            assert (await desk.api(owner, "POST", f"/api/webhooks/{desk_ep}/{action}")).status_code == 404
        assert box.requests == []  # no test event went anywhere

        mine = (await desk.api(owner, "GET", f"/api/webhooks/{ep}")).json()["endpoint"]
        assert mine["enabled"] and mine["url"] == box.url  # unchanged by all of the above

        # The pages, alike: another organisation's administrator gets "not found" and changes nothing.
        async with signed_in(desk.server, desk.d.users[stranger]["email"]) as http:
            assert (await http.get(f"/account/webhooks/{ep}")).status_code == 404
            assert (await http.get(f"/admin/webhooks/{desk_ep}")).status_code == 404
            page = await http.get("/account/webhooks")
            assert page.status_code == 200 and box.url not in page.text
            for action in ("delete", "disable", "rotate", "test"):
                r = await http.post("/account/webhooks", data={"csrf": csrf_of(page.text), "action": action,
                                                               "endpoint": str(ep)})
                assert r.status_code == 404 and "not yours to manage" in r.text, action
            assert (await http.get("/admin/webhooks")).status_code == 404
        async with signed_in(desk.server, desk.d.users[client]["email"]) as http:
            assert (await http.get("/account/webhooks")).status_code == 404
        async with signed_in(desk.server, desk.d.users["engineer"]["email"]) as http:
            assert (await http.get("/admin/webhooks")).status_code == 404
            assert (await http.get("/account/webhooks")).status_code == 404
        mine = (await desk.api(owner, "GET", f"/api/webhooks/{ep}")).json()["endpoint"]
        assert mine["enabled"] and box.requests == []
        await desk.api("admin", "DELETE", f"/api/webhooks/{desk_ep}")


async def test_the_page_adds_an_endpoint_shows_its_secret_once_and_sends_a_test(desk: Desk) -> None:
    owner, _ = await desk.organisation()
    with receiver() as box:
        async with signed_in(desk.server, desk.d.users[owner]["email"]) as http:
            page = await http.get("/account/webhooks")
            assert page.status_code == 200 and "No endpoint yet" in page.text
            form = {"action": "create", "url": box.url, "description": "Our PSA", "events": ["ticket.created",
                                                                                           "ticket.solved"]}
            refused = await http.post("/account/webhooks", data={**form, "csrf": "forged"})
            assert refused.status_code == 403 and box.url not in refused.text
            bad = await http.post("/account/webhooks", data={**form, "url": "https://10.1.1.1/x",
                                                             "csrf": csrf_of(page.text)})
            assert bad.status_code == 400 and "private" in bad.text
            made = await http.post("/account/webhooks", data={**form, "csrf": csrf_of(page.text)})
            assert made.status_code == 201, made.text
            secret = re.search(r'<code id="webhook-secret">(whsec_[\w-]+)</code>', made.text)
            assert secret, made.text
            again = await http.get("/account/webhooks")
            assert secret.group(1) not in again.text and box.url in again.text
            (ep,) = (await desk.api(owner, "GET", "/api/webhooks")).json()["endpoints"]
            assert ep["events"] == ["ticket.created", "ticket.solved"] and ep["description"] == "Our PSA"

            tested = await http.post("/account/webhooks", data={"csrf": csrf_of(again.text), "action": "test",
                                                                "endpoint": str(ep["id"])})
            assert tested.status_code == 200 and "delivered, the receiver answered 200" in tested.text
            (ping,) = box.requests
            assert signed_ok(secret.group(1), ping.headers["livesupport-timestamp"],
                             ping.headers["livesupport-signature"], ping.body)
            log = await http.get(f"/account/webhooks/{ep['id']}")
            assert log.status_code == 200 and ping.json["id"] in log.text and "ping" in log.text

            off = await http.post("/account/webhooks", data={"csrf": csrf_of(again.text), "action": "disable",
                                                             "endpoint": str(ep["id"])}, follow_redirects=True)
            assert "nothing is sent to it until you enable it" in off.text and ">Enable<" in off.text
            gone = await http.post("/account/webhooks", data={"csrf": csrf_of(again.text), "action": "delete",
                                                              "endpoint": str(ep["id"])}, follow_redirects=True)
            assert "were deleted" in gone.text and box.url not in gone.text


async def test_an_admin_adds_a_desk_endpoint_with_internal_notes(desk: Desk) -> None:
    owner, _ = await desk.organisation()
    with receiver() as box:
        async with signed_in(desk.server, desk.d.users["admin"]["email"]) as http:
            page = await http.get("/admin/webhooks")
            assert page.status_code == 200 and 'name="internal"' in page.text
            assert (await http.get("/account/webhooks")).status_code == 404  # the organisations' page is not theirs
            made = await http.post("/admin/webhooks", data={
                "csrf": csrf_of(page.text), "action": "create", "url": box.url, "events": ["ticket.message"],
                "internal": "on", "description": "Desk archive"})
            assert made.status_code == 201 and 'id="webhook-secret"' in made.text
        shown = [e for e in (await desk.api("admin", "GET", "/api/webhooks")).json()["endpoints"]
                 if e["description"] == "Desk archive"]
        assert [(e["internal"], e["scope"], e["org_id"]) for e in shown] == [(True, "desk", None)]
        assert shown[0]["id"] not in [e["id"] for e in (await desk.api(owner, "GET", "/api/webhooks")).json()[
            "endpoints"]]
        # A domain administrator's page offers no internal notes, and a forged field is refused.
        async with signed_in(desk.server, desk.d.users[owner]["email"]) as http:
            page = await http.get("/account/webhooks")
            assert 'name="internal"' not in page.text
            forged = await http.post("/account/webhooks", data={
                "csrf": csrf_of(page.text), "action": "create", "url": box.url, "events": ["ticket.message"],
                "internal": "on"})
            assert forged.status_code == 403 and "Internal notes never go" in forged.text
        assert (await desk.api(owner, "GET", "/api/webhooks")).json()["endpoints"] == []
        await desk.api("admin", "DELETE", f"/api/webhooks/{shown[0]['id']}")
