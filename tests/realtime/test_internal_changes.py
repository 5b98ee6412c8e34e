"""An internal-only change (an internal note, a task's staff note) moves nothing a client sees: not the ticket's
updated_at, not their list row, not their event stream. Real sockets and HTTP, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from tests.conftest import Deployment
from tests.realtime.helpers import connected, http_get, list_row, on_ticket, open_ticket
from tests.utils import Server


@pytest.fixture
def d(server: Server) -> Deployment:
    return server.deployment  # type: ignore[attr-defined,no-any-return]


async def updated_at(server: Server, d: Deployment, who: str, tid: int) -> tuple[str, str]:
    """(the ticket's updated_at, its list row's updated_at) over HTTP, as `who` sees them."""
    one = (await http_get(server, d, who, f"/api/tickets/{tid}")).json()["updated_at"]
    return one, (await list_row(server, d, who, tid))["updated_at"]


async def test_internal_changes_leave_what_clients_see_alone(server: Server, d: Deployment) -> None:
    tid = await open_ticket(server, d, "Scanner jams")
    topic = f"ticket:{tid}"
    acme = d.users["client"]["org_id"]
    async with on_ticket(server, d, topic, "client", "engineer2") as (client, senior), \
            connected(server, d, "client") as client_list, connected(server, d, "engineer") as staff_list:
        made = await senior.request({"type": "task", "topic": topic, "title": "Replace the roller",
                                     "note": "Roller part 4411 is on the shelf"})
        assert made["ok"], made
        await client.expect(type="event", kind="task", seq=made["seq"])
        await client_list.join(f"org:{acme}")
        await staff_list.join("queue")
        await client_list.drain()
        await client.drain()
        before = await updated_at(server, d, "client", tid)
        staff_before = await updated_at(server, d, "engineer2", tid)

        note = await senior.request({"type": "chat", "topic": topic, "body": "Customer is on the old firmware",
                                     "visibility": "internal"})
        staff_note = await senior.request({"type": "task", "topic": topic, "task_id": made["task_id"],
                                           "note": "Order two rollers, not one"})
        assert note["ok"] and staff_note["ok"], (note, staff_note)
        assert await updated_at(server, d, "client", tid) == before
        staff_after = await updated_at(server, d, "engineer2", tid)
        assert staff_after[0] > staff_before[0]  # staff see the activity
        # The lists were refreshed for it (staff's row moved): whatever the client was sent, it has by now.
        await staff_list.expect(lambda f: f["type"] == "ticket" and f["ticket"]["id"] == tid
                                and f["ticket"]["updated_at"] == staff_after[1])

        # A public message afterwards: everything the client receives before it is checked.
        marker = await senior.request({"type": "chat", "topic": topic, "body": "We are on it"})
        await client.expect(type="event", seq=marker["seq"])
        moved = await client_list.expect(lambda f: f["type"] == "ticket" and f["ticket"]["id"] == tid)
        assert moved["ticket"]["updated_at"] > before[1]  # the first row the client got is the public change's
    events = [f for f in client.inbox if f["type"] == "event"]
    assert events == [], events  # neither the note nor the task's empty change reached the client
    assert "Order two rollers" not in str(client_list.inbox) and "old firmware" not in str(client_list.inbox)
    staff_events = (await http_get(server, d, "engineer2", f"/api/tickets/{tid}/events?since=0")).json()["events"]
    assert any(e["kind"] == "task" and e["data"]["task"].get("note") == "Order two rollers, not one"
               for e in staff_events)
    client_events = (await http_get(server, d, "client", f"/api/tickets/{tid}/events?since=0")).json()["events"]
    assert [e["seq"] for e in client_events if e["kind"] == "task"] == [made["seq"]]
