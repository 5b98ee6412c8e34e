"""A chat frame with a `status`: the message and the status change as one, on SQLite and on PostgreSQL."""

from __future__ import annotations

import pytest

from tests.conftest import Deployment
from tests.realtime.helpers import all_events, connected, on_ticket, open_ticket
from tests.utils import Server


@pytest.fixture
def d(server: Server) -> Deployment:
    return server.deployment  # type: ignore[attr-defined,no-any-return]


async def test_send_and_set_status_is_one_event_sequence(server: Server, d: Deployment) -> None:
    tid = await open_ticket(server, d)
    topic = f"ticket:{tid}"
    async with on_ticket(server, d, topic, "client", "engineer") as (client, eng):
        reply = await eng.request({"type": "chat", "topic": topic, "body": "Please try the new driver.",
                                   "status": "waiting_on_client"})
        assert reply["ok"] is True and reply["seq"] == 2 and reply["status_seq"] == 3
        for who in (client, eng):
            chat = await who.expect(type="event", seq=2)
            status = await who.expect(type="event", seq=3)
            assert chat["kind"] == "chat" and chat["data"]["body"] == "Please try the new driver."
            assert status["kind"] == "status" and status["data"]["status"] == "waiting_on_client"
            assert status["actor"]["id"] == d.users["engineer"]["id"]
        joined = await client.join(topic)
        assert joined["state"]["status"] == "waiting_on_client"


async def test_send_and_set_status_with_a_promised_update(server: Server, d: Deployment) -> None:
    tid = await open_ticket(server, d)
    topic = f"ticket:{tid}"
    async with on_ticket(server, d, topic, "engineer") as (eng,):
        reply = await eng.request({"type": "chat", "topic": topic, "body": "Working on it.",
                                   "status": "in_progress", "next_update_at": "2031-05-01T09:30:00+00:00"})
        assert reply["ok"] is True
        ev = await eng.expect(type="event", seq=reply["status_seq"])
        assert ev["data"]["next_update_at"] == "2031-05-01T09:30:00Z" and ev["data"]["next_update_source"] == "staff"


async def test_an_internal_note_can_set_the_status_and_stays_internal(server: Server, d: Deployment) -> None:
    tid = await open_ticket(server, d)
    topic = f"ticket:{tid}"
    async with on_ticket(server, d, topic, "client", "engineer") as (client, eng):
        reply = await eng.request({"type": "chat", "topic": topic, "body": "Escalating, vendor bug.",
                                   "visibility": "internal", "status": "in_progress"})
        assert reply["ok"] is True
        status = await client.expect(type="event", seq=reply["status_seq"])
        assert status["data"]["status"] == "in_progress"
        assert not [f for f in await client.drain() if f.get("kind") == "chat"]
    assert [e["kind"] for e in await all_events(server, d, "client", tid)] == ["chat", "status"]


@pytest.mark.parametrize(("who", "extra", "code"), [
    ("client", {"status": "resolved"}, "forbidden"),  # clients never get the control
    ("engineer", {"status": "done"}, "bad_request"),
    ("engineer", {"status": "resolved", "next_update_at": "tomorrow"}, "bad_request"),
    ("engineer", {"status": "resolved", "body": ""}, "bad_request"),
    ("outsider", {"status": "resolved"}, "forbidden"),
])
async def test_a_refused_send_and_set_stores_nothing(
    server: Server, d: Deployment, who: str, extra: dict[str, object], code: str
) -> None:
    tid = await open_ticket(server, d)
    topic = f"ticket:{tid}"
    async with connected(server, d, who) as sender:
        if who != "outsider":
            await sender.join(topic)
        reply = await sender.request({"type": "chat", "topic": topic, "body": "Fixed, I think.", **extra})
        assert reply["ok"] is False and reply["error"]["code"] == code, reply
        assert reply["error"]["message"]
    events = await all_events(server, d, "engineer", tid)
    assert [e["seq"] for e in events] == [1]  # neither the message nor the status: no half state
    async with connected(server, d, "engineer") as eng:
        joined = await eng.join(topic)
    assert joined["state"]["status"] == "new"


async def test_a_conflict_refuses_the_status_too(server: Server, d: Deployment) -> None:
    tid = await open_ticket(server, d)
    topic = f"ticket:{tid}"
    async with on_ticket(server, d, topic, "client", "engineer") as (client, eng):
        await client.request({"type": "chat", "topic": topic, "body": "Any news?"})
        reply = await eng.request({"type": "chat", "topic": topic, "body": "Solved!", "base_seq": 1,
                                   "status": "resolved"})
        assert reply["ok"] is False and reply["error"]["code"] == "conflict"
        forced = await eng.request({"type": "chat", "topic": topic, "body": "Solved!", "base_seq": 1,
                                    "force": True, "status": "resolved"})
        assert forced["ok"] is True and forced["status_seq"] == forced["seq"] + 1 == 4


async def test_a_null_status_is_a_plain_message(server: Server, d: Deployment) -> None:
    tid = await open_ticket(server, d)
    topic = f"ticket:{tid}"
    async with on_ticket(server, d, topic, "client") as (client,):
        reply = await client.request({"type": "chat", "topic": topic, "body": "Thanks", "status": None})
        assert reply["ok"] is True and "status_seq" not in reply
