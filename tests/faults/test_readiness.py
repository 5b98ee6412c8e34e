"""/readyz follows the database for real (docs/operations.md): 503 while it does not answer, with /healthz still
200 (the process lives), and 200 again once it answers, without a restart."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from tests.conftest import PG_ADMIN, Deployment, _deployment
from tests.utils import Server, cli, free_port, run_server


@pytest.fixture
async def own_postgres() -> AsyncIterator[Deployment]:
    """A PostgreSQL database of this test's own: it is shut to connections here."""
    async for d in _deployment("postgres"):
        yield d


async def ready(srv: Server) -> tuple[int, dict[str, Any]]:
    async with httpx.AsyncClient(base_url=srv.url, timeout=30) as http:
        r = await http.get("/readyz")
        assert (await http.get("/healthz")).status_code == 200  # liveness does not depend on the database
    return r.status_code, r.json()


async def becomes(srv: Server, status: int, timeout: float = 30) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        got, body = await ready(srv)
        if got == status:
            return body
        if time.monotonic() > deadline:
            raise AssertionError(f"/readyz stayed {got} ({body}), expected {status}")
        await asyncio.sleep(0.1)


async def admin(sql: str, *args: object) -> None:
    conn = await asyncpg.connect(PG_ADMIN, timeout=5)
    try:
        await conn.execute(sql, *args)
    finally:
        await conn.close()


async def test_readyz_follows_a_postgresql_database_that_goes_away_and_comes_back(own_postgres: Deployment) -> None:
    d = own_postgres
    name = d.database_url.rsplit("/", 1)[1]
    async with run_server(d.env()) as srv:
        status, body = await ready(srv)
        assert status == 200 and body["database_ok"] is True and body["status"] == "ok"
        try:
            # The database refuses new connections and its open ones are cut, as when it is stopped or failed over.
            await admin(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
            await admin("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1", name)
            down = await becomes(srv, 503)
            assert down["database_ok"] is False and down["status"] == "degraded" and down["database"]
        finally:
            await admin(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
        up = await becomes(srv, 200)
        assert up["database_ok"] is True


async def test_readyz_is_503_on_a_postgresql_port_where_nothing_listens(tmp_path: Path) -> None:
    url = f"postgresql+asyncpg://postgres@127.0.0.1:{free_port()}/livesupport"
    data = str(tmp_path)
    async with run_server({"DATABASE_URL": url, "DATA_DIR": data, "SECRET_KEY": "k", "REDIS_URL": ""}) as srv:
        status, body = await ready(srv)
        assert status == 503 and body["database_ok"] is False


async def test_readyz_waits_for_a_sqlite_file_that_is_missing_or_unreadable(tmp_path: Path) -> None:
    root = tmp_path
    folder = root / "volume"  # not there yet, as a data volume that is not mounted
    d = Deployment("sqlite", f"sqlite+aiosqlite:///{folder / 'livesupport.db'}", root)
    async with run_server(d.env()) as srv:
        status, body = await ready(srv)
        assert status == 503 and body["database_ok"] is False and body["database"]
        folder.mkdir()
        (folder / "livesupport.db").write_bytes(b"this is not a database " * 200)  # there, but unreadable
        status, body = await ready(srv)
        assert status == 503 and body["database_ok"] is False
        (folder / "livesupport.db").unlink()
        migrated = await asyncio.to_thread(cli, d, "migrate")
        assert migrated.returncode == 0, migrated.stderr
        assert (await becomes(srv, 200))["database_ok"] is True
