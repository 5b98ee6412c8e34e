"""Odd digits everywhere: every route, path id, query parameter and form or JSON field; never a 500.

The routes come from the app itself and the field names from the web tier's source, so a new route or a new
field is swept without anyone remembering to add it here.
"""

from __future__ import annotations

import asyncio
import json
import re
import secrets
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from starlette.routing import Route

from livesupport import settings as config
from livesupport.web.app import create_app
from tests.conftest import PASSWORD, Deployment, _deployment
from tests.utils import ROOT, Server, cli, csrf_of, run_server, signed_in, ws_client

ODD = ["²", "١٢", "１２", "+1", " 1", "1_0", "9" * 30, "-1", "0"]
JSON_NUMBERS: list[Any] = [2**63, 2**31, 10**30, -1, 0, 1.5, 1e308, True]
SECURITY = ("content-security-policy", "x-content-type-options", "x-frame-options", "referrer-policy")
#: A signed-in persona's own session would end here; these two are swept without a session instead.
ENDS_SESSION = {("POST", "/logout"), ("DELETE", "/api/tokens")}


def app_routes() -> list[tuple[str, str, list[str]]]:
    """(method, path template, id parameters) of every HTTP route the app serves."""
    app = create_app(config.load({"DATA_DIR": tempfile.mkdtemp(prefix="livesupport-routes-"), "SECRET_KEY": "k"}))
    out = []
    for route in app.web.routes:
        if isinstance(route, Route):
            ids = [n for n, c in route.param_convertors.items() if type(c).__name__ == "IdConvertor"]
            out += [(m, route.path, ids) for m in sorted((route.methods or set()) - {"HEAD"})]
    return out


def field_names() -> list[str]:
    """Every name the web tier reads from a form, a query, a JSON body or a frame (`x.get("name"`, ...)."""
    names: set[str] = set()
    sources = [*(ROOT / "livesupport" / "web").rglob("*.py"), ROOT / "livesupport" / "domain" / "transfers.py"]
    for path in sources:
        text = path.read_text()
        names |= set(re.findall(r'\.get(?:list)?\("([a-z_]+)"', text))
        names |= set(re.findall(r'(?:query_params|path_params|form|body|frame)\["([a-z_]+)"\]', text))
        names |= set(re.findall(r'_text\(form, "([a-z_]+)"', text))
    return sorted(names - {"csrf", "sid", "pending", "uid", "at"})


ROUTES, FIELDS = app_routes(), field_names()


def fill(template: str, ids: list[str], value: str, id_value: str) -> str:
    def one(match: re.Match[str]) -> str:
        name = match.group(1).split(":")[0]
        return quote(id_value if name in ids else value, safe="")
    return re.sub(r"{([^}]+)}", one, template)


async def new_people(d: Deployment) -> dict[str, tuple[str, str]]:
    """Accounts of this test's own: (email, role) for an admin, a Level 3 engineer, an org's admin and client."""
    tag = secrets.token_hex(3)
    org, domain = f"Odd Digits {tag}", f"odd{tag}.test"
    people = {"admin": ("admin", None, None), "staff": ("staff", None, "3"), "org_admin": ("domain_admin", org, None),
              "client": ("client", org, None)}
    out = {}
    for key, (role, org_name, tier) in people.items():
        email = f"{key.replace('_', '')}-{tag}@{domain}"
        args = ["user", "add", "--email", email, "--password", PASSWORD, "--role", role]
        args += ["--org", org_name] if org_name else []
        args += ["--tier", tier] if tier else []
        args += ["--domain", domain] if role == "domain_admin" else []
        made = await asyncio.to_thread(cli, d, *args)
        assert made.returncode == 0, made.stderr
        out[key] = (domain if role == "domain_admin" else email, role)
    return out


async def sweep(http: httpx.AsyncClient, csrf: str, signed: bool) -> list[str]:
    problems = []
    for method, template, ids in ROUTES:
        if signed and (method, template) in ENDS_SESSION:
            continue
        for value in ODD:
            paths = {fill(template, ids, value, value)}
            if ids:
                paths.add(fill(template, ids, value, "1"))
            for path in paths:
                data = {name: value for name in FIELDS}
                kwargs: dict[str, Any] = {"params": data, "headers": {"X-CSRF-Token": csrf}}
                if method in ("POST", "PUT", "PATCH"):
                    if path.startswith("/api/"):
                        kwargs["json"] = data
                    else:
                        kwargs["data"] = {**data, "csrf": csrf}
                r = await http.request(method, path, **kwargs)
                if r.status_code >= 500 or not all(h in r.headers for h in SECURITY):
                    problems.append(f"{method} {path} {value!r}: {r.status_code} {r.text[:160]!r}")
        if method == "POST" and template.startswith("/api/"):
            for number in JSON_NUMBERS:  # JSON numbers, written with json (orjson stops at 64 bits)
                path = fill(template, ids, "1", "1")
                r = await http.post(path, content=json.dumps({name: number for name in FIELDS}),
                                    headers={"X-CSRF-Token": csrf, "content-type": "application/json"})
                if r.status_code >= 500 or not all(h in r.headers for h in SECURITY):
                    problems.append(f"{method} {path} {number!r}: {r.status_code} {r.text[:160]!r}")
    return problems


@pytest.fixture(params=["sqlite", "postgres"])
async def swept(request: pytest.FixtureRequest) -> AsyncIterator[tuple[Server, Deployment]]:
    """A database and server of the sweep's own: its thousands of failed sign-ins and PIN checks lock the
    address it comes from, which must not lock out the other tests."""
    async for d in _deployment(request.param):
        async with run_server(d.env(CHAT_RATE="0")) as srv:
            yield srv, d


async def test_odd_digits_in_every_route_and_field_never_answer_500(swept: tuple[Server, Deployment]) -> None:
    assert len(ROUTES) > 60 and {"next", "page", "since", "staff_id", "step", "invoice"} <= set(FIELDS)
    server, deployment = swept
    people = await new_people(deployment)

    async def as_person(login: str) -> list[str]:
        async with signed_in(server, login) as http:
            page = await http.get("/account")
            csrf = re.search(r'name="csrf-token" content="([^"]+)"', page.text)
            assert csrf, page.text[:300]
            return await sweep(http, csrf.group(1), signed=True)

    async def anonymous() -> list[str]:
        async with httpx.AsyncClient(base_url=server.url, timeout=20) as http:
            return await sweep(http, csrf_of((await http.get("/login")).text), signed=False)

    found = await asyncio.gather(anonymous(), *(as_person(login) for login, _ in people.values()))
    problems = [p for part in found for p in part]
    assert not problems, f"{len(problems)} answers without a clear refusal:\n" + "\n".join(problems[:40])


@pytest.mark.parametrize("frame", [
    {"type": "join", "topic": "ticket:²"}, {"type": "join", "topic": "ticket:１２"},
    {"type": "join", "topic": "ticket:" + "9" * 30}, {"type": "join", "topic": "org:١٢"},
    {"type": "join", "topic": "transfer:+1"}, {"type": "join", "topic": "ticket:1_0"},
])
async def test_odd_topics_on_the_socket_are_refused(server: Server, deployment: Deployment,
                                                    frame: dict[str, Any]) -> None:
    from tests.conftest import token_for

    token = await token_for(server, deployment, "engineer")
    async with ws_client(server, token) as c:
        reply = await c.request(frame)
        assert reply["ok"] is False and reply["error"]["code"] in ("forbidden", "bad_request")
        assert (await c.request({"type": "ping"}))["type"] == "pong"  # and the connection goes on


@pytest.mark.parametrize("field", [
    '"since": 99999999999999999999999', '"since": -1', '"since": 1.5', '"since": "12"', '"since": true',
    '"since": 2147483648',
])
async def test_huge_or_odd_seqs_are_bad_requests(server: Server, deployment: Deployment, field: str) -> None:
    from tests.conftest import token_for

    token = await token_for(server, deployment, "client")
    async with httpx.AsyncClient(base_url=server.url) as http:
        r = await http.post("/api/tickets", json={"subject": "Odd seqs", "body": "Hello."},
                            headers={"Authorization": f"Bearer {token}"})
    ticket = r.json()["id"]
    async with ws_client(server, token) as c:
        await c.send(f'{{"type": "join", "topic": "ticket:{ticket}", {field}, "ref": "odd"}}')
        reply = await c.expect(lambda f: f.get("ref") == "odd" or f["type"] == "error")
        assert reply["type"] in ("reply", "error") and reply["error"]["code"] == "bad_request", reply
        assert (await c.join(f"ticket:{ticket}"))["type"] == "joined"


@pytest.mark.parametrize("args", [
    ["user", "add", "--email", "x@odd.test", "--password", PASSWORD, "--role", "staff", "--tier", "²"],
    ["user", "add", "--email", "x@odd.test", "--password", PASSWORD, "--role", "staff", "--tier", "٢"],
    ["service", "add", "--org", "Odd", "--name", "Mail", "--monthly-cents", "1_000"],
    ["service", "add", "--org", "Odd", "--name", "Mail", "--monthly-cents", "１０"],
    ["service", "add", "--org", "Odd", "--name", "Mail", "--monthly-cents", "9" * 30],
    ["service", "add", "--org", "Odd", "--name", "Mail", "--monthly-cents", "-5"],
    ["serve", "--port", "٨٠٠٠"], ["serve", "--port", "70000"], ["demo", "--port", " 80"],
])
async def test_cli_options_refuse_odd_numbers_clearly(sqlite_deployment: Deployment, args: list[str]) -> None:
    done = await asyncio.to_thread(cli, sqlite_deployment, *args)
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert "Traceback" not in done.stderr and "whole number" in done.stderr, done.stderr


def test_sources_hold_no_loose_number_parsing() -> None:
    """No isdigit/isdecimal/isnumeric, and no bare compare_digest, outside domain/numbers.py."""
    loose = []
    for path in (ROOT / "livesupport").rglob("*.py"):
        if path.name == "numbers.py" or "migrations" in path.parts:
            continue
        for n, line in enumerate(path.read_text().splitlines(), 1):
            if re.search(r"\.(isdigit|isdecimal|isnumeric)\(|compare_digest\(", line):
                loose.append(f"{Path(path).relative_to(ROOT)}:{n}: {line.strip()}")
    assert not loose, "\n".join(loose)


FRAME_FIELDS = [  # (type, the field holding a number)
    ("chat", "base_seq"), ("chat", "reply_to"), ("invite", "user_id"), ("pin", "seq"), ("seen", "seq"),
    ("task", "task_id"), ("task", "assignee_id"), ("assign", "assignees"),
]


@pytest.mark.parametrize("value", [2**63, 2**31, 9 * 10**29, -1, 1.5, True, "12", "²"])
async def test_odd_numbers_in_frame_fields_are_refused_clearly(server: Server, deployment: Deployment,
                                                               value: Any) -> None:
    from tests.conftest import token_for

    client, staff = await token_for(server, deployment, "client"), await token_for(server, deployment, "engineer2")
    async with httpx.AsyncClient(base_url=server.url) as http:
        r = await http.post("/api/tickets", json={"subject": "Odd frame fields", "body": "Hello."},
                            headers={"Authorization": f"Bearer {client}"})
    topic = f"ticket:{r.json()['id']}"
    async with ws_client(server, staff) as c:
        assert (await c.join(topic))["type"] == "joined"
        for kind, field in FRAME_FIELDS:
            frame: dict[str, Any] = {"type": kind, "topic": topic, field: [value] if field == "assignees" else value}
            frame.update({"chat": {"body": "Hi"}, "invite": {"message": "Join"}, "task": {"title": "T"}}.get(kind, {}))
            frame["ref"] = ref = f"{kind}-{field}"
            await c.send(json.dumps(frame))  # json, not orjson: it writes integers past 64 bits too
            reply = await c.expect(lambda f, ref=ref: f.get("ref") == ref)
            assert reply["type"] == "reply", (kind, field, reply)
            if reply["ok"] is False:
                assert reply["error"]["code"] in ("bad_request", "not_found", "forbidden", "conflict"), (kind, reply)
        assert (await c.request({"type": "ping"}))["type"] == "pong"


@pytest.mark.parametrize("transfer", ["²", "１２", "+1", "9" * 30, "0", "1_0"])
async def test_a_party_socket_with_an_odd_transfer_id_is_refused(server: Server, transfer: str) -> None:
    from websockets.asyncio.client import connect
    from websockets.exceptions import ConnectionClosed

    url = f"{server.ws_url}?transfer={quote(transfer)}&party=not-a-link"
    async with connect(url, origin=server.url, open_timeout=10) as ws:  # type: ignore[arg-type]
        with pytest.raises(ConnectionClosed) as closed:
            await asyncio.wait_for(ws.recv(), 10)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4401


@pytest.mark.parametrize("given", ["é", "１２３", "\u0661"])
async def test_a_non_ascii_csrf_token_is_refused_not_a_crash(server: Server, deployment: Deployment,
                                                             given: str) -> None:
    async with httpx.AsyncClient(base_url=server.url) as http:
        await http.get("/login")  # the session now holds a CSRF token to compare with
        page = await http.post("/login", data={"email": "x@y.test", "password": "p" * 10, "csrf": given})
    assert page.status_code == 403 and "expired" in page.text
    async with signed_in(server, deployment.users["client"]["email"]) as http:
        await http.get("/account")
        api = await http.post("/api/tickets", json={"subject": "CSRF", "body": "Hello."},
                              headers={"X-CSRF-Token": given.encode()})
        form = await http.post("/feedback", data={"page": "/", "body": "Fine.", "csrf": given})
    assert api.status_code == 403 and api.json()["error"]["code"] == "forbidden"
    assert form.status_code == 403


async def test_odd_one_time_codes_are_refused_not_a_crash(server: Server, deployment: Deployment) -> None:
    """Codes of other digits reached compare_digest, which raises on non-ASCII text: now they are read first."""
    import pyotp

    email = f"otp-{secrets.token_hex(3)}@acme.test"
    made = await asyncio.to_thread(cli, deployment, "user", "add", "--email", email, "--password", PASSWORD,
                                   "--role", "client", "--org", "Acme")
    assert made.returncode == 0, made.stderr
    async with signed_in(server, email) as http:
        account = await http.get("/account")
        started = await http.post("/account/2fa/start", data={"csrf": csrf_of(account.text)})
        secret = re.search(r'id="totp-secret">([A-Z2-7]+)<', started.text)
        assert secret
        await http.post("/account/2fa/confirm", data={"csrf": csrf_of(started.text),
                                                      "code": pyotp.TOTP(secret.group(1)).now()})
    async with signed_in(server, deployment.users["admin"]["email"]) as http:
        page = await http.get("/admin/app-keys")
        made_key = await http.post("/admin/app-keys", data={"csrf": csrf_of(page.text), "name": "Odd codes"})
        key = re.search(r'id="new-key">(lsk_[^<]+)<', made_key.text)
        assert key
    odd = ["１２３４５６", "١٢٣٤٥٦", "12345²", "+12345", "1_2345"]
    async with httpx.AsyncClient(base_url=server.url) as http:
        for code in odd:
            r = await http.post("/api/otp/verify", json={"email": email, "code": code},
                                headers={"Authorization": f"Bearer {key.group(1)}"})
            assert r.status_code == 400 and r.json()["error"]["code"] == "bad_request", (code, r.text)
    async with httpx.AsyncClient(base_url=server.url) as http:  # the sign-in's code step
        page = await http.get("/login")
        r = await http.post("/login", data={"email": email, "password": PASSWORD, "csrf": csrf_of(page.text)})
        assert r.headers["location"] == "/login/code"
        step = await http.get("/login/code")
        for code in odd:
            r = await http.post("/login/code", data={"code": code, "csrf": csrf_of(step.text)})
            assert r.status_code == 400 and "digits" in r.text, (code, r.status_code)
