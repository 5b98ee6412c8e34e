"""Access that ends, ends on open sockets too: a change made through one process reaches the sockets of another.

Each test holds a socket on server A, makes the change through server B or the `livesupport` command (a process
of its own), and checks that the socket is told `left` (or closed), hears nothing more of what it lost, and is
refused `forbidden` when it speaks there. Both servers share the machine's Redis and one database: SQLite, then
PostgreSQL.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy import select

from livesupport.store.database import Database
from livesupport.store.models import AccountAudit
from tests.conftest import Deployment
from tests.realtime.access_helpers import (
    closed_with,
    livesupport,
    new_account,
    open_ticket_as,
    serve_through,
    socket_of,
    token_of,
)
from tests.realtime.helpers import server_pair
from tests.utils import Server, csrf_of, signed_in
from tests.web.transfer_helpers import (
    answers,
    file_transfer,
    link_for,
    party_post,
    visitor,
    waiver_hash,
)


@pytest.fixture(scope="module")
async def pair(deployment: Deployment, redis_url: tuple[str, str]) -> AsyncIterator[tuple[Server, Server]]:
    async with server_pair(deployment, redis_url, CHAT_RATE="0") as servers:
        yield servers


def left(topic: str):  # noqa: ANN201
    return lambda f: f["type"] == "left" and f["topic"] == topic


def seqs_of(frames: list[dict], topic: str) -> list[int]:
    return [f["seq"] for f in frames if f.get("topic") == topic and f["type"] == "event"]


async def test_staff_made_client_leaves_other_tickets_and_the_queue_at_once(
        pair: tuple[Server, Server], redis_url: tuple[str, str]) -> None:
    a, b = pair
    d: Deployment = a.deployment  # type: ignore[attr-defined]
    tag = secrets.token_hex(3)
    client = await new_account(d, "client", org=f"Elsewhere {tag}")
    mover = await new_account(d, "staff", tier=2)
    await new_account(d, "client", org=f"Home {tag}")  # the organisation they will belong to
    tid = await open_ticket_as(a, client["email"], "Mail is down")
    topic = f"ticket:{tid}"
    async with socket_of(a, mover["email"]) as sock, socket_of(b, client["email"]) as author:
        for name in (topic, "queue", "transfers", f"user:{mover['id']}"):
            got = await sock.join(name)
            assert got["type"] == "joined", got
        await author.join(topic)

        await livesupport(d, redis_url, "user", "set", "--email", mover["email"], "--role", "client",
                          "--org", f"Home {tag}")
        gone = await sock.expect(left(topic), timeout=3)  # within a second (3 s of slack for a loaded test machine), from another process
        assert gone["reason"] == "access_changed" and gone["message"]
        await sock.expect(left("queue"), timeout=3)
        await sock.expect(left("transfers"), timeout=3)

        sent = await author.request({"type": "chat", "topic": topic, "body": "after the change"})
        assert sent["ok"] is True
        refused = await sock.request({"type": "chat", "topic": topic, "body": "still here?"})
        assert refused["ok"] is False and refused["error"]["code"] == "forbidden"
        again = await sock.join(topic)
        assert again["type"] == "reply" and again["error"]["code"] == "forbidden"
        assert sent["seq"] not in seqs_of(await sock.drain(), topic)
        assert (await sock.request({"type": "ping"}))["type"] == "pong"  # the socket itself stays: user:<id> is kept


async def test_staff_made_client_of_the_ticket_stops_hearing_internal_notes(
        pair: tuple[Server, Server], redis_url: tuple[str, str]) -> None:
    a, b = pair
    d: Deployment = a.deployment  # type: ignore[attr-defined]
    org = f"Dental {secrets.token_hex(3)}"
    client = await new_account(d, "client", org=org)
    mover = await new_account(d, "staff", tier=2)
    engineer = await new_account(d, "staff", tier=3)
    tid = await open_ticket_as(a, client["email"], "Scanner offline")
    topic = f"ticket:{tid}"
    async with socket_of(a, mover["email"]) as sock, socket_of(b, engineer["email"]) as eng:
        await sock.join(topic)
        await eng.join(topic)
        before = await eng.request({"type": "chat", "topic": topic, "body": "note before", "visibility": "internal"})
        await sock.expect(type="event", seq=before["seq"])

        await livesupport(d, redis_url, "user", "set", "--email", mover["email"], "--role", "client", "--org", org)
        # Still their organisation's ticket: kept, but from now on as a client sees it.
        await sock.expect(lambda f: f["type"] == "presence" and any(
            m["id"] == mover["id"] and m["role"] == "client" for m in f["members"]), timeout=5)
        note = await eng.request({"type": "chat", "topic": topic, "body": "internal after", "visibility": "internal"})
        public = await eng.request({"type": "chat", "topic": topic, "body": "public after"})
        await sock.expect(type="event", seq=public["seq"])
        assert note["seq"] not in seqs_of(await sock.drain() + sock.inbox, topic)
        refused = await sock.request({"type": "chat", "topic": topic, "body": "x", "visibility": "internal"})
        assert refused["ok"] is False and refused["error"]["code"] == "forbidden"


async def test_disabled_account_is_closed_4401_everywhere_and_cannot_sign_in(
        pair: tuple[Server, Server], redis_url: tuple[str, str]) -> None:
    a, b = pair
    d: Deployment = a.deployment  # type: ignore[attr-defined]
    client = await new_account(d, "client", org=f"Gone {secrets.token_hex(3)}")
    tid = await open_ticket_as(b, client["email"], "Printer")
    async with socket_of(a, client["email"]) as sock:
        await sock.join(f"ticket:{tid}")
        out = await livesupport(d, redis_url, "user", "disable", "--email", client["email"])
        assert "disabled" in out
        assert await closed_with(sock, timeout=5) == 4401
    for srv in (a, b):
        assert (await token_of(srv, client["email"])).status_code == 401

    db = Database(d.database_url)
    try:
        async with db.read() as s:
            rows = (await s.execute(select(AccountAudit).where(AccountAudit.user_id == client["id"]))).scalars().all()
    finally:
        await db.dispose()
    assert [r.action for r in rows] == ["disable"] and rows[0].actor.startswith("command line") and rows[0].at

    await livesupport(d, redis_url, "user", "enable", "--email", client["email"])
    assert (await token_of(a, client["email"])).status_code == 201


async def filed_by(d: Deployment, b: Server, client: dict, partner: dict, tag: str) -> tuple[int, dict]:
    """The client files a transfer away from their partner (signed in, so it is tied to their organisation) and
    confirms it: the partner's and the new provider's steps are open."""
    given = answers(tag)
    given[3] = {**given[3], "partner_org_id": str(partner["org_id"])}
    async with signed_in(b, client["email"]) as http:
        transfer = await file_transfer(http, given)
    async with visitor(b.url) as requester:
        _, token = await link_for(d, given[1]["contact_email"])
        assert (await party_post(requester, transfer, token, "confirm")).status_code == 200
    return transfer, given


async def sign_waiver(d: Deployment, b: Server, transfer: int, given: dict) -> None:
    _, partner_token = await link_for(d, given[3]["partner_email"])
    async with visitor(b.url) as signer:
        page = await signer.get(f"/transfer/{transfer}/p/{partner_token}")
        r = await signer.post(f"/transfer/{transfer}/p/{partner_token}/sign", data={
            "csrf": csrf_of(page.text), "full_name": "Pat Old", "consent": "yes",
            "waiver_sha256": waiver_hash(page.text)})
        assert r.status_code == 303, r.text[-1000:]


async def record_move(d: Deployment, b: Server, transfer: int, given: dict) -> None:
    """The partner objects, the new provider accepts, and staff record the move: the client leaves the partner."""
    _, partner_token = await link_for(d, given[3]["partner_email"])
    _, provider_token = await link_for(d, given[4]["provider_email"])
    async with visitor(b.url) as party:
        r = await party_post(party, transfer, partner_token, "object", reason="We were never told.")
        assert r.status_code == 200, r.text[-1000:]
        assert (await party_post(party, transfer, provider_token, "accept")).status_code == 200
    async with signed_in(b, d.users["engineer"]["email"]) as staff:
        page = await staff.get(f"/transfers/{transfer}")
        r = await staff.post(f"/transfers/{transfer}/move", data={"csrf": csrf_of(page.text), "note": ""})
        assert r.status_code == 303, r.text[-1000:]


@pytest.mark.parametrize("how", [sign_waiver, record_move], ids=["waiver", "move"])
async def test_partner_removed_from_the_client_leaves_the_clients_topics(
        pair: tuple[Server, Server], how) -> None:  # noqa: ANN001
    a, b = pair
    d: Deployment = a.deployment  # type: ignore[attr-defined]
    tag = secrets.token_hex(3)
    partner = await new_account(d, "partner", org=f"Old Partner {tag}")
    client = await new_account(d, "client", org=f"Harbour {tag}")
    await serve_through(d, client["org_id"], partner["org_id"])
    tid = await open_ticket_as(a, client["email"], "Backups failing")
    topic, counters = f"ticket:{tid}", f"org:{client['org_id']}"
    async with socket_of(a, partner["email"]) as sock, socket_of(b, client["email"]) as author:
        assert (await sock.join(topic))["type"] == "joined"
        assert (await sock.join(counters))["type"] == "joined"
        await author.join(topic)
        transfer, given = await filed_by(d, b, client, partner, tag)
        before = await author.request({"type": "chat", "topic": topic, "body": "before the change"})
        await sock.expect(type="event", seq=before["seq"])  # still the partner's client

        await how(d, b, transfer, given)
        await sock.expect(left(topic), timeout=3)
        await sock.expect(left(counters), timeout=3)
        assert await closed_with(sock, timeout=5) == 4403  # nothing left on it
        sent = await author.request({"type": "chat", "topic": topic, "body": "after the change"})
        assert sent["ok"] is True
        assert sent["seq"] not in seqs_of(sock.inbox, topic)
    async with socket_of(a, partner["email"]) as fresh:
        refused = await fresh.request({"type": "chat", "topic": topic, "body": "still ours?"})
        assert refused["ok"] is False and refused["error"]["code"] == "forbidden"
        assert (await fresh.join(topic))["error"]["code"] == "forbidden"


async def test_contact_removed_by_their_domain_administrator_is_closed_4401(pair: tuple[Server, Server]) -> None:
    a, b = pair
    d: Deployment = a.deployment  # type: ignore[attr-defined]
    org = f"Bakery {secrets.token_hex(3)}"
    boss = await new_account(d, "domain_admin", org=org)
    contact = await new_account(d, "client", org=org)
    tid = await open_ticket_as(a, contact["email"], "Till offline")
    async with socket_of(a, contact["email"]) as sock:
        await sock.join(f"ticket:{tid}")
        async with signed_in(b, boss["email"]) as http:
            page = await http.get("/org/contacts")
            r = await http.post("/org/contacts", data={"remove": str(contact["id"]), "csrf": csrf_of(page.text)})
            assert r.status_code == 303, r.text
        assert await closed_with(sock, timeout=5) == 4401
    assert (await token_of(a, contact["email"])).status_code == 401


async def test_ticket_moved_to_another_organisation_leaves_the_old_ones_sockets(pair: tuple[Server, Server]) -> None:
    a, b = pair
    d: Deployment = a.deployment  # type: ignore[attr-defined]
    tag = secrets.token_hex(3)
    old = await new_account(d, "client", org=f"Old Owner {tag}")
    new = await new_account(d, "client", org=f"New Owner {tag}")
    senior = await new_account(d, "staff", tier=3)
    junior = await new_account(d, "staff", tier=2)
    tid = await open_ticket_as(a, old["email"], "Filed under the wrong company")
    topic = f"ticket:{tid}"

    async def move(email: str, org_id: object) -> httpx.Response:
        token = (await token_of(b, email)).json()["token"]
        async with httpx.AsyncClient(base_url=b.url, timeout=20) as http:
            return await http.post(f"/api/tickets/{tid}/move", json={"org_id": org_id},
                                   headers={"Authorization": f"Bearer {token}"})

    async with socket_of(a, old["email"]) as sock, socket_of(a, new["email"]) as newcomer, \
            socket_of(a, senior["email"]) as staff:
        assert (await sock.join(topic))["type"] == "joined"
        assert (await sock.join(f"org:{old['org_id']}"))["type"] == "joined"
        assert (await newcomer.join(topic))["error"]["code"] == "forbidden"
        await staff.join(topic)

        refused = await move(junior["email"], new["org_id"])
        assert refused.status_code == 403 and refused.json()["error"]["code"] == "forbidden"
        assert (await move(senior["email"], "x")).status_code == 400
        assert (await move(senior["email"], 999_999)).status_code == 404
        moved = await move(senior["email"], new["org_id"])
        assert moved.status_code == 200, moved.text

        await sock.expect(left(topic), timeout=3)
        await sock.expect(type="ticket_gone", topic=f"org:{old['org_id']}", id=tid)  # off their live list too
        counts = await sock.expect(type="counters", topic=f"org:{old['org_id']}")
        assert counts["counts"]["open"] == 0, counts
        event = await staff.expect(type="event", seq=moved.json()["seq"])
        assert event["kind"] == "moved" and event["data"]["to"]["id"] == new["org_id"]
        assert moved.json()["seq"] not in seqs_of(sock.inbox, topic)  # staff-only: never reached the client
        chat = await sock.request({"type": "chat", "topic": topic, "body": "is it still ours?"})
        assert chat["ok"] is False and chat["error"]["code"] == "forbidden"
        assert (await newcomer.join(topic))["type"] == "joined"  # the new organisation's people gain it
        assert (await move(senior["email"], new["org_id"])).status_code == 409


async def test_a_lower_tier_applies_at_once_to_the_open_socket(
        pair: tuple[Server, Server], redis_url: tuple[str, str]) -> None:
    a, _ = pair
    d: Deployment = a.deployment  # type: ignore[attr-defined]
    client = await new_account(d, "client", org=f"Clinic {secrets.token_hex(3)}")
    senior = await new_account(d, "staff", tier=3)
    tid = await open_ticket_as(a, client["email"], "VPN drops")
    topic = f"ticket:{tid}"
    async with socket_of(a, senior["email"]) as sock:
        await sock.join(topic)
        note = await sock.request({"type": "chat", "topic": topic, "body": "guidance", "visibility": "internal"})
        assert (await sock.request({"type": "pin", "topic": topic, "seq": note["seq"]}))["ok"] is True

        await livesupport(d, redis_url, "user", "set", "--email", senior["email"], "--tier", "2")
        await sock.expect(lambda f: f["type"] == "presence" and any(
            m["id"] == senior["id"] and m.get("tier") == 2 for m in f["members"]), timeout=5)
        refused = await sock.request({"type": "pin", "topic": topic, "seq": None})
        assert refused["ok"] is False and refused["error"]["code"] == "forbidden"
        kept = await sock.request({"type": "chat", "topic": topic, "body": "still staff", "visibility": "internal"})
        assert kept["ok"] is True  # Level 2 is staff: the ticket and internal notes stay
