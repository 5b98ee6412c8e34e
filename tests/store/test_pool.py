"""PostgreSQL's pool checks a connection before lending it only when it has been idle (store/database.py
`PingWhenIdle`): one used a moment ago goes out unchecked, an idle one that died is replaced unseen."""

from __future__ import annotations

import asyncpg
import pytest
from sqlalchemy import exc, text

from livesupport.store.database import Database
from tests.conftest import PG_ADMIN, Deployment


async def _backend_pid(db: Database) -> int:
    async with db.read() as s:
        return int((await s.execute(text("SELECT pg_backend_pid()"))).scalar_one())


async def _cut(pid: int) -> None:
    """The server ends this connection, as a restart or a failover would."""
    admin = await asyncpg.connect(PG_ADMIN)
    try:
        assert await admin.fetchval("SELECT pg_terminate_backend($1)", pid)
        while await admin.fetchval("SELECT count(*) FROM pg_stat_activity WHERE pid = $1", pid):
            await admin.fetchval("SELECT pg_stat_clear_snapshot()")
    finally:
        await admin.close()


async def test_an_idle_connection_that_died_is_replaced_before_it_is_lent(postgres_deployment: Deployment) -> None:
    db = Database(postgres_deployment.database_url)
    try:
        assert db.ping is not None
        db.ping.window = 0.0  # every connection counts as idle: checked before it goes out
        first = await _backend_pid(db)
        await _cut(first)
        second = await _backend_pid(db)  # no error: the ping failed and the pool took a new connection
        assert second != first
    finally:
        await db.dispose()


async def test_a_connection_used_a_moment_ago_is_lent_without_a_round_trip(postgres_deployment: Deployment) -> None:
    db = Database(postgres_deployment.database_url)
    try:
        assert db.ping is not None
        db.ping.window = 3600.0  # every connection counts as just used: lent unchecked
        first = await _backend_pid(db)
        await _cut(first)
        with pytest.raises(exc.DBAPIError) as caught:  # unchecked, so its statement meets the cut
            await _backend_pid(db)
        assert caught.value.connection_invalidated
        assert await _backend_pid(db) != first  # the dead one was dropped; the next statement gets a new one
    finally:
        await db.dispose()
