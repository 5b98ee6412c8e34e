"""Saved views over HTTP on a real server (SQLite and PostgreSQL): who keeps, sees, changes what; bad input."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.conftest import Deployment, new_person
from tests.utils import Server
from tests.web.test_macros_api import call, staff


@pytest.fixture
def d(server: Server) -> Deployment:
    return server.deployment  # type: ignore[attr-defined,no-any-return]


async def ids_seen(srv: Server, d: Deployment, who: str) -> list[int]:
    r = await call(srv, d, who, "GET", "/api/views")
    assert r.status_code == 200, r.text
    return [v["id"] for v in r.json()["views"]]


async def test_a_personal_view_is_its_owners_alone(server: Server, d: Deployment) -> None:
    me, other = await staff(d, 2), await staff(d, 2)
    r = await call(server, d, me, "POST", "/api/views", {"name": "  My   urgent ", "query": "?sort=priority&priority=urgent"
                                                                                "&status=triage&status=new&assignee="})
    assert r.status_code == 201, r.text
    made = r.json()
    # Checked and spelt one way: blank values out, parameters in a fixed order.
    assert made["name"] == "My urgent" and made["query"] == "status=triage&status=new&priority=urgent&sort=priority"
    assert made["url"] == f"/tickets?{made['query']}&view={made['id']}"
    assert made["mine"] and made["editable"] and not made["shared"]
    assert made["id"] in await ids_seen(server, d, me)
    assert made["id"] not in await ids_seen(server, d, other)
    for method, body in (("PATCH", {"name": "Taken"}), ("DELETE", None)):
        r = await call(server, d, other, method, f"/api/views/{made['id']}", body)
        assert r.status_code == 404 and r.json()["error"]["code"] == "not_found", r.text

    r = await call(server, d, me, "PATCH", f"/api/views/{made['id']}", {"query": "overdue=true"})
    assert r.status_code == 200 and (r.json()["query"], r.json()["name"]) == ("overdue=true", "My urgent")
    assert (await call(server, d, me, "DELETE", f"/api/views/{made['id']}")).status_code == 204
    assert (await call(server, d, me, "PATCH", f"/api/views/{made['id']}", {"name": "x"})).status_code == 404
    assert made["id"] not in await ids_seen(server, d, me)


async def test_shared_views_are_seen_by_staff_kept_by_level_3_never_seen_by_clients(
        server: Server, d: Deployment) -> None:
    junior, senior = await staff(d, 2), await staff(d, 3)
    r = await call(server, d, junior, "POST", "/api/views", {"name": "Team", "query": "", "shared": True})
    assert r.status_code == 403 and "Level 3" in r.json()["error"]["message"]
    shared = (await call(server, d, senior, "POST", "/api/views", {"name": "Unassigned, new",
                                                                   "query": "assignee=none&status=new",
                                                                   "shared": True})).json()
    seen = [v for v in (await call(server, d, junior, "GET", "/api/views")).json()["views"] if v["id"] == shared["id"]]
    assert seen and seen[0]["editable"] is False and seen[0]["owner"]["id"] == d.users[senior]["id"]
    for method, body in (("PATCH", {"name": "Mine now"}), ("DELETE", None)):
        r = await call(server, d, junior, method, f"/api/views/{shared['id']}", body)
        assert r.status_code == 403 and r.json()["error"]["code"] == "forbidden"
    mine = (await call(server, d, junior, "POST", "/api/views", {"name": "Mine", "query": "assignee=me"})).json()
    assert (await call(server, d, junior, "PATCH", f"/api/views/{mine['id']}", {"shared": True})).status_code == 403

    # Clients: never a shared view, never another person's, not even a colleague's; their own they keep.
    alice, bob = await new_person(d), await new_person(d)
    own = await call(server, d, alice, "POST", "/api/views", {"name": "Waiting on me", "query": "waiting_on=client"})
    assert own.status_code == 201, own.text
    assert await ids_seen(server, d, alice) == [own.json()["id"]]
    assert await ids_seen(server, d, bob) == []
    for who, vid in ((bob, own.json()["id"]), (alice, shared["id"]), (alice, mine["id"])):
        for method, body in (("PATCH", {"name": "x"}), ("DELETE", None)):
            r = await call(server, d, who, method, f"/api/views/{vid}", body)
            assert r.status_code == 404 and r.json()["error"]["code"] == "not_found", (who, vid, r.text)
    r = await call(server, d, alice, "POST", "/api/views", {"name": "Everyone's", "query": "", "shared": True})
    assert r.status_code == 403
    # Admins keep shared views too; a shared view made personal becomes the editor's own.
    r = await call(server, d, "admin", "PATCH", f"/api/views/{shared['id']}", {"shared": False})
    assert r.status_code == 200 and r.json()["owner"]["id"] == d.users["admin"]["id"] and r.json()["mine"]
    assert shared["id"] not in await ids_seen(server, d, junior)
    assert (await call(server, d, "admin", "DELETE", f"/api/views/{shared['id']}")).status_code == 204


BAD = [
    ({"name": "x", "query": "status=done"}, "bad_parameter", "status: 'done' is not one of"),
    ({"name": "x", "query": "assignee=bob"}, "bad_parameter", "assignee:"),
    ({"name": "x", "query": "updated_after=2026-12-03"}, "bad_parameter", "updated_after: "),
    ({"name": "x", "query": "updated_from=03/12/2026"}, "bad_parameter", "updated_from: '03/12/2026' is not a day"),
    ({"name": "x", "query": "updated_from=2026-12-05&updated_to=2026-12-03"}, "bad_parameter",
     "updated_to: 2026-12-03 is before updated_from"),
    ({"name": "x", "query": "limit=101"}, "bad_parameter", "limit: "),
    ({"name": "x", "query": "sort=name"}, "bad_parameter", "sort: "),
    ({"name": "x", "query": "priority=high&priority=low"}, "bad_parameter", "priority: give it once"),
    ({"name": "x", "query": "cursor=abc"}, "bad_parameter", "cursor: a view keeps filters"),
    ({"name": "x", "query": "secret=1"}, "bad_parameter", "secret: a view's query takes only"),
    ({"name": "x", "query": "q=" + "a" * 1000}, "bad_parameter", "query: it is longer than"),
    ({"name": "x", "query": 7}, "bad_parameter", "query: give the list's query string"),
    ({"name": "", "query": ""}, "bad_request", "Give the view a name"),
    ({"query": "status=new"}, "bad_request", "Give the view a name"),
    ({"name": "x" * 81}, "bad_request", "at most 80"),
    ({"name": "x", "shared": "yes"}, "bad_request", "shared must be"),
    ({"name": "x", "owner_id": 1}, "bad_request", "Unknown field 'owner_id'"),
]


@pytest.mark.parametrize(("body", "code", "words"), BAD, ids=[w for _, _, w in BAD])
async def test_bad_views_are_refused_naming_what(server: Server, d: Deployment, body: dict[str, Any], code: str,
                                                 words: str) -> None:
    r = await call(server, d, "engineer", "POST", "/api/views", body)
    assert r.status_code == 400, r.text
    assert r.json()["error"]["code"] == code and words in r.json()["error"]["message"], r.text


async def test_bad_changes_change_nothing(server: Server, d: Deployment) -> None:
    me = await staff(d, 2)
    vid = (await call(server, d, me, "POST", "/api/views", {"name": "Kept", "query": "status=new"})).json()["id"]
    for body in ({}, {"query": "status=nope"}, {"name": " "}, {"shared": None}):
        assert (await call(server, d, me, "PATCH", f"/api/views/{vid}", body)).status_code == 400
    for path in ("/api/views/x", "/api/views/99999999999999999999"):
        assert (await call(server, d, me, "PATCH", path, {"name": "y"})).status_code in (400, 404)
    kept = [v for v in (await call(server, d, me, "GET", "/api/views")).json()["views"] if v["id"] == vid]
    assert (kept[0]["name"], kept[0]["query"]) == ("Kept", "status=new")
    async with httpx.AsyncClient(base_url=server.url) as http:
        assert (await http.get("/api/views")).status_code == 401
