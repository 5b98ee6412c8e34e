"""POST /api/tickets/bulk over HTTP on a real server (SQLite and PostgreSQL), watched by real WebSocket viewers."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import httpx
import pytest

from tests.conftest import Deployment, token_for
from tests.realtime.helpers import (
    all_events,
    connected,
    http_get,
    on_ticket,
    open_ticket,
    server_pair,
)
from tests.utils import Server


@pytest.fixture
def d(server: Server) -> Deployment:
    return server.deployment  # type: ignore[attr-defined,no-any-return]


async def bulk(srv: Server, d: Deployment, who: str, body: Any) -> httpx.Response:
    token = await token_for(srv, d, who)
    async with httpx.AsyncClient(base_url=srv.url) as http:
        return await http.post("/api/tickets/bulk", json=body, headers={"Authorization": f"Bearer {token}"})


async def state(srv: Server, d: Deployment, tid: int) -> dict[str, Any]:
    return (await http_get(srv, d, "engineer", f"/api/tickets/{tid}")).json()  # type: ignore[no-any-return]


async def test_each_ticket_changes_live_and_a_refusal_stops_none(server: Server, d: Deployment) -> None:
    a, b = await open_ticket(server, d, "Bulk A"), await open_ticket(server, d, "Bulk B")
    missing = 2**31 - 1  # no such ticket: refused like one the person may not see
    dana, sam = d.users["engineer"], d.users["engineer2"]
    async with on_ticket(server, d, f"ticket:{a}", "client", "engineer") as (client, eng), \
            connected(server, d, "engineer") as queue:
        await queue.join("queue")
        r = await bulk(server, d, "engineer2", {"ids": [a, missing, b], "status": "in_progress",
                                                "priority": "high", "assign": [dana["id"], sam["id"]]})
        assert r.status_code == 200, r.text
        out = r.json()
        assert out["updated"] == [a, b]
        assert [x["id"] for x in out["refused"]] == [missing]
        assert out["refused"][0]["error"]["code"] == "forbidden" and out["refused"][0]["error"]["message"]
        for viewer in (client, eng):  # the ticket's viewers get each change as its own event, in order
            pri = await viewer.expect(type="event", kind="priority")
            st = await viewer.expect(type="event", kind="status")
            asg = await viewer.expect(type="event", kind="assignment")
            assert pri["data"]["priority"] == "high" and pri["data"]["from"] == "normal"
            assert st["data"]["status"] == "in_progress" and pri["seq"] < st["seq"] < asg["seq"]
            assert sorted(x["id"] for x in asg["data"]["assignees"]) == sorted([dana["id"], sam["id"]])
        # The live list hears of both tickets, as it would of single changes.
        await queue.expect(lambda f: f.get("type") == "ticket" and f["ticket"]["id"] == b
                           and f["ticket"]["priority"] == "high" and len(f["ticket"]["assignees"]) == 2)
    for tid in (a, b):
        got = await state(server, d, tid)
        assert (got["status"], got["priority"]) == ("in_progress", "high")

    # unassign takes one engineer off and keeps the other; a ticket already as asked gets no event.
    r = await bulk(server, d, "engineer", {"ids": [a], "unassign": [sam["id"]]})
    assert r.json() == {"updated": [a], "refused": []}
    assert [x["id"] for x in (await state(server, d, a))["assignees"]] == [dana["id"]]
    before = len(await all_events(server, d, "engineer", b))
    r = await bulk(server, d, "engineer", {"ids": [b], "priority": "high", "assign": [dana["id"]]})
    assert r.json() == {"updated": [b], "refused": []}
    assert len(await all_events(server, d, "engineer", b)) == before


async def test_a_higher_priority_brings_the_next_update_sooner(server: Server, d: Deployment) -> None:
    tid = await open_ticket(server, d, "Slow printer")
    first = datetime.fromisoformat((await state(server, d, tid))["next_update_at"])  # normal: 4 h to answer
    r = await bulk(server, d, "engineer", {"ids": [tid], "priority": "urgent"})
    assert r.json()["updated"] == [tid]
    sooner = datetime.fromisoformat((await state(server, d, tid))["next_update_at"])
    assert (first - sooner).total_seconds() > 3 * 3600  # urgent: 15 minutes to answer
    await bulk(server, d, "engineer", {"ids": [tid], "priority": "low"})  # never later than promised
    assert datetime.fromisoformat((await state(server, d, tid))["next_update_at"]) == sooner


async def test_clients_are_refused(server: Server, d: Deployment) -> None:
    tid = await open_ticket(server, d)
    for who in ("client", "domain_admin"):
        r = await bulk(server, d, who, {"ids": [tid], "status": "closed"})
        assert r.status_code == 403 and r.json()["error"]["code"] == "forbidden"
    assert (await state(server, d, tid))["status"] == "new"


BAD = [
    ({"ids": [], "status": "closed"}, "empty"),
    ({"ids": list(range(1, 102)), "status": "closed"}, "at most 100"),
    ({"ids": ["{t}", "{t}"], "status": "closed"}, "more than once"),
    ({"ids": ["١٢"], "status": "closed"}, "0-9"),
    ({"ids": [1.5], "status": "closed"}, "0-9"),
    ({"ids": [True], "status": "closed"}, "0-9"),
    ({"ids": "{t}", "status": "closed"}, "list"),
    ({"ids": ["{t}"], "status": "solved"}, "Unknown status"),
    ({"ids": ["{t}"], "priority": "asap"}, "Unknown priority"),
    ({"ids": ["{t}"]}, "Nothing to change"),
    ({"ids": ["{t}"], "status": "closed", "colour": "red"}, "Unknown field"),
    ({"ids": ["{t}"], "assign": [2**31 - 2]}, "No engineer"),
    ({"ids": ["{t}"], "assign": ["{client}"]}, "No engineer"),
    ({"ids": ["{t}"], "assign": ["{dana}"], "unassign": ["{dana}"]}, "both"),
]


@pytest.mark.parametrize(("body", "words"), BAD, ids=[w for _, w in BAD])
async def test_bad_bodies_are_clear_400s_and_change_nothing(server: Server, d: Deployment, body: dict[str, Any],
                                                           words: str) -> None:
    tid = await open_ticket(server, d)
    names = {"{t}": tid, "{client}": d.users["client"]["id"], "{dana}": d.users["engineer"]["id"]}

    def fill(v: Any) -> Any:
        return [fill(x) for x in v] if isinstance(v, list) else names.get(v, v) if isinstance(v, str) else v

    r = await bulk(server, d, "engineer", {k: fill(v) for k, v in body.items()})
    assert r.status_code == 400, r.text
    assert r.json()["error"]["code"] == "bad_request" and words in r.json()["error"]["message"]
    got = await state(server, d, tid)
    assert (got["status"], got["priority"], got["assignees"]) == ("new", "normal", [])


async def test_a_bulk_change_on_one_process_is_live_on_another(postgres_deployment: Deployment,
                                                              redis_url: tuple[str, str]) -> None:
    d = postgres_deployment
    async with server_pair(d, redis_url, CHAT_RATE="0") as (a, b):
        tids = [await open_ticket(a, d, f"Across {n}") for n in range(2)]
        async with connected(b, d, "engineer") as on_b:
            await on_b.join("queue")
            for tid in tids:
                await on_b.join(f"ticket:{tid}")
            r = await bulk(a, d, "engineer2", {"ids": tids, "status": "triage"})
            assert r.json() == {"updated": tids, "refused": []}
            for tid in tids:
                await on_b.expect(type="event", kind="status", topic=f"ticket:{tid}")
                await on_b.expect(lambda f, t=tid: f.get("type") == "ticket" and f["ticket"]["id"] == t
                                  and f["ticket"]["status"] == "triage")
