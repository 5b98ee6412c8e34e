"""A join authorised and answered from what a process remembers (actions/join_cache.py) is refused and answered
exactly as one read from the database: forgetting is announced by every process, and a remembered snapshot is
used only when nothing the process delivered on the ticket is newer.

Both servers remember for an hour here (TOKEN_CACHE_SECONDS=3600): only an announced eviction can make them
forget. Each test first has server B remember (a join there), then changes things through server A or the
`livesupport` command, then joins on B again.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest

from tests.conftest import Deployment
from tests.realtime.access_helpers import livesupport, new_account, open_ticket_as, token_of
from tests.realtime.helpers import server_pair
from tests.utils import Server, ws_client

METRICS = "join-cache-metrics"


@pytest.fixture(scope="module")
async def pair(deployment: Deployment, redis_url: tuple[str, str]) -> AsyncIterator[tuple[Server, Server]]:
    async with server_pair(deployment, redis_url, TOKEN_CACHE_SECONDS="3600", CHAT_RATE="0",
                           METRICS_TOKEN=METRICS) as servers:
        yield servers


async def token(srv: Server, email: str) -> str:
    r = await token_of(srv, email)
    assert r.status_code == 201, r.text
    return str(r.json()["token"])


@dataclass
class Moving:
    """A ticket of one organisation about to move to another: both organisations' clients have bearers on B."""

    tid: int
    new_org: int
    old_bearer: str
    new_bearer: str
    mover: str  # a senior engineer's bearer on A

    async def move(self, a: Server) -> None:
        async with httpx.AsyncClient(base_url=a.url, timeout=20) as http:
            moved = await http.post(f"/api/tickets/{self.tid}/move", json={"org_id": self.new_org},
                                    headers={"Authorization": f"Bearer {self.mover}"})
        assert moved.status_code == 200, moved.text


async def moving(a: Server, b: Server, subject: str) -> Moving:
    d: Deployment = a.deployment  # type: ignore[attr-defined]
    tag = secrets.token_hex(3)
    old = await new_account(d, "client", org=f"Old Owner {tag}")
    new = await new_account(d, "client", org=f"New Owner {tag}")
    senior = await new_account(d, "staff", tier=3)
    tid = await open_ticket_as(a, old["email"], subject)
    return Moving(tid, new["org_id"], await token(b, old["email"]), await token(b, new["email"]),
                  await token(a, senior["email"]))


async def remembered_joins(srv: Server) -> float:
    async with httpx.AsyncClient(base_url=srv.url, timeout=20) as http:
        text = (await http.get("/metrics", headers={"Authorization": f"Bearer {METRICS}"})).text
    found = re.search(r"^livesupport_remembered_joins_total ([0-9.e+]+)$", text, re.M)
    assert found, "no livesupport_remembered_joins_total in /metrics"
    return float(found.group(1))


async def test_a_person_moved_to_another_organisation_cannot_join_where_b_remembers_them(
        pair: tuple[Server, Server], redis_url: tuple[str, str]) -> None:
    a, b = pair
    d: Deployment = a.deployment  # type: ignore[attr-defined]
    tag = secrets.token_hex(3)
    who = await new_account(d, "client", org=f"Before {tag}")
    await new_account(d, "client", org=f"After {tag}")  # the organisation they will belong to
    tid = await open_ticket_as(a, who["email"], "Printer offline")
    topic = f"ticket:{tid}"
    bearer = await token(a, who["email"])
    async with ws_client(b, bearer) as c:  # B remembers their token, whose the ticket is, and its snapshot
        assert (await c.join(topic))["type"] == "joined"
        assert (await c.join(topic))["type"] == "joined"
    await livesupport(d, redis_url, "user", "set", "--email", who["email"], "--org", f"After {tag}")
    async with ws_client(b, bearer) as c:
        refused = await c.join(topic)
        assert refused["type"] == "reply" and refused["error"]["code"] == "forbidden", refused


async def test_a_ticket_moved_through_a_is_refused_at_once_to_its_old_organisation_on_b(
        pair: tuple[Server, Server]) -> None:
    a, b = pair
    m = await moving(a, b, "Filed under the wrong company")
    topic = f"ticket:{m.tid}"
    async with ws_client(b, m.old_bearer) as held, ws_client(b, m.new_bearer) as n:
        assert (await held.join(topic))["type"] == "joined"  # B remembers the ticket as the old organisation's
        assert (await n.join(topic))["error"]["code"] == "forbidden"
        await m.move(a)
        # B asks again for the socket it holds, with the join's rules: not as it remembered the ticket
        gone = await held.expect(lambda f: f["type"] == "left" and f["topic"] == topic, timeout=3)
        assert gone["reason"] == "access_changed"
    async with ws_client(b, m.old_bearer) as c, ws_client(b, m.new_bearer) as n:
        refused = await c.join(topic)
        assert refused["type"] == "reply" and refused["error"]["code"] == "forbidden", refused
        joined = await n.join(topic)
        assert joined["type"] == "joined" and joined["state"]["org"]["id"] == m.new_org, joined


async def test_a_remembered_snapshot_never_hides_what_was_delivered_since(pair: tuple[Server, Server]) -> None:
    """A reconnect with `since` gets every missed event exactly once, staff their internal notes, clients not."""
    a, b = pair
    d: Deployment = a.deployment  # type: ignore[attr-defined]
    client = await new_account(d, "client", org=f"Resume {secrets.token_hex(3)}")
    staff = await new_account(d, "staff", tier=2)
    tid = await open_ticket_as(a, client["email"], "Mail bounces")
    topic = f"ticket:{tid}"
    client_bearer, staff_bearer = await token(b, client["email"]), await token(b, staff["email"])
    async with ws_client(b, client_bearer) as first, ws_client(a, await token(a, staff["email"])) as writer:
        joined = await first.join(topic)
        seen = joined["seq"]
        before = await remembered_joins(b)
        async with ws_client(b, client_bearer) as again:  # nothing new: the remembered snapshot serves
            resumed = await again.join(topic, since=seen)
            assert resumed["type"] == "joined" and resumed["seq"] == seen
        assert await remembered_joins(b) > before

        await writer.join(topic)
        public = await writer.request({"type": "chat", "topic": topic, "body": "We are on it."})
        note = await writer.request({"type": "chat", "topic": topic, "body": "Relay misconfigured",
                                     "visibility": "internal"})
        later = await writer.request({"type": "chat", "topic": topic, "body": "Fixed, please retry."})
        assert public["ok"] and note["ok"] and later["ok"]
        await first.expect(type="event", topic=topic, seq=later["seq"])  # B has delivered them on the topic

        async with ws_client(b, client_bearer) as back:
            rejoined = await back.join(topic, since=seen)
            assert rejoined["type"] == "joined" and rejoined["seq"] == later["seq"], rejoined
            assert "pinned" not in rejoined["state"]  # a client's snapshot
            await back.request({"type": "ping"})  # a barrier: everything replayed came before the pong
            got = [f["seq"] for f in back.inbox if f["type"] == "event" and f["topic"] == topic]
            assert got == [public["seq"], later["seq"]]  # each once, in order; the internal note never
        async with ws_client(b, staff_bearer) as desk:
            caught_up = await desk.join(topic, since=seen)
            assert caught_up["seq"] == later["seq"] and "pinned" in caught_up["state"]  # a staff snapshot
            await desk.request({"type": "ping"})
            got = [f["seq"] for f in desk.inbox if f["type"] == "event" and f["topic"] == topic]
            assert got == [public["seq"], note["seq"], later["seq"]]


async def test_a_chat_from_a_socket_that_never_joined_is_refused_at_once_after_the_ticket_moved(
        pair: tuple[Server, Server]) -> None:
    """A socket may post to a ticket it has not joined (the API's clients do); B then answers "may they see it"
    from what it remembers of whose the ticket is, and forgets that when the ticket moves through A."""
    a, b = pair
    m = await moving(a, b, "Posted to without a join")
    topic = f"ticket:{m.tid}"
    async with ws_client(b, m.old_bearer) as o, ws_client(b, m.old_bearer) as watching, \
            ws_client(b, m.new_bearer) as n:
        for body in ("First, read from the database", "Second, from what B remembers"):
            sent = await o.request({"type": "chat", "topic": topic, "body": body})
            assert sent["ok"] is True, sent
        refused = await n.request({"type": "chat", "topic": topic, "body": "Not our ticket yet"})
        assert refused["error"]["code"] == "forbidden", refused
        assert (await watching.join(topic))["type"] == "joined"
        await m.move(a)
        # B has heard of the move once it takes the ticket from the socket that joined it
        gone = await watching.expect(lambda f: f["type"] == "left" and f["topic"] == topic, timeout=3)
        assert gone["reason"] == "access_changed"
        refused = await o.request({"type": "chat", "topic": topic, "body": "After the move"})
        assert refused["error"]["code"] == "forbidden", refused
        posted = await n.request({"type": "chat", "topic": topic, "body": "Ours now"})
        assert posted["ok"] is True, posted
