"""Live lists and counters: `queue` for staff, `org:<id>` for a client organisation, per person and live."""

from __future__ import annotations

import html
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from tests.conftest import Deployment, new_person
from tests.realtime.helpers import connected, list_row, open_ticket, server_pair
from tests.utils import Server, signed_in


@pytest.fixture
def d(server: Server) -> Deployment:
    return server.deployment  # type: ignore[attr-defined,no-any-return]


def counters(pred):  # noqa: ANN001, ANN201
    return lambda f: f["type"] == "counters" and pred(f["counts"])


def row(ticket_id: int, pred=lambda r: True):  # noqa: ANN001, ANN201
    return lambda f: f["type"] == "ticket" and f["ticket"]["id"] == ticket_id and pred(f["ticket"])


async def test_who_may_join_which_list(server: Server, d: Deployment) -> None:
    acme, globex = d.users["client"]["org_id"], d.users["outsider"]["org_id"]
    async with connected(server, d, "client") as client, connected(server, d, "engineer") as eng:
        assert (await client.request({"type": "join", "topic": "queue"}))["error"]["code"] == "forbidden"
        assert (await client.request({"type": "join", "topic": f"org:{globex}"}))["error"]["code"] == "forbidden"
        assert (await client.request({"type": "join", "topic": "org:99999"}))["error"]["code"] == "forbidden"
        assert (await client.request({"type": "join", "topic": "org:x"}))["error"]["code"] == "forbidden"
        joined = await client.join(f"org:{acme}")
        assert {"open", "unreviewed", "overdue", "waiting_on_you"} <= joined["state"]["counts"].keys()
        assert all(t["org"]["id"] == acme for t in joined["state"]["tickets"])
        staff = await eng.join("queue")
        assert {"open", "unreviewed", "overdue", "unassigned", "mine", "status_new"} <= staff["state"]["counts"].keys()


async def test_counters_and_rows_move_when_someone_else_acts(server: Server, d: Deployment) -> None:
    acme = d.users["client"]["org_id"]
    async with connected(server, d, "engineer") as eng, connected(server, d, "client2") as bob:
        start = (await eng.join("queue"))["state"]["counts"]
        bob_start = (await bob.join(f"org:{acme}"))["state"]["counts"]
        tid = await open_ticket(server, d, "Scanner offline", who="client")
        r = await eng.expect(row(tid))
        assert r["ticket"]["subject"] == "Scanner offline" and r["ticket"]["unreviewed"] is True
        c = await eng.expect(counters(lambda n: n["open"] == start["open"] + 1))
        assert c["counts"]["unassigned"] == start["unassigned"] + 1
        assert c["counts"]["unreviewed"] == start["unreviewed"] + 1
        # New to Bob too (a colleague opened it), and not to Alice who wrote it.
        await bob.expect(counters(lambda n: n["unreviewed"] == bob_start["unreviewed"] + 1))

        # The engineer opens the ticket: reviewed for them, still new to Bob; they show as viewing it.
        async with connected(server, d, "engineer") as eng_tab:
            await eng_tab.join(f"ticket:{tid}")
            await eng.expect(counters(lambda n: n["unreviewed"] == start["unreviewed"]))
            seen = await eng.expect(row(tid, lambda t: t["viewers"] == 1))
            assert seen["ticket"]["members"][0]["id"] == d.users["engineer"]["id"]
            await bob.expect(row(tid, lambda t: t["viewers"] == 1 and t["unreviewed"] is True))
            r = await eng_tab.request({"type": "assign", "topic": f"ticket:{tid}",
                                       "assignees": [d.users["engineer"]["id"]]})
            assert r["ok"]
            await eng.expect(counters(lambda n: n["mine"] == start["mine"] + 1
                                      and n["unassigned"] == start["unassigned"]))
            await eng.expect(row(tid, lambda t: [a["id"] for a in t["assignees"]] == [d.users["engineer"]["id"]]))
        await eng.expect(row(tid, lambda t: t["viewers"] == 0))

        # Status changes move the per-status counts and what waits on the client.
        async with connected(server, d, "engineer") as e2:
            await e2.request({"type": "status", "topic": f"ticket:{tid}", "status": "waiting_on_client"})
        await bob.expect(counters(lambda n: n["waiting_on_you"] == bob_start["waiting_on_you"] + 1))


async def new_to(server: Server, d: Deployment, who: str, ticket_id: int) -> bool:
    """Is the ticket "New to you" for this person, in the API's list and on the list page alike?"""
    flag = (await list_row(server, d, who, ticket_id))["unreviewed"]
    link, url = f'href="/tickets/{ticket_id}"', "/tickets?limit=100"
    async with signed_in(server, d.users[who]["email"]) as http:
        while link not in (page := (await http.get(url)).text):  # page by page, as the list's "Next page" goes
            following = re.search(r'id="next-page" href="([^"]+)"', page)
            assert following, f"ticket {ticket_id} is not on {who}'s list page"
            url = html.unescape(following.group(1))
    row_html = page[page.index(link):].split("</li>", 1)[0]
    assert ("New to you" in row_html) is flag, row_html
    return bool(flag)


async def test_ones_own_events_are_never_new_to_oneself(server: Server, d: Deployment) -> None:
    """The author's own ticket, message and file are read by the author; what others wrote stays new to them."""
    alice = await new_person(d, "client")
    dana = await new_person(d, "staff", org=None, tier=2)
    tid = await open_ticket(server, d, "Own ticket", who=alice)
    assert not await new_to(server, d, alice, tid)
    topic = f"ticket:{tid}"
    async with connected(server, d, alice) as mine, connected(server, d, dana) as eng:
        assert (await mine.request({"type": "chat", "topic": topic, "body": "One more thing."}))["ok"]
        assert not await new_to(server, d, alice, tid)
        await eng.join(topic)  # the engineer reads it, then writes without saying `seen`
        assert (await eng.request({"type": "chat", "topic": topic, "body": "Noted.", "visibility": "internal"}))["ok"]
        assert not await new_to(server, d, dana, tid)
        assert not await new_to(server, d, alice, tid)  # an internal note is nothing new to a client
        assert (await eng.request({"type": "chat", "topic": topic, "body": "On it."}))["ok"]
        assert await new_to(server, d, alice, tid)
        assert (await mine.request({"type": "chat", "topic": topic, "body": "Thanks!"}))["ok"]
        assert await new_to(server, d, alice, tid)  # her answer does not mark the engineer's message read


async def test_a_ticket_turns_overdue_by_itself(server: Server, d: Deployment) -> None:
    tid = await open_ticket(server, d, "Due soon")
    soon = (datetime.now(UTC) + timedelta(seconds=2)).isoformat()
    async with connected(server, d, "engineer") as eng:
        await eng.join("queue")
        r = await eng.request({"type": "status", "topic": f"ticket:{tid}", "status": "triage", "next_update_at": soon})
        assert r["ok"]
        await eng.expect(row(tid, lambda t: t["overdue"] is False and t["status"] == "triage"))
        # Nobody acts: the server notices the time passing.
        await eng.expect(row(tid, lambda t: t["overdue"] is True), timeout=10)


@pytest.fixture(scope="module")
async def pair(postgres_deployment: Deployment, redis_url: tuple[str, str]) -> AsyncIterator[tuple[Server, Server]]:
    async with server_pair(postgres_deployment, redis_url) as servers:
        yield servers


async def test_counters_and_notices_cross_processes(pair: tuple[Server, Server]) -> None:
    a, b = pair
    d: Deployment = a.deployment  # type: ignore[attr-defined]
    sam = d.users["engineer2"]
    async with connected(b, d, "engineer2") as on_b, connected(a, d, "engineer") as on_a:
        start = (await on_b.join("queue"))["state"]["counts"]
        await on_b.join(f"user:{sam['id']}")
        tid = await open_ticket(a, d, "Across processes")
        await on_b.expect(row(tid))
        await on_b.expect(counters(lambda n: n["open"] == start["open"] + 1))
        await on_a.join(f"ticket:{tid}")
        await on_b.expect(row(tid, lambda t: t["viewers"] == 1))  # presence made on a, shown on b
        r = await on_a.request({"type": "invite", "topic": f"ticket:{tid}", "user_id": sam["id"]})
        assert r["ok"]
        notice = await on_b.expect(type="notice")
        assert notice["ticket"]["id"] == tid and notice["kind"] == "invited"




async def test_a_page_that_only_wants_notices_gets_no_rows(server: Server, d: Deployment) -> None:
    acme = d.users["client"]["org_id"]
    async with connected(server, d, "client2") as banner, connected(server, d, "client2") as listing:
        joined = await banner.request({"type": "join", "topic": f"org:{acme}", "state": False})
        assert joined["type"] == "joined" and joined["state"] == {}
        await listing.join(f"org:{acme}")
        tid = await open_ticket(server, d, "Only the list hears of this")
        await listing.expect(row(tid))
        assert not [f for f in await banner.drain() if f["type"] in ("ticket", "counters")]
