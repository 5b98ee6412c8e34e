"""Transfers live over /ws: an outside party by their personal link (one topic, nothing else), staff on the board
and on a transfer, and a worker in its own process escalating a transfer that staff see at once (Redis)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from typing import Any

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from tests.conftest import Deployment
from tests.realtime.helpers import connected, http_get
from tests.utils import Client, Server, cli, csrf_of, run_server, signed_in
from tests.web.transfer_helpers import (
    answers,
    file_transfer,
    link_for,
    party_post,
    visitor,
    waiver_hash,
)


@asynccontextmanager
async def as_party(srv: Server, transfer_id: int, token: str, origin: str | None = None) -> AsyncIterator[Client]:
    url = f"{srv.ws_url}?party={token}&transfer={transfer_id}"
    async with connect(url, origin=origin or srv.url, open_timeout=10) as ws:  # type: ignore[arg-type]
        yield Client(ws)


async def filed_and_confirmed(srv: Server, d: Deployment) -> tuple[int, dict[int, dict[str, str]]]:
    given = answers()
    async with visitor(srv.url) as client:
        tid = await file_transfer(client, given)
        _, token = await link_for(d, given[1]["contact_email"])
        assert (await party_post(client, tid, token, "confirm")).status_code == 200
    return tid, given


def milestone(state: dict[str, Any], kind: str) -> dict[str, Any]:
    return next(m for m in state["milestones"] if m["kind"] == kind)


async def test_a_party_sees_their_transfer_live_and_nothing_else(server: Server) -> None:
    d: Deployment = server.deployment  # type: ignore[attr-defined]
    tid, given = await filed_and_confirmed(server, d)
    other, _ = await filed_and_confirmed(server, d)
    _, client_token = await link_for(d, given[1]["contact_email"])
    _, partner_token = await link_for(d, given[3]["partner_email"])
    await add_note(server, d, tid, "Staff-only: check the partner's contract first")
    async with as_party(server, tid, client_token) as party, connected(server, d, "engineer") as staff:
        joined = await party.join(f"transfer:{tid}")
        assert joined["type"] == "joined" and joined["state"]["you"] == "requester"
        assert milestone(joined["state"], "partner")["state"] == "active"
        assert all(not e["staff_only"] for e in joined["state"]["history"])
        assert "contract first" not in str(joined["state"]) and "email" not in joined["state"]["parties"]["requester"]
        for topic in (f"transfer:{other}", "transfers", "queue", f"user:{d.users['client']['id']}"):
            refused = await party.join(topic)
            assert refused["type"] == "reply" and refused["error"]["code"] == "forbidden", topic
        chat = await party.request({"type": "chat", "topic": "ticket:1", "body": "hi"})
        assert chat["ok"] is False

        board = await staff.join("transfers")
        assert any(r["id"] == tid for r in board["state"]["rows"])
        detail = await staff.join(f"transfer:{tid}")
        assert "contract first" in str(detail["state"])  # staff see their notes

        # The partner signs over HTTP: the party's page and staff hear it at once.
        async with visitor(server.url) as partner:
            page = await partner.get(f"/transfer/{tid}/p/{partner_token}")
            r = await partner.post(f"/transfer/{tid}/p/{partner_token}/sign", data={
                "csrf": csrf_of(page.text), "full_name": "Pat Old", "consent": "yes",
                "waiver_sha256": waiver_hash(page.text)})
            assert r.status_code == 303
        frame = await party.expect(lambda f: f["type"] == "transfer"
                                   and milestone(f["transfer"], "partner")["outcome"] == "signed")
        assert frame["topic"] == f"transfer:{tid}" and "waiver" not in frame["transfer"]
        row = await staff.expect(lambda f: f["type"] == "transfer" and f["topic"] == "transfers"
                                 and f["transfer"]["id"] == tid)
        assert row["transfer"]["done"] == 2
    log = server.log.read_text(errors="replace")
    assert client_token not in log  # a link is a credential: never logged (test_protocol: how a URL is masked)


async def add_note(srv: Server, d: Deployment, tid: int, note: str) -> None:
    async with signed_in(srv, d.users["engineer"]["email"]) as staff:
        page = await staff.get(f"/transfers/{tid}")
        r = await staff.post(f"/transfers/{tid}/note", data={"csrf": csrf_of(page.text), "note": note})
        assert r.status_code == 303


async def test_party_sockets_need_a_good_link_and_our_origin(server: Server) -> None:
    d: Deployment = server.deployment  # type: ignore[attr-defined]
    tid, given = await filed_and_confirmed(server, d)
    other, _ = await filed_and_confirmed(server, d)  # a transfer that exists, and is not this link's
    _, token = await link_for(d, given[1]["contact_email"])
    async with as_party(server, tid, token) as party:  # the genuine link, from our origin, opens its transfer
        assert (await party.join(f"transfer:{tid}"))["type"] == "joined"
    cases = [(tid, token, "http://evil.example", 4403), (tid, "forged.token.here", None, 4401),
             (other, token, None, 4401)]  # the last: a genuine link used for another transfer
    for target, bad_token, origin, code in cases:
        async with as_party(server, target, bad_token, origin) as party:
            with pytest.raises(ConnectionClosed) as closed:
                await party.ws.recv()
            assert closed.value.rcvd is not None and closed.value.rcvd.code == code, (target, origin)


async def test_a_client_cannot_open_the_board(server: Server) -> None:
    d: Deployment = server.deployment  # type: ignore[attr-defined]
    async with connected(server, d, "client") as client:
        for topic in ("transfers", "transfer:1"):
            refused = await client.join(topic)
            assert refused["error"]["code"] == "forbidden", topic


async def test_the_worker_in_its_own_process_escalates_live(postgres_deployment: Deployment,
                                                             redis_url: tuple[str, str]) -> None:
    url, prefix = redis_url
    d = postgres_deployment
    env = d.env(REDIS_URL=url, REDIS_PREFIX=prefix)
    async with run_server(env) as srv:
        srv.deployment = d  # type: ignore[attr-defined]
        tid, _ = await filed_and_confirmed(srv, d)
        view = (await http_get(srv, d, "engineer", f"/api/transfers/{tid}")).json()
        due = datetime.fromisoformat(milestone(view, "partner")["due_at"].replace("Z", "+00:00"))
        async with connected(srv, d, "engineer") as staff:
            await staff.join("transfers")
            run = await asyncio.to_thread(cli, d, "worker", "--once", "--now", (due + timedelta(minutes=5)).isoformat(),
                                          REDIS_URL=url, REDIS_PREFIX=prefix)
            assert run.returncode == 0 and "transfer escalations 0" not in run.stdout, run.stdout + run.stderr
            row = await staff.expect(lambda f: f["type"] == "transfer" and f["transfer"]["id"] == tid
                                     and f["transfer"]["needs_staff"])
            assert "goes on without the current partner" in row["transfer"]["escalation"]
