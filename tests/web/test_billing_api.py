"""The billing API and the worker's command line, against real servers and databases.

Operators add services with `livesupport service add`; `livesupport worker --once --now` runs what is due at an
instant; two workers started at once on PostgreSQL still charge once.
"""

from __future__ import annotations

import asyncio
import os
import re
import secrets
import subprocess
import sys
from typing import Any

import asyncpg
import httpx
import pytest

from tests.conftest import PASSWORD, Deployment, token_for
from tests.utils import ROOT, Server, cli


@pytest.fixture
def d(server: Server) -> Deployment:
    return server.deployment  # type: ignore[attr-defined,no-any-return]


async def new_customer(d: Deployment, started: str = "2026-11-10T09:00:00-05:00") -> tuple[str, str, int]:
    """A new organisation with its domain administrator and one $25.00 service; (org name, admin e-mail, id)."""
    name = f"Clinic {secrets.token_hex(3)}"
    email = f"it@{name.split()[1]}.test"
    made = await asyncio.to_thread(cli, d, "user", "add", "--email", email, "--password", PASSWORD,
                                   "--role", "domain_admin", "--org", name)
    assert made.returncode == 0, made.stderr
    added = await asyncio.to_thread(cli, d, "service", "add", "--org", name, "--name", "Mail filtering",
                                    "--monthly-cents", "2500", "--started", started)
    assert added.returncode == 0, added.stderr
    service_id = int(re.search(r"added service (\d+)", added.stdout).group(1))  # type: ignore[union-attr]
    return name, email, service_id


async def worker(d: Deployment, now: str) -> str:
    done = await asyncio.to_thread(cli, d, "worker", "--once", "--now", now)
    assert done.returncode == 0, done.stderr
    return done.stdout


async def api(srv: Server, token: str, method: str, path: str, **kw: Any) -> httpx.Response:
    async with httpx.AsyncClient(base_url=srv.url) as http:
        return await http.request(method, path, headers={"Authorization": f"Bearer {token}"}, **kw)


async def login(srv: Server, email: str) -> str:
    async with httpx.AsyncClient(base_url=srv.url) as http:
        r = await http.post("/api/tokens", json={"email": email, "password": PASSWORD})
    assert r.status_code == 201, r.text
    return str(r.json()["token"])


async def test_a_month_through_the_api(server: Server, d: Deployment) -> None:
    name, email, service_id = await new_customer(d)
    admin = await login(server, email)
    staff_token = await token_for(server, d, "admin")
    orgs = (await api(server, staff_token, "GET", "/api/orgs")).json()["orgs"]
    org_id = next(o["id"] for o in orgs if o["name"] == name)
    assert [o["name"] for o in (await api(server, admin, "GET", "/api/orgs")).json()["orgs"]] == [name]

    # The worker bills every organisation of this database (other tests' too), and the shared server's own
    # in-process worker may already have billed this one for the month it runs in: so the counts only say
    # "nothing twice", and this organisation's own invoice says exactly what happened to it.
    async def lines() -> list[tuple[str, int]]:
        (invoice,) = (await api(server, admin, "GET", f"/api/orgs/{org_id}/invoices")).json()["invoices"]
        return [(line["kind"], line["cents"]) for line in invoice["lines"]]

    await worker(d, "2026-12-01T00:00:30-05:00")
    assert await lines() == [("service", 2500)]
    assert "invoices issued 0" in await worker(d, "2026-12-01T00:00:40-05:00")
    await worker(d, "2026-12-05T00:00:59-05:00")
    assert await lines() == [("service", 2500)]  # not before 00:01
    await worker(d, "2026-12-05T00:01:00-05:00")
    assert "fees added 0" in await worker(d, "2026-12-05T00:01:00-05:00")

    invoices = (await api(server, admin, "GET", f"/api/orgs/{org_id}/invoices")).json()["invoices"]
    (dec,) = invoices
    assert dec["period_start"] == "2026-12-01" and dec["status"] == "open"
    assert [(line["kind"], line["cents"]) for line in dec["lines"]] == [("service", 2500), ("late_fee", 3900)]
    assert dec["total_cents"] == 6400 and dec["amount_due_cents"] == 6400

    # Only billing staff record payments; amounts are whole cents.
    refused = await api(server, admin, "POST", f"/api/invoices/{dec['id']}/payments", json={"amount_cents": 6400})
    assert refused.status_code == 403
    for bad in (64.0, "6400", -1, 0, True):
        r = await api(server, staff_token, "POST", f"/api/invoices/{dec['id']}/payments", json={"amount_cents": bad})
        assert r.status_code == 400 and r.json()["error"]["code"] == "bad_request", bad
    too_much = await api(server, staff_token, "POST", f"/api/invoices/{dec['id']}/payments",
                         json={"amount_cents": 6401})
    assert too_much.status_code == 409
    part = await api(server, staff_token, "POST", f"/api/invoices/{dec['id']}/payments", json={"amount_cents": 2500})
    assert part.status_code == 201 and part.json()["amount_due_cents"] == 3900

    # Unpaid at 00:01 on the 15th: suspended, once, however often the worker runs.
    await worker(d, "2026-12-15T00:01:00-05:00")
    assert "organisations suspended 0" in await worker(d, "2026-12-15T00:02:00-05:00")
    standing = (await api(server, admin, "GET", f"/api/orgs/{org_id}")).json()
    assert standing["services"][0]["status"] == "suspended"
    rest = (await api(server, admin, "GET", f"/api/orgs/{org_id}/invoices")).json()["invoices"][0]
    assert rest["amount_due_cents"] == 3900 + 6900
    paid = await api(server, staff_token, "POST", f"/api/invoices/{dec['id']}/payments",
                     json={"amount_cents": 10800})
    assert paid.status_code == 201 and paid.json()["status"] == "paid"
    after = (await api(server, admin, "GET", f"/api/orgs/{org_id}")).json()
    assert after["standing"] == "good" and after["services"][0]["status"] == "active"

    # Another organisation's billing is not for this admin.
    other = next(o["id"] for o in orgs if o["name"] != name)
    assert (await api(server, admin, "GET", f"/api/orgs/{other}")).status_code == 403
    assert (await api(server, admin, "GET", f"/api/orgs/{other}/invoices")).status_code == 403
    assert service_id > 0


async def test_cancellation_preview_and_the_lock(server: Server, d: Deployment) -> None:
    _, email, service_id = await new_customer(d, started="2026-09-01T10:00:00-04:00")
    admin = await login(server, email)
    path = f"/api/billing/cancellation-preview?service={service_id}&at="
    open_ = (await api(server, admin, "GET", path + "2026-11-30T11:59:00-05:00")).json()
    assert open_["accepted"] is True and open_["months_billed"] == ["2026-12-01"]
    assert open_["end_of_service"] == "2026-12-31" and open_["refund_cents"] == 0
    locked = (await api(server, admin, "GET", path + "2026-11-30T12:00:00-05:00")).json()
    assert locked["accepted"] is False and locked["reason"] == "cancellation_locked"
    assert "no one" in locked["explanation"]
    waived = await api(server, admin, "GET", f"/api/billing/cancellation-preview?service={service_id}&waive=true")
    assert waived.status_code == 403  # only staff waive the notice
    bad = await api(server, admin, "GET", f"/api/billing/cancellation-preview?service={service_id}&at=tomorrow")
    assert bad.status_code == 400
    outsider = await token_for(server, d, "outsider")
    assert (await api(server, outsider, "GET", path + "2026-11-30T11:00:00-05:00")).status_code == 403
    done = await api(server, admin, "POST", f"/api/services/{service_id}/cancellation", json={})
    assert done.status_code == 201 and done.json()["accepted"] is True
    again = await api(server, admin, "POST", f"/api/services/{service_id}/cancellation", json={})
    assert again.status_code == 409 and again.json()["error"]["code"] == "conflict"


async def test_two_workers_at_once_on_postgresql(postgres_deployment: Deployment) -> None:
    d = postgres_deployment
    name, _, _ = await new_customer(d)
    env_args = ["worker", "--once", "--now", "2026-12-15T00:01:00-05:00"]
    env = {**os.environ, **d.env()}
    procs = [subprocess.Popen([sys.executable, "-m", "livesupport", *env_args], env=env, cwd=ROOT,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(3)]
    outs = await asyncio.to_thread(lambda: [p.communicate(timeout=120) for p in procs])
    assert all(p.returncode == 0 for p in procs), outs
    reports = " ".join(out for out, _ in outs)
    total_suspended = sum(int(n) for n in re.findall(r"organisations suspended (\d+)", reports))
    assert total_suspended >= 1
    conn = await asyncpg.connect(d.database_url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        rows = await conn.fetch(
            "SELECT l.kind, count(*) FROM invoice_lines l JOIN invoices i ON i.id = l.invoice_id "
            "JOIN organisations o ON o.id = i.org_id WHERE o.name = $1 GROUP BY l.kind ORDER BY l.kind", name)
    finally:
        await conn.close()
    assert [(r["kind"], r["count"]) for r in rows] == [("late_fee", 1), ("reconnection_fee", 1), ("service", 1)]


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
async def own_deployment(request: pytest.FixtureRequest) -> Any:
    """A database of this module's own: the worker runs below bill every organisation in it, and no other."""
    from tests.conftest import _deployment

    async for deployment in _deployment(request.param):
        yield deployment


async def test_the_organisations_list_shows_standing_and_owed_worst_first(own_deployment: Deployment) -> None:
    from datetime import UTC, datetime

    from livesupport.clock import FixedClock
    from tests.utils import clocked_server, csrf_of

    d = own_deployment
    tag = secrets.token_hex(3)
    names = {"suspended": f"Zulu {tag}", "late": f"Yankee {tag}", "good": f"Alpha {tag}", "none": f"Bravo {tag}"}
    for key, started in (("suspended", "2027-01-10T09:00:00-05:00"), ("late", "2027-02-10T09:00:00-05:00"),
                         ("good", "2027-03-10T09:00:00-05:00"), ("none", None)):
        made = await asyncio.to_thread(cli, d, "user", "add", "--email", f"it-{key}@{tag}.test", "--password",
                                       PASSWORD, "--role", "domain_admin", "--org", names[key])
        assert made.returncode == 0, made.stderr
        if started:
            added = await asyncio.to_thread(cli, d, "service", "add", "--org", names[key], "--name", "Mail",
                                            "--monthly-cents", "2500", "--started", started)
            assert added.returncode == 0, added.stderr
    billing_email = f"billing@{tag}.test"
    made = await asyncio.to_thread(cli, d, "user", "add", "--email", billing_email, "--password", PASSWORD,
                                   "--role", "billing")
    assert made.returncode == 0, made.stderr
    await worker(d, "2027-02-15T00:01:00-05:00")  # Zulu: February's invoice, both fees, suspended
    await worker(d, "2027-03-01T09:00:00-05:00")  # Zulu and Yankee: March's invoices
    at = datetime.fromisoformat("2027-03-02T09:00:00-05:00").astimezone(UTC)  # the 1st is over: Yankee is late
    async with clocked_server(d.env(), FixedClock(at)) as url, httpx.AsyncClient(base_url=url) as http:
        token = (await http.post("/api/tokens", json={"email": billing_email, "password": PASSWORD})).json()["token"]
        auth = {"Authorization": f"Bearer {token}"}
        expected = [(names["suspended"], "suspended", 2500 + 3900 + 6900 + 2500), (names["late"], "late", 2500),
                    (names["good"], "good", 0), (names["none"], "good", 0)]

        async def listed(**params: str) -> list[tuple[str, str, int]]:
            r = await http.get("/api/orgs", params=params, headers=auth)
            assert r.status_code == 200, r.text
            return [(o["name"], o["standing"], o["owed_cents"]) for o in r.json()["orgs"] if tag in o["name"]]

        assert await listed() == expected  # worst first
        assert await listed(sort="owed") == expected
        assert await listed(sort="name") == sorted(expected)
        bad = await http.get("/api/orgs", params={"sort": "loudest"}, headers=auth)
        assert bad.status_code == 400 and bad.json()["error"]["code"] == "bad_request"
        assert "standing, owed, name" in bad.json()["error"]["message"]

        page = await http.get("/login")
        r = await http.post("/login", data={"email": billing_email, "password": PASSWORD,
                                            "csrf": csrf_of(page.text), "next": ""})
        assert r.status_code == 303 and r.headers["location"] == "/billing/orgs"
        html = (await http.get("/billing/orgs")).text
        rows = re.findall(r'<tr data-org-id="\d+" data-standing="(\w+)" data-owed-cents="(\d+)">\s*<th scope="row">'
                          r'<a href="/billing/org/\d+">([^<]+)</a></th>\s*<td><span class="badge[^"]*">([^<]+)</span>'
                          r'</td>\s*<td class="billing-money">([^<]+)</td>', html)
        mine = [(name, standing, int(cents), words, money) for standing, cents, name, words, money in rows if tag in name]
        assert mine == [(names["suspended"], "suspended", 15800, "Services suspended", "$158.00"),
                        (names["late"], "late", 2500, "Payment overdue", "$25.00"),
                        (names["good"], "good", 0, "In good standing", "$0.00"),
                        (names["none"], "good", 0, "In good standing", "$0.00")]
        assert 'id="sort-standing" aria-current="true"' in html
        by_name = (await http.get("/billing/orgs", params={"sort": "name"})).text
        assert by_name.index(names["good"]) < by_name.index(names["none"]) < by_name.index(names["late"])
        assert 'id="sort-name" aria-current="true"' in by_name
