"""The huddle over the wire: tasks, assignment, invitations, pinned guidance, threads and the SLA clock.

Each test runs against a real server process on SQLite and on PostgreSQL, and checks what a client may not see.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.conftest import Deployment
from tests.realtime.helpers import all_events, connected, http_get, on_ticket, open_ticket
from tests.utils import Server


@pytest.fixture
def d(server: Server) -> Deployment:
    return server.deployment  # type: ignore[attr-defined,no-any-return]


def refused(reply: dict, code: str) -> str:
    assert reply["ok"] is False and reply["error"]["code"] == code, reply
    return str(reply["error"]["message"])


async def test_tasks_move_live_and_clients_never_see_the_note(server: Server, d: Deployment) -> None:
    tid = await open_ticket(server, d)
    topic = f"ticket:{tid}"
    dana, sam = d.users["engineer"], d.users["engineer2"]
    async with on_ticket(server, d, topic, "client", "engineer", "engineer2") as (client, eng, senior):
        made = await senior.request({"type": "task", "topic": topic, "title": "Check the mail logs",
                                     "assignee_id": dana["id"], "note": "Look for 550 bounces from their MX"})
        assert made["ok"] and made["task_id"] > 0
        ev = await client.expect(type="event", kind="task")
        assert ev["data"]["change"] == "created" and ev["data"]["progress"] == {"done": 0, "total": 1}
        assert ev["data"]["task"]["title"] == "Check the mail logs"
        assert ev["data"]["task"]["assignee"]["name"] == dana["name"]
        assert "note" not in ev["data"]["task"] and "bounces from their MX" not in str(ev)
        staff_ev = await eng.expect(type="event", kind="task")
        assert staff_ev["data"]["task"]["note"] == "Look for 550 bounces from their MX"

        second = await eng.request({"type": "task", "topic": topic, "title": "Call the client back"})
        await eng.request({"type": "task", "topic": topic, "task_id": made["task_id"], "state": "done"})
        last = await client.expect(lambda f: f.get("kind") == "task" and f["seq"] > second["seq"])
        assert last["data"]["change"] == "updated" and last["data"]["progress"] == {"done": 1, "total": 2}
        assert last["data"]["task"]["state"] == "done" and "note" not in last["data"]["task"]

    # Replay and the HTTP API redact the same way; the joined state carries tasks and progress.
    async with connected(server, d, "client") as late:
        joined = await late.join(topic, since=0)
        replayed = [f for f in await late.drain() if f.get("kind") == "task"]
    assert len(replayed) == 3 and all("note" not in f["data"]["task"] for f in replayed)
    assert joined["state"]["progress"] == {"done": 1, "total": 2}
    assert all("note" not in t for t in joined["state"]["tasks"])
    http = await all_events(server, d, "client", tid)
    assert "bounces from their MX" not in str(http)  # the note; its number alone could be in a timestamp
    staff_state = (await http_get(server, d, "engineer", f"/api/tickets/{tid}")).json()
    assert any(t.get("note") for t in staff_state["tasks"])
    assert sam["id"] != dana["id"]


async def test_task_refusals(server: Server, d: Deployment) -> None:
    tid = await open_ticket(server, d)
    topic = f"ticket:{tid}"
    async with connected(server, d, "client") as client, connected(server, d, "engineer") as eng:
        refused(await client.request({"type": "task", "topic": topic, "title": "x"}), "forbidden")
        refused(await eng.request({"type": "task", "topic": topic}), "bad_request")
        refused(await eng.request({"type": "task", "topic": topic, "title": "t" * 201}), "too_large")
        refused(await eng.request({"type": "task", "topic": topic, "title": "t", "state": "later"}), "bad_request")
        refused(await eng.request({"type": "task", "topic": topic, "title": "t",
                                   "assignee_id": d.users["client"]["id"]}), "not_found")
        refused(await eng.request({"type": "task", "topic": topic, "task_id": 999999, "state": "done"}), "not_found")
        refused(await eng.request({"type": "task", "topic": topic, "title": "t", "due_at": "tomorrow"}),
                "bad_request")
    assert [e["kind"] for e in await all_events(server, d, "engineer", tid)] == ["chat"]  # nothing stored


async def test_assignment_and_invitation_reach_the_engineer_wherever_they_are(server: Server, d: Deployment) -> None:
    tid = await open_ticket(server, d, "Outlook asks for a password")
    topic = f"ticket:{tid}"
    sam = d.users["engineer2"]
    async with connected(server, d, "engineer2") as sam_ws, on_ticket(server, d, topic, "client", "engineer") as (
        client, eng
    ):
        await sam_ws.join(f"user:{sam['id']}")
        r = await eng.request({"type": "invite", "topic": topic, "user_id": sam["id"], "message": "Exchange expert?"})
        assert r["ok"]
        notice = await sam_ws.expect(type="notice")
        assert notice["kind"] == "invited" and notice["ticket"] == {"id": tid, "subject": "Outlook asks for a password"}
        assert notice["url"] == f"/tickets/{tid}" and notice["message"] == "Exchange expert?"
        assert notice["by"]["id"] == d.users["engineer"]["id"]
        member = await client.expect(type="event", kind="member")
        assert member["data"]["user"]["id"] == sam["id"] and "message" not in member["data"]
        assert (await eng.expect(type="event", kind="member"))["data"]["message"] == "Exchange expert?"
        refused(await eng.request({"type": "invite", "topic": topic, "user_id": sam["id"]}), "conflict")
        refused(await eng.request({"type": "invite", "topic": topic, "user_id": d.users["client"]["id"]}),
                "not_found")
        refused(await client.request({"type": "invite", "topic": topic, "user_id": sam["id"]}), "forbidden")

        r = await eng.request({"type": "assign", "topic": topic, "assignees": [sam["id"], d.users["engineer"]["id"]]})
        assert r["ok"]
        ev = await client.expect(type="event", kind="assignment")
        assert {a["id"] for a in ev["data"]["assignees"]} == {sam["id"], d.users["engineer"]["id"]}
        assert (await sam_ws.expect(type="notice"))["kind"] == "assigned"
        refused(await eng.request({"type": "assign", "topic": topic, "assignees": [d.users["client"]["id"]]}),
                "not_found")
        refused(await eng.request({"type": "assign", "topic": topic, "assignees": "all"}), "bad_request")
    async with connected(server, d, "client") as c:
        state = (await c.join(topic))["state"]
    assert {a["id"] for a in state["assignees"]} == {sam["id"], d.users["engineer"]["id"]}
    assert [m["id"] for m in state["members"]] == [sam["id"]]


async def test_personal_topic_is_only_ones_own(server: Server, d: Deployment) -> None:
    async with connected(server, d, "engineer") as eng:
        r = await eng.request({"type": "join", "topic": f"user:{d.users['engineer2']['id']}"})
        refused(r, "forbidden")
        ok = await eng.request({"type": "join", "topic": f"user:{d.users['engineer']['id']}"})
        assert ok["type"] == "joined"


async def test_guidance_is_pinned_by_seniors_and_hidden_from_clients(server: Server, d: Deployment) -> None:
    tid = await open_ticket(server, d)
    topic = f"ticket:{tid}"
    async with on_ticket(server, d, topic, "client", "engineer", "engineer2") as (client, eng, senior):
        note = await senior.request({"type": "chat", "topic": topic, "visibility": "internal",
                                     "body": "Do not reset the MFA before the owner confirms by phone."})
        public = await senior.request({"type": "chat", "topic": topic, "body": "We are looking into it."})
        refused(await eng.request({"type": "pin", "topic": topic, "seq": note["seq"]}), "forbidden")  # Level 2
        refused(await senior.request({"type": "pin", "topic": topic, "seq": public["seq"]}), "bad_request")
        refused(await senior.request({"type": "pin", "topic": topic, "seq": 9999}), "not_found")
        refused(await client.request({"type": "pin", "topic": topic, "seq": note["seq"]}), "forbidden")
        pinned = await senior.request({"type": "pin", "topic": topic, "seq": note["seq"]})
        assert (await eng.expect(type="event", kind="pin"))["data"]["seq"] == note["seq"]
        after = await client.drain()
        assert all(f.get("kind") != "pin" and "MFA" not in str(f) for f in after)
    async with connected(server, d, "engineer") as e2, connected(server, d, "client") as c2:
        staff_state = (await e2.join(topic))["state"]
        client_state = (await c2.join(topic))["state"]
    assert staff_state["pinned"]["seq"] == note["seq"] and "MFA" in staff_state["pinned"]["body"]
    assert "pinned" not in client_state
    assert pinned["seq"] not in [e["seq"] for e in await all_events(server, d, "client", tid)]


async def test_replies_are_threaded(server: Server, d: Deployment) -> None:
    tid = await open_ticket(server, d)
    topic = f"ticket:{tid}"
    async with on_ticket(server, d, topic, "client", "engineer") as (client, eng):
        note = await eng.request({"type": "chat", "topic": topic, "visibility": "internal", "body": "hmm"})
        r = await eng.request({"type": "chat", "topic": topic, "body": "Which version of Outlook?", "reply_to": 1})
        assert (await client.expect(type="event", seq=r["seq"]))["data"]["reply_to"] == 1
        refused(await client.request({"type": "chat", "topic": topic, "body": "?", "reply_to": note["seq"]}),
                "not_found")  # a client cannot quote what it cannot see
        refused(await eng.request({"type": "chat", "topic": topic, "body": "x", "reply_to": note["seq"]}),
                "bad_request")  # a public reply must not quote an internal note
        refused(await eng.request({"type": "chat", "topic": topic, "body": "x", "reply_to": "one"}), "bad_request")


async def test_next_update_follows_the_sla_unless_staff_set_it(server: Server, d: Deployment) -> None:
    before = datetime.now(UTC)
    tid = await open_ticket(server, d)
    topic = f"ticket:{tid}"
    async with on_ticket(server, d, topic, "client", "engineer") as (client, eng):
        state = (await client.join(topic))["state"]
        due = datetime.fromisoformat(state["next_update_at"])
        # normal priority: a first answer within 4 hours
        assert timedelta(hours=4) - timedelta(seconds=5) <= due - before <= timedelta(hours=4, seconds=30)
        assert state["next_update_source"] == "sla" and state["overdue"] is False

        await eng.request({"type": "chat", "topic": topic, "body": "Looking at it now."})
        async with connected(server, d, "client") as c:
            after_reply = (await c.join(topic))["state"]
        assert timedelta(hours=8) - timedelta(seconds=5) <= (
            datetime.fromisoformat(after_reply["next_update_at"]) - before) <= timedelta(hours=8, seconds=30)

        past = (datetime.now(UTC) - timedelta(minutes=5)).isoformat()
        r = await eng.request({"type": "status", "topic": topic, "status": "in_progress", "next_update_at": past})
        assert r["ok"]
        async with connected(server, d, "client") as c:
            overdue = (await c.join(topic))["state"]
        assert overdue["next_update_source"] == "staff" and overdue["overdue"] is True

        await eng.request({"type": "status", "topic": topic, "status": "waiting_on_client"})
        async with connected(server, d, "client") as c:
            paused = (await c.join(topic))["state"]
        assert paused["next_update_at"] is None and paused["overdue"] is False
        await client.request({"type": "chat", "topic": topic, "body": "Here is the screenshot."})
        async with connected(server, d, "client") as c:
            restarted = (await c.join(topic))["state"]
        assert restarted["next_update_at"] is not None and restarted["next_update_source"] == "sla"

        # Solved or closed, nothing more is promised, even when the form still held a time.
        later = (datetime.now(UTC) + timedelta(hours=2)).isoformat()
        for status in ("resolved", "closed"):
            r = await eng.request({"type": "status", "topic": topic, "status": status, "next_update_at": later})
            assert r["ok"], r
            async with connected(server, d, "client") as c:
                solved = (await c.join(topic))["state"]
            assert solved["status"] == status and solved["next_update_at"] is None
