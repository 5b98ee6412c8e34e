"""GET /api/tickets over HTTP, on SQLite and PostgreSQL: filters, sorts, keyset pages under concurrent writes,
the signed cursor, and every bad parameter refused by name. Each test lists an organisation of its own."""

from __future__ import annotations

import asyncio
import secrets
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import httpx
import pytest
from itsdangerous import URLSafeSerializer

from livesupport.clock import FixedClock
from livesupport.domain.listing import parse_query
from tests.conftest import Deployment, new_person, token_for
from tests.realtime.helpers import connected
from tests.utils import Server, clocked_server

ROW_FIELDS = {"id", "subject", "status", "priority", "next_update_at", "next_update_source", "assignees", "org",
              "created_at", "updated_at", "org_name", "overdue", "unreviewed"}


@pytest.fixture
def d(server: Server) -> Deployment:
    return server.deployment  # type: ignore[attr-defined,no-any-return]


async def new_org(d: Deployment) -> tuple[str, int]:
    """A client of a new organisation of the test's own: (their user key, the organisation's id)."""
    key = await new_person(d, "client", org=f"Listing {secrets.token_hex(3)}")
    return key, d.users[key]["org_id"]


async def call(url: str, token: str, method: str, path: str, **kwargs: Any) -> httpx.Response:
    async with httpx.AsyncClient(base_url=url, timeout=20) as http:
        return await http.request(method, path, headers={"Authorization": f"Bearer {token}"}, **kwargs)


async def open_tickets(url: str, token: str, *priorities: str) -> list[int]:
    ids = []
    for n, priority in enumerate(priorities):
        r = await call(url, token, "POST", "/api/tickets", json={"subject": f"List {n} {priority}",
                                                                   "body": "Help.", "priority": priority})
        assert r.status_code == 201, r.text
        ids.append(r.json()["id"])
    return ids


async def listed(server: Server, d: Deployment, who: str, **params: Any) -> dict[str, Any]:
    r = await call(server.url, await token_for(server, d, who), "GET", "/api/tickets", params=params)
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


def ids_of(answer: dict[str, Any]) -> list[int]:
    return [t["id"] for t in answer["tickets"]]


async def test_filters_and_sorts(server: Server, d: Deployment) -> None:
    client, org = await new_org(d)
    token = await token_for(server, d, client)
    low, normal, high, urgent, normal2, high2 = await open_tickets(
        server.url, token, "low", "normal", "high", "urgent", "normal", "high")
    dana, sam = d.users["engineer"]["id"], d.users["engineer2"]["id"]
    async with connected(server, d, "engineer2") as c:
        for tid, status in ((normal, "waiting_on_client"), (high, "resolved"), (low, "in_progress")):
            assert (await c.request({"type": "status", "topic": f"ticket:{tid}", "status": status}))["ok"]
        assert (await c.request({"type": "assign", "topic": f"ticket:{urgent}", "assignees": [sam]}))["ok"]
        assert (await c.request({"type": "assign", "topic": f"ticket:{high2}", "assignees": [dana]}))["ok"]

    def staff(**params: Any) -> Any:
        return listed(server, d, "engineer2", org=org, **params)

    every = await staff()
    assert every["next"] is None and every["catch_up_after"].endswith("Z")
    rows = every["tickets"]
    assert {r["id"] for r in rows} == {low, normal, high, urgent, normal2, high2}
    assert all(ROW_FIELDS <= set(r) for r in rows)  # the row shape of the live lists, as before
    assert [(r["updated_at"], r["id"]) for r in rows] == sorted(((r["updated_at"], r["id"]) for r in rows),
                                                                 reverse=True)
    assert ids_of(await staff(status="waiting_on_client")) == [normal]
    assert set(ids_of(await staff(status=["resolved", "in_progress"]))) == {high, low}
    assert set(ids_of(await staff(priority="high"))) == {high, high2}
    assert ids_of(await staff(assignee="me")) == [urgent]
    assert ids_of(await staff(assignee=str(dana))) == [high2]
    assert set(ids_of(await staff(assignee="none"))) == {low, normal, high, normal2}
    assert ids_of(await staff(waiting_on="client")) == [normal]
    assert set(ids_of(await staff(waiting_on="us"))) == {low, urgent, normal2, high2}
    assert ids_of(await staff(waiting_on="us", priority="urgent", assignee="me")) == [urgent]  # all together
    assert ids_of(await staff(sort="created")) == [low, normal, high, urgent, normal2, high2]
    assert ids_of(await staff(sort="-created")) == [high2, normal2, urgent, high, normal, low]
    assert ids_of(await staff(sort="priority")) == [urgent, high2, high, normal2, normal, low]
    by_due = (await staff(sort="next_update"))["tickets"]
    due = [r["next_update_at"] for r in by_due if r["next_update_at"] is not None]
    assert due == sorted(due) and by_due[-1]["id"] in (high, normal)  # resolved, waiting: none due, last
    assert {r["id"] for r in by_due if r["next_update_at"] is None} == {high, normal}
    # updated_after / updated_before take any offset and compare instants.
    middle = datetime.fromisoformat(rows[2]["updated_at"])
    plus_two = middle.astimezone(timezone(timedelta(hours=2))).isoformat()
    newer = ids_of(await staff(updated_after=plus_two))
    older = ids_of(await staff(updated_before=(middle + timedelta(microseconds=1)).isoformat()))
    assert newer == [r["id"] for r in rows[:2]] and older == [r["id"] for r in rows[2:]]

    # A client sees their own organisation's tickets, with or without org; another's id gives nothing.
    mine = await listed(server, d, client)
    assert set(ids_of(mine)) == {low, normal, high, urgent, normal2, high2}
    assert set(ids_of(await listed(server, d, client, org=org))) == set(ids_of(mine))
    assert ids_of(await listed(server, d, client, org=d.users["client"]["org_id"])) == []
    assert ids_of(await listed(server, d, "outsider", org=org)) == []
    assert not set(ids_of(await listed(server, d, "outsider", limit=100))) & set(ids_of(mine))


async def test_pages_join_up_and_the_cursor_is_bound(server: Server, d: Deployment) -> None:
    client, org = await new_org(d)
    opened = await open_tickets(server.url, await token_for(server, d, client), *["normal", "high", "low"] * 4)
    for sort in ("-updated", "created", "-created", "next_update", "priority"):
        whole = ids_of(await listed(server, d, "engineer", org=org, sort=sort))
        assert sorted(whole) == sorted(opened)
        pages, cursor = [], None
        while True:
            page = await listed(server, d, "engineer", org=org, sort=sort, limit=5,
                                **({"cursor": cursor} if cursor else {}))
            pages.append(ids_of(page))
            cursor = page["next"]
            if cursor is None:
                break
        assert [len(p) for p in pages] == [5, 5, 2], sort
        assert [i for p in pages for i in p] == whole, sort  # the pages are the whole list, cut up

    first = await listed(server, d, "engineer", org=org, limit=5, sort="created")
    cursor = first["next"]
    staff = await token_for(server, d, "engineer")
    # The page size may change along the way; the catch-up instant stays the walk's own.
    second = await listed(server, d, "engineer", org=org, limit=2, sort="created", cursor=cursor)
    assert ids_of(second) == opened[5:7] and second["catch_up_after"] == first["catch_up_after"]
    refusals = [
        ({"org": org, "sort": "-created", "cursor": cursor}, "engineer", "other filters or another sort"),
        ({"org": org, "sort": "created", "status": "new", "cursor": cursor}, "engineer", "other filters"),
        ({"sort": "created", "cursor": cursor}, "engineer", "other filters"),
        ({"org": org, "sort": "created", "cursor": cursor}, "engineer2", "given to someone else"),
        ({"org": org, "sort": "created", "cursor": cursor[:-2] + ("AA" if cursor[-2:] != "AA" else "BB")},
         "engineer", "not a cursor this server gave out"),
        ({"org": org, "sort": "created", "cursor": "x" * 700}, "engineer", "not a cursor this server gave out"),
        ({"org": org, "sort": "created", "cursor": "eyJ0eXAiOiJKV1QifQ.e30.c2lnbmF0dXJl"}, "engineer",
         "not a cursor this server gave out"),
    ]
    # Signed with the server's own secret but not as the server writes them (a leaked secret): still a refusal.
    signer = URLSafeSerializer(d.env()["SECRET_KEY"], salt="ticket-list-cursor")
    fingerprint = parse_query({"org": [str(org)], "sort": ["created"]}).fingerprint()
    me = d.users["engineer"]["id"]
    for odd in ([fingerprint, me, 7, None, 1, "2026-12-03T09:00:00Z"], [fingerprint, me, 0, None, 1, None],
                [fingerprint, me, 0, 5, "1", "2026-12-03T09:00:00Z"], [fingerprint, me], "text"):
        refusals.append(({"org": org, "sort": "created", "cursor": signer.dumps(odd)}, "engineer",
                         "not one this server can read" if isinstance(odd, list) and len(odd) == 6
                         else "not a cursor this server gave out"))
    for params, who, words in refusals:
        r = await call(server.url, await token_for(server, d, who), "GET", "/api/tickets", params=params)
        assert r.status_code == 400, (params, r.text)
        assert r.json()["error"]["code"] == "bad_cursor" and words in r.json()["error"]["message"], r.text
    r = await call(server.url, staff, "GET", "/api/tickets", params={"org": org, "sort": "created", "cursor": cursor,
                                                                      "limit": 5})
    assert r.status_code == 200 and ids_of(r.json()) == opened[5:10]  # the cursor itself still works


@pytest.mark.parametrize(("params", "parameter"), [
    ({"status": "open"}, "status"),
    ({"status": ["new", "pending"]}, "status"),
    ({"priority": "critical"}, "priority"),
    ({"assignee": "someone"}, "assignee"),
    ({"org": "١"}, "org"),
    ({"overdue": "1"}, "overdue"),
    ({"waiting_on": "them"}, "waiting_on"),
    ({"updated_after": "2026-12-03"}, "updated_after"),
    ({"updated_before": "not a date"}, "updated_before"),
    ({"sort": "updated"}, "sort"),
    ({"limit": "0"}, "limit"),
    ({"limit": "101"}, "limit"),
    ({"limit": "²"}, "limit"),
    ({"limit": ["5", "6"]}, "limit"),
    ({"cursor": ""}, "cursor"),
])
async def test_bad_parameters_are_refused_by_name(server: Server, d: Deployment, params: dict[str, Any],
                                                  parameter: str) -> None:
    for who in ("client", "engineer"):
        r = await call(server.url, await token_for(server, d, who), "GET", "/api/tickets", params=params)
        assert r.status_code == 400, r.text
        error = r.json()["error"]
        assert error["code"] == "bad_parameter" and error["message"].startswith(f"{parameter}: "), error


async def test_overdue_at_the_injected_clock(d: Deployment) -> None:
    """overdue=true: open tickets whose next update is due and past, at the server's clock, not the wall's."""
    client, org = await new_org(d)
    # Near the wall clock: a far future would make the shared servers' tokens look expired to this one.
    clock = FixedClock(datetime.now(UTC).replace(microsecond=0))
    async with clocked_server(d.env(), clock) as url:
        async with httpx.AsyncClient(base_url=url) as http:
            r = await http.post("/api/tokens", json={"email": d.users[client]["email"],
                                                     "password": d.users[client]["password"]})
            token = r.json()["token"]
            r = await http.post("/api/tokens", json={"email": d.users["engineer"]["email"],
                                                     "password": d.users["engineer"]["password"]})
            staff = r.json()["token"]
        urgent, low = await open_tickets(url, token, "urgent", "low")  # due in 15 minutes and in 8 hours

        async def overdue(**params: Any) -> list[int]:
            r = await call(url, staff, "GET", "/api/tickets", params={"org": org, "overdue": "true", **params})
            assert r.status_code == 200, r.text
            return ids_of(r.json())

        assert await overdue() == []
        clock.at += timedelta(minutes=15)  # exactly due: overdue, as the live lists say
        assert await overdue() == [urgent]
        clock.at += timedelta(hours=8)
        assert set(await overdue()) == {urgent, low}
        assert await overdue(priority="low") == [low]
        r = await call(url, staff, "GET", "/api/tickets", params={"org": org, "overdue": "false"})
        assert set(ids_of(r.json())) == {urgent, low}  # false: no filter
        r = await call(url, token, "GET", "/api/tickets", params={"overdue": "true"})
        assert set(ids_of(r.json())) == {urgent, low} and all(t["overdue"] for t in r.json()["tickets"])


async def _walk(server: Server, d: Deployment, who: str, params: dict[str, Any],
                between: Any) -> tuple[list[int], str]:
    """Every page of a walk (limit 4), calling `between()` after each; the ids in order and catch_up_after."""
    seen: list[int] = []
    cursor, catch_up = None, ""
    while True:
        page = await listed(server, d, who, limit=4, **params, **({"cursor": cursor} if cursor else {}))
        seen += ids_of(page)
        catch_up = catch_up or page["catch_up_after"]
        assert page["catch_up_after"] == catch_up
        cursor = page["next"]
        if cursor is None:
            return seen, catch_up
        await between()


@pytest.mark.parametrize("sort", ["-updated", "created", "-created", "next_update", "priority"])
async def test_a_walk_under_concurrent_writes(server: Server, d: Deployment, sort: str) -> None:
    """Writers change tickets all through a walk (and between every two pages): a ticket whose sort key did not
    change is seen exactly once; none twice on -updated; the catch-up brings every ticket that changed."""
    client, org = await new_org(d)
    token = await token_for(server, d, client)
    before = await open_tickets(server.url, token, *["normal"] * 20)
    written: set[int] = set()
    opened: list[int] = []
    rng = __import__("random").Random(17)
    stop = asyncio.Event()

    async with connected(server, d, "engineer") as eng, connected(server, d, "engineer2") as sam:
        async def write_one(c: Any = sam) -> None:
            tid = rng.choice(before)
            reply = await c.request({"type": "chat", "topic": f"ticket:{tid}", "body": "On it."})
            assert reply["ok"], reply
            written.add(tid)

        async def keep_writing() -> None:  # on a connection of its own, all through the walk
            n = 0
            while not stop.is_set():
                await write_one(eng)
                n += 1
                if n % 5 == 0:
                    opened.extend(await open_tickets(server.url, token, "low"))

        writer = asyncio.create_task(keep_writing())
        try:
            await write_one()  # the walk surely starts with writes under way
            seen, catch_up = await _walk(server, d, "engineer", {"org": org, "sort": sort}, write_one)
        finally:
            stop.set()
            await writer

    untouched = set(before) - written
    assert written and untouched, "the test needs both"
    for tid in untouched:
        assert seen.count(tid) == 1, (tid, seen)
    if sort != "next_update":  # a staff message moves a ticket's next update: it may come round again
        # -updated: a change moves a ticket ahead of the walk; the others' keys (created, priority) stay put.
        assert len(seen) == len(set(seen)), seen
    if sort in ("created", "priority"):
        assert set(before) <= set(seen)
    if sort == "created":  # tickets opened during the walk come at its end, in order
        assert [i for i in seen if i in opened] == [i for i in opened if i in seen]
    caught, _ = await _walk(server, d, "engineer", {"org": org, "updated_after": catch_up}, _nothing)
    assert written <= set(caught) and set(opened) <= set(caught)
    assert set(seen) | set(caught) == set(before) | set(opened)
    # The same for the client, who walks their own organisation's list.
    seen, _ = await _walk(server, d, client, {"sort": sort}, _nothing)
    assert sorted(seen) == sorted(before + opened)


async def _nothing() -> None:
    return None
