"""Accounts over HTTP and the CLI: tokens, exact passwords, throttling."""

from __future__ import annotations

import asyncio
import unicodedata

import httpx
import pytest

from tests.conftest import Deployment
from tests.realtime.helpers import http_get
from tests.utils import Server, cli


@pytest.fixture
def d(server: Server) -> Deployment:
    return server.deployment  # type: ignore[attr-defined,no-any-return]


async def token(srv: Server, email: str, password: str) -> httpx.Response:
    async with httpx.AsyncClient(base_url=srv.url) as http:
        return await http.post("/api/tokens", json={"email": email, "password": password})


async def test_wrong_credentials_answer_alike(server: Server, d: Deployment) -> None:
    unknown = await token(server, "nobody@nowhere.test", "whatever-password")
    wrong = await token(server, d.users["client2"]["email"], "not the password")
    assert unknown.status_code == wrong.status_code == 401
    assert unknown.json() == wrong.json()
    assert unknown.json()["error"]["code"] == "unauthorized"
    ok = await token(server, d.users["client2"]["email"].upper(), d.users["client2"]["password"])
    assert ok.status_code == 201 and ok.json()["token"] and ok.json()["expires_at"].endswith("Z")


PASSWORDS = {
    "emoji": "🔐 my 🐈 is called Mr. Whiskers 🎉",
    "quotes": "it's \"quoted\" `back` \\slash; DROP TABLE users;--",
    "spaces": "  leading and trailing spaces  ",
    "long": "".join(chr(0x41 + i % 26) for i in range(1000)),
}


async def test_every_character_of_a_password_counts(server: Server, d: Deployment) -> None:
    for i, (label, password) in enumerate(PASSWORDS.items()):
        email = f"exact-{label}-{d.kind}@acme.test"
        done = await asyncio.to_thread(cli, d, "user", "add", "--email", email, "--password", password,
                                       "--role", "client", "--org", "Acme")
        assert done.returncode == 0, done.stderr
        assert (await token(server, email, password)).status_code == 201, label
        near = {password.strip(), password[:-1], password + " ", password.upper() if i != 3 else password.lower()}
        near.discard(password)
        for variant in near:
            assert (await token(server, email, variant)).status_code == 401, (label, variant[:30])
    # the same password typed with a decomposed accent or a phone's no-break space matches
    email = f"accent-{d.kind}@acme.test"
    typed = "caf\u00e9 cr\u00e8me br\u00fbl\u00e9e"
    assert (await asyncio.to_thread(cli, d, "user", "add", "--email", email, "--password", typed, "--role", "client",
                                    "--org", "Acme")).returncode == 0
    assert (await token(server, email, unicodedata.normalize("NFD", typed))).status_code == 201
    assert (await token(server, email, typed.replace(" ", "\u00a0"))).status_code == 201


async def test_cli_refuses_clearly(server: Server, d: Deployment) -> None:
    no_org = await asyncio.to_thread(cli, d, "user", "add", "--email", "x@y.test", "--password", "long enough pw",
                                     "--role", "client")
    assert no_org.returncode == 2 and "--org" in no_org.stderr
    short = await asyncio.to_thread(cli, d, "user", "add", "--email", "x@y.test", "--password", "short",
                                    "--role", "client", "--org", "Acme")
    assert short.returncode == 2 and "at least 8" in short.stderr
    dup = await asyncio.to_thread(cli, d, "user", "add", "--email", d.users["client"]["email"],
                                  "--password", "long enough pw", "--role", "client", "--org", "Acme")
    assert dup.returncode == 2 and "already an account" in dup.stderr
    staff = await asyncio.to_thread(cli, d, "user", "add", "--email", "s@y.test", "--password", "long enough pw",
                                    "--role", "staff")
    assert staff.returncode == 2 and "tier" in staff.stderr


async def test_guessing_is_throttled(server: Server, d: Deployment) -> None:
    email = f"target-{d.kind}@acme.test"
    assert (await asyncio.to_thread(cli, d, "user", "add", "--email", email, "--password", "the right one!",
                                    "--role", "client", "--org", "Acme")).returncode == 0
    for _ in range(10):
        assert (await token(server, email, "a wrong guess")).status_code == 401
    locked = await token(server, email, "the right one!")
    assert locked.status_code == 429 and locked.json()["error"]["code"] == "rate_limited"
    assert int(locked.headers["retry-after"]) > 0 and "Try again in" in locked.json()["error"]["message"]


async def test_api_refusals(server: Server, d: Deployment) -> None:
    async with httpx.AsyncClient(base_url=server.url) as http:
        assert (await http.post("/api/tickets", json={"subject": "x", "body": "y"})).status_code == 401
        r = await http.get("/api/tickets/1", headers={"Authorization": "Bearer nonsense"})
        assert r.status_code == 401 and r.json()["error"]["code"] == "unauthorized"
        client = (await token(server, d.users["client"]["email"], d.users["client"]["password"])).json()["token"]
        staff = (await token(server, d.users["engineer"]["email"], d.users["engineer"]["password"])).json()["token"]
        auth = {"Authorization": f"Bearer {client}"}
        cases = [
            (b"{nope", 400, "bad_request"),
            (b"[]", 400, "bad_request"),
            (b'{"subject": "", "body": "y"}', 400, "bad_request"),
            (b'{"subject": "ok", "body": ""}', 400, "bad_request"),
            (b'{"subject": "ok", "body": "y", "priority": "yesterday"}', 400, "bad_request"),
            (('{"subject": "ok", "body": "%s"}' % ("y" * 10_001)).encode(), 413, "too_large"),
            (b'{"subject": "ok", "body": "y", "org_id": 999}', 403, "forbidden"),
        ]
        for raw, status, code in cases:
            r = await http.post("/api/tickets", content=raw, headers={**auth, "Content-Type": "application/json"})
            assert (r.status_code, r.json()["error"]["code"]) == (status, code), raw[:60]
        r = await http.post("/api/tickets", json={"subject": "for whom?", "body": "y"},
                            headers={"Authorization": f"Bearer {staff}"})
        assert r.status_code == 400 and "org_id" in r.json()["error"]["message"]
        r = await http.post("/api/tickets", json={"subject": "on behalf", "body": "y",
                                                  "org_id": d.users["client"]["org_id"]},
                            headers={"Authorization": f"Bearer {staff}"})
        assert r.status_code == 201 and r.json()["org"]["id"] == d.users["client"]["org_id"]
        r = await http.get(f"/api/tickets/{r.json()['id']}/events?since=x", headers=auth)
        assert r.status_code == 400
        listed = (await http.get("/api/tickets", headers=auth)).json()["tickets"]
        assert listed and all(t["org"]["id"] == d.users["client"]["org_id"] for t in listed)


async def test_ids_too_long_for_the_database_are_simply_not_found(server: Server, d: Deployment) -> None:
    r = await http_get(server, d, "client", "/api/tickets/99999999999999999999999")
    assert r.status_code == 404
    for big in ("2147483647", "2147483648", "9999999999"):  # the largest id; beyond: nothing, answered alike
        r = await http_get(server, d, "client", f"/api/tickets/{big}")
        assert r.status_code == 403 and r.json()["error"]["code"] == "forbidden"
        assert (await http_get(server, d, "client", f"/api/tickets/1/events?since={big}0")).status_code == 400
