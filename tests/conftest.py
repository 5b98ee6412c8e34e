"""Fixtures: real databases (SQLite and PostgreSQL), the machine's Redis, real server processes."""

from __future__ import annotations

import asyncio
import os
import secrets
import tempfile
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

import httpx
import pytest

from livesupport.actions.accounts import Accounts
from livesupport.clock import SystemClock
from livesupport.store.database import Database
from livesupport.store.migrate import upgrade
from tests.utils import Server, run_server

IN_CI = os.environ.get("CI", "").lower() == "true"
PG_ADMIN = os.environ.get("TEST_PG_ADMIN", "postgresql://postgres@127.0.0.1:5432/test")
REDIS = os.environ.get("TEST_REDIS", "redis://127.0.0.1:6379/0")
PASSWORD = "correct horse battery staple"

USERS = {
    # name: (email, display name, role, tier, organisation)
    "client": ("alice@acme.test", "Alice Client", "client", None, "Acme"),
    "client2": ("bob@acme.test", "Bob Client", "client", None, "Acme"),
    "outsider": ("carol@globex.test", "Carol Outsider", "client", None, "Globex"),
    "engineer": ("dana@support.test", "Dana Engineer", "staff", 2, None),
    "engineer2": ("sam@support.test", "Sam Senior", "staff", 3, None),
    "domain_admin": ("it@acme.test", "Acme IT", "domain_admin", None, "Acme"),
    "admin": ("root@support.test", "Root Admin", "admin", None, None),
    "phone": ("lee@support.test", "Lee Phones", "staff", 1, None),  # Level 1: the phones
}
DOMAINS = {"Acme": "acme.test"}  # a domain administrator signs in with the bare domain


def unavailable(what: str) -> NoReturn:
    """A missing service (or Playwright) fails the run in CI and skips elsewhere."""
    if IN_CI:
        pytest.fail(f"{what} is required in CI", pytrace=False)
    pytest.skip(f"{what} is not available")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """With CI=true no test may skip, whatever skipped it: a skip there is a failure, saying why it skipped.
    The one exception: a test marked `container_engine` (building and running the image) may skip where no container
    engine runs, which CI machines do not promise; its reason is shown in the summary (`pytest -rs`)."""
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    if (IN_CI and report.skipped and item.get_closest_marker("container_engine") is not None
            and "no container engine" in str(report.longrepr)):
        return
    if IN_CI and report.skipped and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        report.longrepr = f"skipped in CI, which must run every test: {report.longrepr}"


@dataclass
class Deployment:
    """A database with the test users, and the servers running on it."""

    kind: str
    database_url: str
    data_dir: Path
    users: dict[str, dict[str, Any]] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)

    def env(self, **extra: str) -> dict[str, str]:
        return {"DATABASE_URL": self.database_url, "DATA_DIR": str(self.data_dir), "SECRET_KEY": "test-secret-key",
                "REDIS_URL": "", **extra}


async def _seed(url: str) -> dict[str, dict[str, Any]]:
    await asyncio.to_thread(upgrade, url)
    db = Database(url)
    accounts = Accounts(db, SystemClock())
    out = {}
    try:
        for key, (email, name, role, tier, org) in USERS.items():
            person = await accounts.add_user(email=email, password=PASSWORD, role=role, name=name, org=org, tier=tier,
                                             domain=DOMAINS.get(org) if role == "domain_admin" else None)
            out[key] = {"email": email, "password": PASSWORD, "id": person.id, "name": name, "org_id": person.org_id}
    finally:
        await db.dispose()
    return out


async def new_person(d: Deployment, role: str = "client", org: str | None = "Acme", tier: int | None = None,
                     domain: str | None = None) -> str:
    """An account of the test's own, for a test that changes what it is (preferences, two-factor, a lock, a
    removal): added to `d.users` under the key returned, so every helper that takes a user's key takes it.
    A domain administrator given `domain` signs in with it (a new organisation's, as one domain has one)."""
    tag = secrets.token_hex(4)
    key = f"{role}-{tag}"
    email = f"{role.replace('_', '-')}-{tag}@{domain or DOMAINS.get(org or '', 'support.test')}"
    db = Database(d.database_url)
    try:
        person = await Accounts(db, SystemClock()).add_user(email=email, password=PASSWORD, role=role,
                                                           name=f"Test {role} {tag}", org=org, tier=tier,
                                                           domain=domain)
    finally:
        await db.dispose()
    d.users[key] = {"email": email, "password": PASSWORD, "id": person.id, "name": person.name,
                    "org_id": person.org_id}
    return key


async def _postgres_database() -> str:
    import asyncpg

    name = f"livesupport_test_{secrets.token_hex(4)}"
    try:
        conn = await asyncpg.connect(PG_ADMIN, timeout=5)
    except (OSError, asyncpg.PostgresError) as exc:
        unavailable(f"PostgreSQL at {PG_ADMIN} ({exc})")
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return name


async def _drop_postgres_database(name: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(PG_ADMIN, timeout=5)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


def _pg_url(name: str) -> str:
    base = PG_ADMIN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://")
    return f"{base}/{name}"


@pytest.fixture(scope="session", params=["sqlite", "postgres"])
async def deployment(request: pytest.FixtureRequest) -> AsyncIterator[Deployment]:
    """Each test that uses it runs once on SQLite and once on PostgreSQL."""
    async for d in _deployment(request.param):
        yield d


@pytest.fixture(scope="session")
async def sqlite_deployment() -> AsyncIterator[Deployment]:
    async for d in _deployment("sqlite"):
        yield d


@pytest.fixture(scope="session")
async def postgres_deployment() -> AsyncIterator[Deployment]:
    async for d in _deployment("postgres"):
        yield d


async def _deployment(kind: str) -> AsyncIterator[Deployment]:
    data_dir = Path(tempfile.mkdtemp(prefix=f"livesupport-{kind}-"))
    pg_name = None
    if kind == "sqlite":
        url = f"sqlite+aiosqlite:///{data_dir / 'test.db'}"
    else:
        pg_name = await _postgres_database()
        url = _pg_url(pg_name)
    try:
        d = Deployment(kind, url, data_dir)
        d.users = await _seed(url)
        yield d
    finally:
        if pg_name:
            await _drop_postgres_database(pg_name)


@pytest.fixture(scope="session")
async def server(deployment: Deployment) -> AsyncIterator[Server]:
    """One server process per database, shared by the protocol tests.

    The per-person chat limit is off here: these tests write in bursts no person types (test_limits.py
    checks the limits on servers of their own).
    """
    async with run_server(deployment.env(CHAT_RATE="0")) as srv:
        srv.deployment = deployment  # type: ignore[attr-defined]
        yield srv


async def token_for(srv: Server, deployment: Deployment, who: str) -> str:
    key = f"{srv.url}|{who}"
    if key not in deployment.tokens:
        user = deployment.users[who]
        async with httpx.AsyncClient(base_url=srv.url) as http:
            r = await http.post("/api/tokens", json={"email": user["email"], "password": user["password"]})
            assert r.status_code == 201, r.text
            deployment.tokens[key] = r.json()["token"]
    return deployment.tokens[key]


@pytest.fixture(scope="session")
def redis_url() -> Iterator[tuple[str, str]]:
    """The machine's Redis with a key prefix of this run's own; every key under it is removed after."""
    import redis

    client = redis.Redis.from_url(REDIS, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.RedisError as exc:
        client.close()
        unavailable(f"Redis at {REDIS} ({exc})")
    prefix = f"lstest-{secrets.token_hex(4)}:"
    try:
        yield REDIS, prefix
    finally:
        keys = list(client.scan_iter(match=prefix + "*"))
        if keys:
            client.delete(*keys)
        client.close()


@pytest.fixture(scope="module")
def redis_cluster() -> Iterator[Any]:
    """A Redis Cluster of this module's own (3 masters, 3 replicas, loopback ports), removed after."""
    from tests.redis_cluster import local_cluster

    with local_cluster() as cluster:
        yield cluster


@dataclass
class LiveServer:
    """What the browser tests need: a URL, logins and a way to open a ticket."""

    url: str
    users: dict[str, tuple[str, str]]
    _server: Server
    _deployment: Deployment

    async def new_user(self, role: str = "client", org: str | None = "Acme") -> str:
        """An account of the test's own (see new_person), also in `users`; returns its key."""
        key = await new_person(self._deployment, role=role, org=org)
        self.users[key] = (self._deployment.users[key]["email"], PASSWORD)
        return key

    async def new_ticket(self, subject: str, body: str = "Please help.") -> int:
        token = await token_for(self._server, self._deployment, "client")
        async with httpx.AsyncClient(base_url=self.url) as http:
            r = await http.post("/api/tickets", json={"subject": subject, "body": body},
                                headers={"Authorization": f"Bearer {token}"})
            assert r.status_code == 201, r.text
            return int(r.json()["id"])


@pytest.fixture(scope="session")
async def live_server(sqlite_deployment: Deployment) -> AsyncIterator[LiveServer]:
    async with run_server(sqlite_deployment.env()) as srv:
        users = {k: (v["email"], v["password"]) for k, v in sqlite_deployment.users.items()}
        yield LiveServer(srv.url, users, srv, sqlite_deployment)
