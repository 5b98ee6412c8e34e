"""Personal notices that become staff's desktop notifications: a client's message on a ticket assigned to them.

(The overdue notice comes from the worker: tests/actions/test_scaled_notifications.py.)
"""

from __future__ import annotations

from tests.conftest import Deployment
from tests.realtime.helpers import connected, open_ticket
from tests.utils import Client, Server


def notices(c: Client) -> list[dict]:
    return [f for f in c.inbox if f.get("type") == "notice"]


async def test_a_clients_message_reaches_the_assigned_engineers_notices(server: Server) -> None:
    d: Deployment = server.deployment  # type: ignore[attr-defined]
    tid = await open_ticket(server, d, "Email bounces SN-1")
    topic = f"ticket:{tid}"
    dana, sam = d.users["engineer"]["id"], d.users["engineer2"]["id"]
    async with connected(server, d, "engineer") as eng, connected(server, d, "engineer2") as senior, \
            connected(server, d, "client") as alice:
        await eng.join(f"user:{dana}")
        await senior.join(f"user:{sam}")
        assert (await senior.request({"type": "assign", "topic": topic, "assignees": [dana]}))["ok"]
        await eng.expect(type="notice", kind="assigned")

        long = "My mail to the bank bounces with 550. " * 10
        sent = await alice.request({"type": "chat", "topic": topic, "body": long})
        notice = await eng.expect(type="notice", kind="message")
        assert notice["topic"] == f"user:{dana}" and notice["seq"] == sent["seq"]
        assert notice["ticket"] == {"id": tid, "subject": "Email bounces SN-1"}
        assert notice["by"]["name"] == "Alice Client" and notice["url"] == f"/tickets/{tid}"
        assert notice["excerpt"].startswith("My mail to the bank bounces with 550.") and len(notice["excerpt"]) <= 140

        # Staff messages and internal notes notify nobody; an engineer not assigned hears nothing.
        await senior.request({"type": "chat", "topic": topic, "body": "On it."})
        await senior.request({"type": "chat", "topic": topic, "body": "Note", "visibility": "internal"})
        await eng.drain()
        await senior.drain()
        assert notices(eng) == [] and notices(senior) == []

        # Reassigned: the next message goes to the new assignee at once (this process forgot the old list).
        assert (await senior.request({"type": "assign", "topic": topic, "assignees": [sam]}))["ok"]
        await alice.request({"type": "chat", "topic": topic, "body": "Any news?"})
        assert (await senior.expect(type="notice", kind="message"))["excerpt"] == "Any news?"
        await eng.drain()
        assert [n for n in notices(eng) if n["kind"] == "message"] == []
