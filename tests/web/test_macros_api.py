"""Canned replies over HTTP on a real server (SQLite and PostgreSQL): who keeps, reads, changes and fills in what."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.conftest import Deployment, new_person, token_for
from tests.realtime.helpers import open_ticket
from tests.utils import Server


@pytest.fixture
def d(server: Server) -> Deployment:
    return server.deployment  # type: ignore[attr-defined,no-any-return]


async def call(srv: Server, d: Deployment, who: str, method: str, path: str, body: Any = None) -> httpx.Response:
    token = await token_for(srv, d, who)
    async with httpx.AsyncClient(base_url=srv.url) as http:
        return await http.request(method, path, json=body, headers={"Authorization": f"Bearer {token}"})


async def staff(d: Deployment, tier: int) -> str:
    return await new_person(d, role="staff", org=None, tier=tier)


GREETING = "Hello {{ client.name }},\nabout #{{ ticket.id }} ({{ticket.subject}}): fixed.\n{{ agent.name }}"


async def test_a_personal_reply_is_filled_in_for_a_ticket(server: Server, d: Deployment) -> None:
    me, other = await staff(d, 2), await staff(d, 2)
    r = await call(server, d, me, "POST", "/api/macros", {"title": "  Fixed,   thanks ", "body": GREETING,
                                                          "status": "waiting_on_client", "next_update_minutes": 90})
    assert r.status_code == 201, r.text
    made = r.json()
    assert made["title"] == "Fixed, thanks" and made["mine"] and made["editable"] and not made["shared"]
    listed = (await call(server, d, me, "GET", "/api/macros")).json()["macros"]
    assert [m["id"] for m in listed if not m["shared"]] == [made["id"]]
    # Someone else neither lists nor reaches it.
    assert made["id"] not in [m["id"] for m in (await call(server, d, other, "GET", "/api/macros")).json()["macros"]]
    for method, path, body in (("PATCH", "", {"title": "Mine now"}), ("DELETE", "", None),
                               ("POST", "/render", {"ticket": 1})):
        r = await call(server, d, other, method, f"/api/macros/{made['id']}{path}", body)
        assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"

    tid = await open_ticket(server, d, "Printer <b>jams</b> {{ agent.name }}")
    r = await call(server, d, me, "POST", f"/api/macros/{made['id']}/render", {"ticket": tid})
    assert r.status_code == 200, r.text
    agent = d.users[me]["name"]
    assert r.json() == {"body": f"Hello Alice Client,\nabout #{tid} (Printer <b>jams</b> {{{{ agent.name }}}}): "
                                f"fixed.\n{agent}",
                        "status": "waiting_on_client", "next_update_minutes": 90}

    r = await call(server, d, me, "PATCH", f"/api/macros/{made['id']}", {"status": None, "next_update_minutes": None})
    assert (r.json()["status"], r.json()["next_update_minutes"], r.json()["body"]) == (None, None, GREETING)
    assert (await call(server, d, me, "DELETE", f"/api/macros/{made['id']}")).status_code == 204
    assert (await call(server, d, me, "PATCH", f"/api/macros/{made['id']}", {"title": "x"})).status_code == 404


async def test_shared_replies_are_read_by_all_staff_and_kept_by_level_3(server: Server, d: Deployment) -> None:
    junior, senior = await staff(d, 2), await staff(d, 3)
    r = await call(server, d, junior, "POST", "/api/macros", {"title": "Team", "body": "Hi", "shared": True})
    assert r.status_code == 403 and "Level 3" in r.json()["error"]["message"]
    shared = (await call(server, d, senior, "POST", "/api/macros", {"title": "Team hello", "body": "Hi all",
                                                                     "shared": True})).json()
    seen = [m for m in (await call(server, d, junior, "GET", "/api/macros")).json()["macros"] if m["id"] == shared["id"]]
    assert seen and seen[0]["editable"] is False and seen[0]["owner"]["id"] == d.users[senior]["id"]
    for method, body in (("PATCH", {"body": "Changed"}), ("DELETE", None)):
        r = await call(server, d, junior, method, f"/api/macros/{shared['id']}", body)
        assert r.status_code == 403 and r.json()["error"]["code"] == "forbidden"
    # A junior may not share a personal reply either.
    mine = (await call(server, d, junior, "POST", "/api/macros", {"title": "Mine", "body": "x"})).json()
    assert (await call(server, d, junior, "PATCH", f"/api/macros/{mine['id']}", {"shared": True})).status_code == 403
    r = await call(server, d, "admin", "PATCH", f"/api/macros/{shared['id']}", {"body": "Hi everyone"})
    assert r.status_code == 200 and r.json()["body"] == "Hi everyone"
    assert (await call(server, d, senior, "DELETE", f"/api/macros/{shared['id']}")).status_code == 204


async def test_clients_are_refused_everywhere(server: Server, d: Deployment) -> None:
    senior = await staff(d, 3)
    shared = (await call(server, d, senior, "POST", "/api/macros", {"title": "Open", "body": "Hi", "shared": True}))
    mid = shared.json()["id"]
    tid = await open_ticket(server, d)
    for who in ("client", "domain_admin"):
        for method, path, body in (("GET", "/api/macros", None), ("POST", "/api/macros", {"title": "t", "body": "b"}),
                                   ("PATCH", f"/api/macros/{mid}", {"title": "t"}),
                                   ("DELETE", f"/api/macros/{mid}", None),
                                   ("POST", f"/api/macros/{mid}/render", {"ticket": tid})):
            r = await call(server, d, who, method, path, body)
            assert r.status_code == 403, (who, method, path, r.text)
            assert r.json()["error"]["code"] == "forbidden"
    assert (await call(server, d, senior, "GET", "/api/macros")).status_code == 200


BAD = [
    ({"title": "x", "body": "Hi {{ client.email }}"}, "{{ client.email }} is not a placeholder"),
    ({"title": "x", "body": "Hi {{ client.name "}, "do not read"),
    ({"title": "x", "body": "{{ secret_key }}"}, "Unknown name 'secret_key'"),
    ({"title": "x", "body": "{{ client }}"}, "Write {{ client.name }}"),
    ({"title": "x", "body": "{% for i in range(9) %}{% endfor %}"}, "for tag cannot"),
    ({"title": "x", "body": "{{ ''.__class__ }}"}, "not getattr expressions"),
    ({"title": "x", "body": "{{ client.name|upper }}"}, "not filter expressions"),
    ({"title": "x", "body": "   "}, "empty"),
    ({"title": "", "body": "b"}, "title"),
    ({"body": "b"}, "title"),
    ({"title": "x", "body": "b", "status": "done"}, "Unknown status"),
    ({"title": "x", "body": "b", "next_update_minutes": 0}, "minutes"),
    ({"title": "x", "body": "b", "next_update_minutes": "６０"}, "minutes"),
    ({"title": "x", "body": "b", "shared": "yes"}, "shared must be"),
    ({"title": "x", "body": "b", "owner_id": 1}, "Unknown field"),
]


@pytest.mark.parametrize(("body", "words"), BAD, ids=[w for _, w in BAD])
async def test_bad_replies_are_refused_naming_what(server: Server, d: Deployment, body: dict[str, Any],
                                                   words: str) -> None:
    r = await call(server, d, "engineer", "POST", "/api/macros", body)
    assert r.status_code == 400, r.text
    assert r.json()["error"]["code"] == "bad_request" and words in r.json()["error"]["message"]


async def test_bad_changes_and_renders_are_refused_and_change_nothing(server: Server, d: Deployment) -> None:
    me = await staff(d, 2)
    mid = (await call(server, d, me, "POST", "/api/macros", {"title": "Kept", "body": "Hi {{ client.name }}"})).json()["id"]
    for body, status in (({}, 400), ({"body": "{{ ticket.secret }}"}, 400), ({"title": "x" * 101}, 413)):
        assert (await call(server, d, me, "PATCH", f"/api/macros/{mid}", body)).status_code == status
    for body, status in (({}, 400), ({"ticket": "x"}, 400), ({"ticket": 2**31 - 1}, 403)):
        r = await call(server, d, me, "POST", f"/api/macros/{mid}/render", body)
        assert r.status_code == status, r.text
    kept = [m for m in (await call(server, d, me, "GET", "/api/macros")).json()["macros"] if m["id"] == mid]
    assert (kept[0]["title"], kept[0]["body"]) == ("Kept", "Hi {{ client.name }}")


async def test_a_reply_stored_past_the_checks_still_reaches_nothing(server: Server, d: Deployment) -> None:
    """Should a body ever be stored without the save-time checks, the sandbox still gives it only the values."""
    from datetime import UTC, datetime

    from livesupport.store.database import Database
    from livesupport.store.models import Macro

    me = await staff(d, 2)
    db = Database(d.database_url)
    now = datetime.now(UTC)
    try:
        async with db.write() as s:
            m = Macro(owner_id=d.users[me]["id"], shared=False, title="Sneaky", created_at=now, updated_at=now,
                      body="{{ client.name.__class__.__mro__ }}{{ ticket.items() }}")
            s.add(m)
            await s.flush()
            mid = m.id
    finally:
        await db.dispose()
    tid = await open_ticket(server, d)
    r = await call(server, d, me, "POST", f"/api/macros/{mid}/render", {"ticket": tid})
    assert r.status_code == 400 and "cannot be filled in" in r.json()["error"]["message"]


async def test_the_page_wants_staff_and_its_csrf_token(server: Server, d: Deployment) -> None:
    from tests.utils import csrf_of, signed_in

    me = await staff(d, 2)
    async with signed_in(server, d.users["client"]["email"]) as http:
        assert (await http.get("/macros")).status_code == 404
        page = await http.get("/tickets")
        r = await http.post("/macros", data={"csrf": csrf_of(page.text), "action": "create", "title": "t", "body": "b"})
        assert r.status_code == 404
    async with signed_in(server, d.users[me]["email"]) as http:
        page = await http.get("/macros")
        assert page.status_code == 200 and 'id="macro-form"' in page.text
        r = await http.post("/macros", data={"csrf": "wrong", "action": "create", "title": "Stale", "body": "b"})
        assert r.status_code == 403 and "expired" in r.text and "Stale" in r.text  # what was typed is kept
        r = await http.post("/macros", data={"csrf": csrf_of(page.text), "action": "create", "title": "Fresh",
                                             "body": "Hi {{ client.name }}", "next_update_minutes": "30"})
        assert r.status_code == 303 and r.headers["location"] == "/macros?done=create"
        r = await http.post("/macros", data={"csrf": csrf_of(page.text), "action": "create", "title": "Bad",
                                             "body": "{{ client.phone }}"})
        assert r.status_code == 400 and "{{ client.phone }} is not a placeholder" in r.text.replace("&#34;", '"')
    titles = [m["title"] for m in (await call(server, d, me, "GET", "/api/macros")).json()["macros"] if m["mine"]]
    assert titles == ["Fresh"]
