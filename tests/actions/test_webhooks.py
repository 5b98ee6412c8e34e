"""Webhooks end to end: a real server, a real receiver on 127.0.0.1, and the webhook job run in the test with
an injected `now` (the server runs no worker), on SQLite and on PostgreSQL.

Endpoints of one organisation see only that organisation's tickets, so each test makes an organisation of its
own; desk-wide (admin) endpoints see every ticket, so tests look only at the tickets they opened.
"""

from __future__ import annotations

import asyncio
import secrets
import threading
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from livesupport.actions.mail import Mailer
from livesupport.actions.webhook_delivery import WebhookDeliveries
from livesupport.actions.webhooks import secret_cipher
from livesupport.clock import SystemClock
from livesupport.domain import webhooks as rules
from livesupport.store.database import Database
from livesupport.store.models import OutboxEmail, WebhookEndpoint
from tests.conftest import Deployment, _deployment, new_person, token_for
from tests.faults.helpers import wait_until
from tests.realtime.helpers import connected, open_ticket
from tests.utils import Server, free_port, run_server
from tests.webhook_receiver import receiver, signed_ok


@dataclass
class Desk:
    server: Server
    d: Deployment
    db: Database
    hooks: WebhookDeliveries

    async def run(self, at: datetime) -> str:
        """One run of the webhook job at `at`, as the worker does it."""
        return await self.hooks.run(at)

    async def api(self, who: str, method: str, path: str, body: Any = None) -> httpx.Response:
        token = await token_for(self.server, self.d, who)
        async with httpx.AsyncClient(base_url=self.server.url, timeout=30) as http:
            return await http.request(method, path, json=body, headers={"Authorization": f"Bearer {token}"})

    async def endpoint(self, who: str, url: str, events: list[str] | None = None, **extra: Any) -> dict[str, Any]:
        r = await self.api(who, "POST", "/api/webhooks", {"url": url, "events": events or list(rules.EVENTS),
                                                          **extra})
        assert r.status_code == 201, r.text
        return r.json()  # type: ignore[no-any-return]

    async def organisation(self) -> tuple[str, str]:
        """A new organisation: (its domain administrator, a client of it)."""
        tag = secrets.token_hex(3)
        admin = await new_person(self.d, role="domain_admin", org=f"Hooked {tag}", domain=f"hooked{tag}.test")
        client = await new_person(self.d, role="client", org=f"Hooked {tag}")
        return admin, client


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
async def desk(request: pytest.FixtureRequest) -> AsyncIterator[Desk]:
    async for d in _deployment(request.param):
        port = free_port()
        env = d.env(WORKER="separate", CHAT_RATE="0", WEBHOOK_ALLOW_LOCAL="1", BASE_URL=f"http://127.0.0.1:{port}")
        async with run_server(env, port=port) as srv:
            db = Database(d.database_url)
            hooks = WebhookDeliveries(db, SystemClock(), Mailer(db, SystemClock(), "desk@support.test"),
                                      secret_cipher("test-secret-key"), allow_local=True, base_url=srv.url)
            try:
                yield Desk(srv, d, db, hooks)
            finally:
                await db.dispose()


def later(seconds: float = 0) -> datetime:
    return datetime.now(UTC) + timedelta(seconds=seconds)


async def say(desk: Desk, who: str, ticket_id: int, body: str, visibility: str = "public") -> int:
    async with connected(desk.server, desk.d, who) as c:
        reply = await c.request({"type": "chat", "topic": f"ticket:{ticket_id}", "body": body,
                                 "visibility": visibility})
    assert reply["ok"], reply
    return int(reply["seq"])


async def set_status(desk: Desk, ticket_id: int, status: str) -> int:
    async with connected(desk.server, desk.d, "engineer") as c:
        reply = await c.request({"type": "status", "topic": f"ticket:{ticket_id}", "status": status})
    assert reply["ok"], reply
    return int(reply["seq"])


async def test_events_are_signed_and_a_wrong_secret_fails(desk: Desk) -> None:
    admin, client = await desk.organisation()
    with receiver() as box:
        made = await desk.endpoint(admin, box.url)
        secret = made["secret"]
        assert secret.startswith("whsec_") and "secret" not in (await desk.api(admin, "GET", "/api/webhooks")).text
        tid = await open_ticket(desk.server, desk.d, "Printer jams SIGNED-1", who=client)
        await say(desk, "engineer", tid, "Open tray 2 and pull the sheet out.")
        await set_status(desk, tid, "resolved")
        at = later(5)
        out = await desk.run(at)
        assert "webhook deliveries prepared" in out

        got = box.about(tid)
        assert [(r.json["seq"], r.json["event"]) for r in got] == [
            (1, "ticket.created"), (2, "ticket.message"), (3, "ticket.solved")]
        for r in got:
            h = r.headers
            assert signed_ok(secret, h["livesupport-timestamp"], h["livesupport-signature"], r.body)
            assert not signed_ok(secret + "x", h["livesupport-timestamp"], h["livesupport-signature"], r.body)
            assert not signed_ok("whsec_someone-else", h["livesupport-timestamp"], h["livesupport-signature"],
                                 r.body)
            assert rules.verify(secret, h["livesupport-timestamp"], h["livesupport-signature"], r.body, at)
            assert int(h["livesupport-timestamp"]) == int(at.timestamp())  # the injected instant
            assert h["livesupport-delivery"] == r.json["id"] and r.json["id"].startswith("whd_")
            assert h["livesupport-event"] == r.json["event"]
            assert r.json["ticket"]["id"] == tid and r.json["ticket"]["subject"] == "Printer jams SIGNED-1"
            assert r.json["visibility"] == "public"
        tampered = got[1].body.replace(b"tray 2", b"tray 3")
        assert not signed_ok(secret, got[1].headers["livesupport-timestamp"],
                             got[1].headers["livesupport-signature"], tampered)
        assert got[1].json["data"]["body"] == "Open tray 2 and pull the sheet out."
        assert got[0].json["actor"]["id"] == desk.d.users[client]["id"]

        await desk.run(later(600))  # nothing is sent twice
        assert len(box.about(tid)) == 3
        log = (await desk.api(admin, "GET", f"/api/webhooks/{made['id']}")).json()
        mine = [x for x in log["deliveries"] if x["ticket_id"] == tid]
        assert {(x["state"], x["status"], x["attempts"]) for x in mine} == {("delivered", 200, 1)}

        rotated = (await desk.api(admin, "POST", f"/api/webhooks/{made['id']}/rotate")).json()
        assert rotated["secret"] != secret
        await say(desk, client, tid, "Thanks, it works again.")
        await desk.run(later(10))
        last = box.about(tid)[-1]
        assert last.json["event"] == "ticket.message"
        assert signed_ok(rotated["secret"], last.headers["livesupport-timestamp"],
                         last.headers["livesupport-signature"], last.body)
        assert not signed_ok(secret, last.headers["livesupport-timestamp"], last.headers["livesupport-signature"],
                             last.body)
        await desk.api(admin, "DELETE", f"/api/webhooks/{made['id']}")


async def test_a_failing_delivery_is_retried_with_backoff_and_holds_back_its_ticket_only(desk: Desk) -> None:
    admin, client = await desk.organisation()
    with receiver() as box:
        made = await desk.endpoint(admin, box.url)
        stuck = await open_ticket(desk.server, desk.d, "Mail bounces RETRY-1", who=client)
        await say(desk, client, stuck, "Every message to gmail bounces.")
        other = await open_ticket(desk.server, desk.d, "Scanner RETRY-2", who=client)
        box.fail_tickets[stuck] = 2
        t0 = later(5)
        await desk.run(t0)
        assert [(r.json["seq"], r.answered) for r in box.about(stuck)] == [(1, 500)]  # seq 2 waits behind it
        assert box.delivered(other) == [(1, "ticket.created")]  # another ticket is not held back

        def stuck_rows(log: dict[str, Any]) -> list[dict[str, Any]]:
            return sorted((x for x in log["deliveries"] if x["ticket_id"] == stuck), key=lambda x: x["seq"])

        log = (await desk.api(admin, "GET", f"/api/webhooks/{made['id']}")).json()
        first, second = stuck_rows(log)
        assert (first["state"], first["attempts"], first["status"]) == ("pending", 1, 500)
        assert first["error"] == "the receiver answered 500" and first["response"] == "receiver failing on purpose"
        assert datetime.fromisoformat(first["last_attempt_at"]) == t0
        assert datetime.fromisoformat(first["next_attempt_at"]) == t0 + timedelta(seconds=30)
        assert (second["state"], second["attempts"]) == ("pending", 0)

        await desk.run(t0 + timedelta(seconds=20))  # before its time: not tried
        assert len(box.about(stuck)) == 1
        t1 = t0 + timedelta(seconds=31)
        await desk.run(t1)  # second try fails: the wait doubles
        assert [r.answered for r in box.about(stuck)] == [500, 500]
        first, _ = stuck_rows((await desk.api(admin, "GET", f"/api/webhooks/{made['id']}")).json())
        assert first["attempts"] == 2
        assert datetime.fromisoformat(first["next_attempt_at"]) - datetime.fromisoformat(first["last_attempt_at"]) \
            == timedelta(minutes=1)
        await desk.run(t1 + timedelta(seconds=45))
        assert len(box.about(stuck)) == 2
        await desk.run(t1 + timedelta(seconds=61))  # the third try succeeds, and seq 2 follows it in the same run
        assert [(r.json["seq"], r.answered) for r in box.about(stuck)] == [(1, 500), (1, 500), (1, 200), (2, 200)]
        ids = [r.json["id"] for r in box.about(stuck)]
        assert ids[0] == ids[1] == ids[2] != ids[3]  # one delivery id across its retries: receivers dedupe on it
        first, second = stuck_rows((await desk.api(admin, "GET", f"/api/webhooks/{made['id']}")).json())
        assert (first["state"], first["attempts"], second["state"]) == ("delivered", 3, "delivered")
        await desk.api(admin, "DELETE", f"/api/webhooks/{made['id']}")


async def test_internal_notes_never_reach_an_organisation_endpoint(desk: Desk) -> None:
    admin, client = await desk.organisation()
    with receiver() as org_box, receiver() as desk_box, receiver() as public_desk_box:
        org_ep = await desk.endpoint(admin, org_box.url)
        desk_ep = await desk.endpoint("admin", desk_box.url, internal=True)
        public_ep = await desk.endpoint("admin", public_desk_box.url)
        refused = await desk.api(admin, "POST", "/api/webhooks", {"url": org_box.url, "events": ["ticket.message"],
                                                                 "internal": True})
        assert refused.status_code == 403 and refused.json()["error"]["code"] == "forbidden"
        tid = await open_ticket(desk.server, desk.d, "VPN drops INTERNAL-1", who=client)
        await say(desk, "engineer", tid, "Their firewall is misconfigured again SECRET-NOTE", visibility="internal")
        await say(desk, "engineer", tid, "We are looking at it.")
        await desk.run(later(5))

        assert org_box.delivered(tid) == [(1, "ticket.created"), (3, "ticket.message")]
        assert all(b"SECRET-NOTE" not in r.body and b'"internal"' not in r.body for r in org_box.about(tid))
        assert public_desk_box.delivered(tid) == [(1, "ticket.created"), (3, "ticket.message")]
        assert desk_box.delivered(tid) == [(1, "ticket.created"), (2, "ticket.message"), (3, "ticket.message")]
        note = desk_box.about(tid)[1].json
        assert note["visibility"] == "internal" and "SECRET-NOTE" in note["data"]["body"]
        others = {r.json["ticket"]["org"]["id"] for r in org_box.requests}
        assert others == {desk.d.users[client]["org_id"]}  # nothing of another organisation's tickets
        for who, ep in ((admin, org_ep), ("admin", desk_ep), ("admin", public_ep)):
            await desk.api(who, "DELETE", f"/api/webhooks/{ep['id']}")


async def test_an_endpoint_failing_for_long_is_disabled_and_its_owner_told(desk: Desk) -> None:
    admin, client = await desk.organisation()
    with receiver() as box:
        made = await desk.endpoint(admin, box.url, ["ticket.created"])
        box.fail_all = True
        tickets = [await open_ticket(desk.server, desk.d, f"Down DISABLE-{i}", who=client) for i in range(2)]
        at = later(5)
        for _ in range(rules.DISABLE_AFTER):
            await desk.run(at)
            at += rules.LAST_RETRY
            shown = (await desk.api(admin, "GET", f"/api/webhooks/{made['id']}")).json()["endpoint"]
            if not shown["enabled"]:
                break
        assert not shown["enabled"] and "failed tries in a row" in shown["disabled_reason"]
        tries = len(box.requests)
        assert tries == rules.DISABLE_AFTER  # two tickets failing at each run
        await desk.run(at + timedelta(hours=2))
        assert len(box.requests) == tries  # disabled: nothing more is sent
        async with desk.db.read() as s:
            mails = list((await s.execute(select(OutboxEmail).where(
                OutboxEmail.to_addr == desk.d.users[admin]["email"]))).scalars())
        assert len(mails) == 1 and "disabled" in mails[0].subject and box.url in mails[0].body

        box.fail_all = False
        enabled = await desk.api(admin, "POST", f"/api/webhooks/{made['id']}/enable")
        assert enabled.json()["enabled"] and enabled.json()["failures_in_row"] == 0
        await desk.run(at + timedelta(hours=2, seconds=1))
        assert [box.delivered(t) for t in tickets] == [[(1, "ticket.created")]] * 2
        await desk.api(admin, "DELETE", f"/api/webhooks/{made['id']}")


async def test_a_slow_receiver_does_not_hold_up_the_others(desk: Desk) -> None:
    """The job sends concurrently: while one receiver sits on its request, another gets its own."""
    (admin, client), (other_admin, other_client) = await desk.organisation(), await desk.organisation()
    with receiver() as slow, receiver() as fast:
        slow.held = threading.Event()
        slow_ep, fast_ep = await desk.endpoint(admin, slow.url), await desk.endpoint(other_admin, fast.url)
        slow_ticket = await open_ticket(desk.server, desk.d, "Slow SLOW-1", who=client)
        fast_ticket = await open_ticket(desk.server, desk.d, "Fast SLOW-2", who=other_client)
        run = asyncio.create_task(desk.run(later(5)))
        try:
            await wait_until(lambda: slow.arrived == 1 and fast.delivered(fast_ticket) == [(1, "ticket.created")],
                             30, "the fast receiver's delivery while the slow one holds its request")
            assert not run.done() and slow.requests == []
        finally:
            slow.held.set()
        await run
        assert slow.delivered(slow_ticket) == [(1, "ticket.created")]
        await desk.api(admin, "DELETE", f"/api/webhooks/{slow_ep['id']}")
        await desk.api(other_admin, "DELETE", f"/api/webhooks/{fast_ep['id']}")


async def test_two_workers_at_once_send_each_delivery_once(desk: Desk) -> None:
    admin, client = await desk.organisation()
    with receiver() as box:
        made = await desk.endpoint(admin, box.url)
        tickets = [await open_ticket(desk.server, desk.d, f"Twice TWICE-{i}", who=client) for i in range(4)]
        for tid in tickets:
            await say(desk, "engineer", tid, "On it.")
        second_db = Database(desk.d.database_url)
        try:
            second = WebhookDeliveries(second_db, SystemClock(), Mailer(second_db, SystemClock(), "x@support.test"),
                                       desk.hooks.cipher, allow_local=True, base_url=None)
            at = later(5)
            await asyncio.gather(desk.run(at), second.run(at), desk.run(at), second.run(at))
        finally:
            await second_db.dispose()
        for tid in tickets:
            assert box.delivered(tid) == [(1, "ticket.created"), (2, "ticket.message")]
            assert len(box.about(tid)) == 2  # no try twice
        await desk.api(admin, "DELETE", f"/api/webhooks/{made['id']}")


async def test_the_test_button_sends_a_signed_ping(desk: Desk) -> None:
    admin, _ = await desk.organisation()
    with receiver() as box:
        made = await desk.endpoint(admin, box.url)
        r = await desk.api(admin, "POST", f"/api/webhooks/{made['id']}/test")
        assert r.status_code == 200, r.text
        assert (r.json()["state"], r.json()["status"], r.json()["event"]) == ("delivered", 200, "ping")
        (ping,) = box.requests
        assert ping.json["event"] == "ping" and ping.json["id"] == r.json()["id"]
        assert signed_ok(made["secret"], ping.headers["livesupport-timestamp"],
                         ping.headers["livesupport-signature"], ping.body)
        box.fail_all = True
        failed = (await desk.api(admin, "POST", f"/api/webhooks/{made['id']}/test")).json()
        assert (failed["state"], failed["status"], failed["error"]) == ("failed", 500, "the receiver answered 500")
        await desk.api(admin, "DELETE", f"/api/webhooks/{made['id']}")


@pytest.mark.parametrize("url", [
    "http://example.com/hook", "https://10.0.0.8/hook", "https://192.168.1.1/hook", "https://169.254.169.254/latest",
    "https://[fd00::1]/hook", "https://user:pw@example.com/hook", "ftp://example.com/hook", "https://printer.local/x",
    "https://0.0.0.0/hook", "http://127.0.0.1:1/hook#frag",
])
async def test_private_and_unsafe_addresses_are_refused(desk: Desk, url: str) -> None:
    admin, _ = await desk.organisation()
    r = await desk.api(admin, "POST", "/api/webhooks", {"url": url, "events": ["ticket.created"]})
    assert r.status_code == 400 and r.json()["error"]["code"] == "bad_url", r.text
    assert (await desk.api(admin, "GET", "/api/webhooks")).json() == {"endpoints": []}


async def test_a_name_resolving_to_a_private_address_is_not_connected_to(desk: Desk) -> None:
    """The address is checked again at send time, after resolving: DNS pointing inside gets nothing."""
    admin, client = await desk.organisation()
    with receiver() as box:
        made = await desk.endpoint(admin, box.url)
        port = box.url.split(":")[2].split("/")[0]
        aimed: list[tuple[str, int]] = []

        async def rebinding(host: str, p: int) -> list[str]:
            aimed.append((host, p))
            return ["10.1.2.3", "169.254.169.254"]

        hooks = WebhookDeliveries(desk.db, SystemClock(), desk.hooks.mailer, desk.hooks.cipher, allow_local=False,
                                  base_url=None, resolver=rebinding)
        async with desk.db.write() as s:
            ep = await s.get(WebhookEndpoint, made["id"])
            assert ep is not None
            ep.url = f"https://hooks.example.com:{port}/in"
        tid = await open_ticket(desk.server, desk.d, "Rebinding SSRF-1", who=client)
        await hooks.run(later(5))
        assert aimed and aimed[0] == ("hooks.example.com", int(port))
        assert box.requests == []
        log = (await desk.api(admin, "GET", f"/api/webhooks/{made['id']}")).json()
        (row,) = [x for x in log["deliveries"] if x["ticket_id"] == tid]
        assert row["status"] is None and "resolves to no public address" in row["error"]
        await desk.api(admin, "DELETE", f"/api/webhooks/{made['id']}")
