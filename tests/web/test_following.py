"""Following a ticket over HTTP: who may, who may add whom, and the refusals, each with a code and words."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from tests.conftest import PASSWORD, Deployment, token_for
from tests.realtime.helpers import connected, open_ticket
from tests.utils import Server, cli, csrf_of


@pytest.fixture
def d(server: Server) -> Deployment:
    return server.deployment  # type: ignore[attr-defined,no-any-return]


async def call(server: Server, d: Deployment, who: str, method: str, path: str, **kwargs: Any) -> httpx.Response:
    token = await token_for(server, d, who)
    async with httpx.AsyncClient(base_url=server.url) as http:
        return await http.request(method, path, headers={"Authorization": f"Bearer {token}"}, **kwargs)


async def test_follow_unfollow_and_why(server: Server, d: Deployment) -> None:
    tid = await open_ticket(server, d, "Follow me FO-1")
    path = f"/api/tickets/{tid}/follow"
    assert (await call(server, d, "client", "GET", path)).json() == {"following": True, "reason": "opened"}
    assert (await call(server, d, "client2", "GET", path)).json() == {"following": False, "reason": None}
    r = await call(server, d, "client2", "POST", path)
    assert r.status_code == 200 and r.json()["reason"] == "follow"
    assert (await call(server, d, "client2", "GET", path)).json() == {"following": True, "reason": "follow"}

    # Unfollowing a ticket one follows by role sticks, also when the role comes again.
    eng = d.users["engineer"]["id"]
    async with connected(server, d, "engineer2") as sam:
        assert (await sam.request({"type": "assign", "topic": f"ticket:{tid}", "assignees": [eng]}))["ok"]
    assert (await call(server, d, "engineer", "GET", path)).json()["reason"] == "assignee"
    assert (await call(server, d, "engineer", "DELETE", path)).json() == {"following": False, "reason": None}
    async with connected(server, d, "engineer2") as sam:
        await sam.request({"type": "assign", "topic": f"ticket:{tid}", "assignees": []})
        await sam.request({"type": "assign", "topic": f"ticket:{tid}", "assignees": [eng]})
    assert (await call(server, d, "engineer", "GET", path)).json()["following"] is False
    assert (await call(server, d, "engineer", "POST", path)).json()["reason"] == "assignee"  # back on


async def test_staff_add_a_contact_who_can_see_it(server: Server, d: Deployment) -> None:
    tid = await open_ticket(server, d, "Add my colleague FO-2")
    path = f"/api/tickets/{tid}/follow"
    bob = d.users["client2"]["id"]
    r = await call(server, d, "engineer", "POST", path, json={"user_id": bob})
    assert r.status_code == 200 and r.json() == {"following": True, "reason": "added", "user_id": bob}
    assert (await call(server, d, "client2", "GET", path)).json()["reason"] == "added"


@pytest.mark.parametrize(("who", "body", "status", "code", "words"), [
    ("client", {"user_id": "client2"}, 403, "forbidden", "Only support staff can add someone"),
    ("engineer", {"user_id": "outsider"}, 403, "forbidden", "cannot see this ticket"),
    ("engineer", {"user_id": 999_999}, 404, "not_found", "no active account"),
    ("engineer", {"user_id": "two"}, 400, "bad_request", "user_id must be a positive whole number"),
    ("engineer", {"user_id": True}, 400, "bad_request", "user_id must be"),
    ("outsider", None, 403, "forbidden", "You cannot open that ticket."),
])
async def test_refusals(server: Server, d: Deployment, who: str, body: dict[str, Any] | None, status: int, code: str,
                        words: str) -> None:
    tid = await open_ticket(server, d, "Refusals FO-3")
    if body is not None and isinstance(body.get("user_id"), str) and body["user_id"] in d.users:
        body = {"user_id": d.users[body["user_id"]]["id"]}
    r = await call(server, d, who, "POST", f"/api/tickets/{tid}/follow", json=body)
    assert r.status_code == status, r.text
    assert r.json()["error"]["code"] == code and words in r.json()["error"]["message"]


async def test_a_missing_ticket_the_body_and_the_credentials(server: Server, d: Deployment) -> None:
    missing = await call(server, d, "client", "POST", "/api/tickets/999999/follow")
    assert missing.status_code == 403 and missing.json()["error"]["code"] == "forbidden"  # reveals nothing
    tid = await open_ticket(server, d, "Bad bodies FO-4")
    path = f"/api/tickets/{tid}/follow"
    bad = await call(server, d, "client", "POST", path, content=b"{not json")
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "bad_request"
    async with httpx.AsyncClient(base_url=server.url) as http:
        anon = await http.post(path)
        assert anon.status_code == 401 and anon.json()["error"]["code"] == "unauthorized"
        page = await http.get("/login")
        r = await http.post("/login", data={"email": d.users["client2"]["email"], "password": PASSWORD,
                                            "csrf": csrf_of(page.text), "next": f"/tickets/{tid}"})
        assert r.status_code == 303
        ticket_page = await http.get(f"/tickets/{tid}")
        assert 'id="follow-toggle"' in ticket_page.text and 'aria-pressed="false"' in ticket_page.text
        no_csrf = await http.post(path)
        assert no_csrf.status_code == 403 and "X-CSRF-Token" in no_csrf.json()["error"]["message"]
        ok = await http.post(path, headers={"X-CSRF-Token": csrf_of(ticket_page.text)})
        assert ok.status_code == 200 and ok.json()["following"] is True
        assert 'aria-pressed="true"' in (await http.get(f"/tickets/{tid}")).text


async def test_a_removed_contact_cannot_be_added(server: Server, d: Deployment) -> None:
    email = f"leaving-{d.kind}@acme.test"
    made = await asyncio.to_thread(cli, d, "user", "add", "--email", email, "--password", PASSWORD, "--role", "client",
                                   "--org", "Acme")
    assert made.returncode == 0, made.stderr
    user_id = int(made.stdout.split("(id ")[1].split(",")[0])
    tid = await open_ticket(server, d, "Removed contacts FO-5")
    async with httpx.AsyncClient(base_url=server.url) as http:  # Acme's domain administrator removes them
        page = await http.get("/login")
        await http.post("/login", data={"email": "acme.test", "password": PASSWORD, "csrf": csrf_of(page.text)})
        contacts = await http.get("/org/contacts")
        removed = await http.post("/org/contacts", data={"remove": str(user_id), "csrf": csrf_of(contacts.text)})
        assert removed.status_code == 303, removed.text
    r = await call(server, d, "engineer", "POST", f"/api/tickets/{tid}/follow", json={"user_id": user_id})
    assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"
