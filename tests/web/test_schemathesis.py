"""The API against its own OpenAPI document, fuzzed by Schemathesis on a server and database of its own.

The document is fetched from the running server (/api/openapi.json). Every generated request is sent as a
client, as a Level 3 engineer and as billing staff (an application key for the one route that takes one);
each answer must not be a 5xx and must conform to the document: a documented status, its content type and
its schema. SQLite is enough here: the fuzz is about what the API accepts and answers, not about the database.

The run is bounded and reproducible (derandomized, no example database), so a failure comes back the same.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from livesupport import settings as config
from livesupport.actions.accounts import Accounts
from livesupport.actions.throttle import Throttle
from livesupport.actions.two_factor import TwoFactor
from livesupport.clock import SystemClock
from livesupport.domain.people import Person, Role
from livesupport.store.database import Database
from livesupport.web.app import create_app
from livesupport.web.openapi.document import api_routes, methods_of, openapi_path
from tests.conftest import Deployment, _deployment, new_person
from tests.utils import Server, cli, run_server

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
INVALID_CHECKS = [not_a_server_error, content_type_conformance]
ROLES = ("client", "engineer2", "billing")  # a client of Acme, a Level 3 engineer, billing staff
#: Webhook routes are also sent as the people who manage webhooks: Acme's domain administrator and an admin.
HOOK_ROLES = ("domain_admin", "admin")
EXAMPLES = 60
#: (METHOD, path) -> why the fuzz leaves it out, for a route whose effects must not be fuzzed (one that calls
#: out to addresses it is given, say). Each has a test of its own; keep this empty where possible.
NOT_FUZZED: dict[tuple[str, str], str] = {}
#: Sent as ROLES only (refused), never as HOOK_ROLES: the test event calls the endpoint's address at once, and
#: the fuzz may register any public https address. tests/actions/test_webhooks.py tests it with a real receiver.
CALLS_OUT = {"/api/webhooks/{endpoint_id}/test"}


class Fuzz:
    def __init__(self, server: Server, deployment: Deployment, tokens: dict[str, str], app_key: str) -> None:
        self.server, self.deployment, self.tokens, self.app_key = server, deployment, tokens, app_key
        self.session = requests.Session()

    def fresh_token(self, who: str) -> str:
        """A token of this person's own to revoke, issued straight into the database: POST /api/tokens is
        throttled per address, and the fuzzer's failed sign-ins from this address may have used that up."""
        return asyncio.run(_issue(self.deployment, who))


async def _issue(d: Deployment, who: str) -> str:
    db = Database(d.database_url)
    user = d.users[who]
    try:
        role = Role.BILLING if who == "billing" else Role.STAFF if who.startswith("engineer") else Role.CLIENT
        token, _ = await Accounts(db, SystemClock()).issue_token(Person(user["id"], user["name"], role))
        return token
    finally:
        await db.dispose()


async def _token(srv: Server, user: dict[str, Any]) -> str:
    async with httpx.AsyncClient(base_url=srv.url) as http:
        r = await http.post("/api/tokens", json={"email": user["email"], "password": user["password"]})
    assert r.status_code == 201, r.text
    return str(r.json()["token"])


async def _app_key(d: Deployment) -> str:
    db = Database(d.database_url)
    clock = SystemClock()
    admin = d.users["admin"]
    try:
        return await TwoFactor(db, clock, Throttle(db, clock)).create_app_key(
            Person(admin["id"], admin["name"], Role.ADMIN), "schemathesis")
    finally:
        await db.dispose()


async def _something_to_find(d: Deployment, srv: Server, client_token: str) -> None:
    """A ticket, a service and its invoices, so the small ids the fuzzer tries first (1, 2, …) exist."""
    for n in range(3):
        async with httpx.AsyncClient(base_url=srv.url) as http:
            r = await http.post("/api/tickets", json={"subject": f"Printer {n}", "body": "It jams."},
                                headers={"Authorization": f"Bearer {client_token}"})
        assert r.status_code == 201, r.text
    added = await asyncio.to_thread(cli, d, "service", "add", "--org", "Acme", "--name", "Backups",
                                    "--monthly-cents", "2500", "--started", "2026-09-10T09:00:00-04:00")
    assert added.returncode == 0, added.stderr
    billed = await asyncio.to_thread(cli, d, "worker", "--once", "--now", "2026-11-01T00:00:30-04:00")
    assert billed.returncode == 0, billed.stderr


async def _endpoints_to_find(srv: Server, tokens: dict[str, str]) -> None:
    """Webhook endpoints of Acme's and of the desk, so the fuzz reaches their log, rotation, enabling (and, last
    of the webhook routes, deletion). Registering calls nothing; no worker runs to deliver."""
    async with httpx.AsyncClient(base_url=srv.url) as http:
        for who in HOOK_ROLES:
            for n in range(2):
                r = await http.post("/api/webhooks", json={"url": f"https://hooks.example.com/{who}/{n}",
                                                           "events": ["ticket.message"]},
                                    headers={"Authorization": f"Bearer {tokens[who]}"})
                assert r.status_code == 201, r.text


@pytest.fixture(scope="module")
async def fuzz() -> AsyncIterator[Fuzz]:
    """A SQLite database and a server of the fuzzer's own: what it creates, moves or revokes stays there."""
    async for d in _deployment("sqlite"):
        billing = await new_person(d, role="billing", org=None)
        d.users["billing"] = d.users.pop(billing)
        hooks = await new_person(d, role="domain_admin", org="Acme")
        d.users["domain_admin"] = d.users.pop(hooks)
        # WORKER=separate and none runs: no delivery is ever made to an address the fuzz registers.
        async with run_server(d.env(CHAT_RATE="0", WORKER="separate")) as srv:
            tokens = {who: await _token(srv, d.users[who]) for who in (*ROLES, *HOOK_ROLES)}
            await _something_to_find(d, srv, tokens["client"])
            await _endpoints_to_find(srv, tokens)
            yield Fuzz(srv, d, tokens, await _app_key(d))


@pytest.fixture(scope="module")
def api_schema(fuzz: Fuzz) -> Any:
    return schemathesis.openapi.from_url(fuzz.server.url + "/api/openapi.json")


def _operations() -> list[tuple[str, str]]:
    """(METHOD, OpenAPI path) of every /api route of the app, so each operation is a test of its own."""
    routes = create_app(config.load({"SECRET_KEY": "only-the-route-table"})).web.routes
    every = [(method, openapi_path(path)) for path, route in api_routes(routes) for method in methods_of(route)]
    return [op for op in every if op not in NOT_FUZZED]


def _send(case: Any, fuzz: Fuzz, checks: list[Any]) -> None:
    hooks = case.path.startswith("/api/webhooks") and case.path not in CALLS_OUT
    for who in (*ROLES, *HOOK_ROLES) if hooks else ROLES:
        if case.method.upper() == "DELETE" and case.path == "/api/tokens":
            token = fuzz.fresh_token(who)  # revoking the shared token would sign the rest of the run out
        elif case.path == "/api/otp/verify":
            token = fuzz.app_key
        else:
            token = fuzz.tokens[who]
        case.call_and_validate(base_url=fuzz.server.url, session=fuzz.session, checks=checks,
                               headers={"Authorization": f"Bearer {token}"})
        if case.path == "/api/otp/verify":
            return  # one application key: the same answer whoever "asks"


@pytest.mark.parametrize(("method", "path"), _operations(), ids=lambda v: v)
def test_the_api_keeps_to_its_document(method: str, path: str, fuzz: Fuzz, api_schema: Any) -> None:
    """Valid requests: each answer is documented (status, type, schema). Invalid ones: never a 5xx."""
    operation = api_schema[path][method]

    @given(st.one_of(operation.as_strategy(GenerationMode.POSITIVE).map(lambda c: (c, CHECKS)),
                     operation.as_strategy(GenerationMode.NEGATIVE).map(lambda c: (c, INVALID_CHECKS))))
    @settings(max_examples=EXAMPLES, derandomize=True, database=None, deadline=None,
              suppress_health_check=list(HealthCheck))
    def fuzzed(drawn: tuple[Any, list[Any]]) -> None:
        _send(*drawn[:1], fuzz, drawn[1])

    fuzzed()


def test_the_fuzzed_server_is_still_well(fuzz: Fuzz) -> None:
    """After the fuzz the server still answers (nothing it was sent took it down)."""
    r = fuzz.session.get(fuzz.server.url + "/healthz", timeout=5)
    assert r.status_code == 200, r.text
