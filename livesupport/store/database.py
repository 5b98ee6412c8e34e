"""The engine and sessions; SQLite is tuned for a single busy process (WAL, busy timeout, one writer)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from functools import partial
from typing import Any

from sqlalchemy import event, exc
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from livesupport import metrics
from livesupport.domain.business_hours import DEFAULT_DESK, DeskHours


def upsert_insert(session: Any, model: Any) -> Any:
    """An INSERT that knows ON CONFLICT, in the session's own dialect (SQLite or PostgreSQL)."""
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    return postgresql.insert(model) if dialect == "postgresql" else sqlite.insert(model)


def desk_of(session: AsyncSession) -> DeskHours:
    """The business hours of the database this session writes to."""
    desk = session.info.get("desk")
    return desk if isinstance(desk, DeskHours) else DEFAULT_DESK


class Database:
    def __init__(self, url: str, *, wait_timeout: float = 10.0, echo: bool = False,
                 desk: DeskHours = DEFAULT_DESK) -> None:
        """`wait_timeout`: how long a write may wait for a lock before it is refused as retryable. `desk`: the
        business hours whose clock the write path reads for reports (every session carries it, see `desk_of`)."""
        self.url = url
        self.desk = desk
        self.is_sqlite = url.startswith("sqlite")
        kwargs: dict[str, Any] = {"echo": echo}
        wait_ms = int(wait_timeout * 1000)
        if self.is_sqlite:
            kwargs["connect_args"] = {"timeout": wait_timeout}
        else:
            # LIFO: the connection used last goes out next, so a busy desk keeps reusing a few warm ones (and
            # `PingWhenIdle` rarely pings); the rest can idle out.
            kwargs.update(pool_size=10, max_overflow=10, pool_use_lifo=True,
                          connect_args={"server_settings": {"lock_timeout": str(wait_ms)}})
        self.engine: AsyncEngine = create_async_engine(url, **kwargs)
        if self.is_sqlite:
            event.listen(self.engine.sync_engine, "connect", partial(_sqlite_pragmas, wait_ms))
        # before PoolWatch: a dead connection is replaced before it is counted out
        self.ping = None if self.is_sqlite else PingWhenIdle(self.engine)
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False, info={"desk": desk})
        self.pool = PoolWatch(self.engine)
        # SQLite has one writer at a time; queueing writers here instead of in
        # SQLite's busy loop keeps them fair and never answers "database is locked".
        self._write_lock = asyncio.Lock() if self.is_sqlite else None

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        async with self.sessions() as session:
            await self.pool.connect(session)
            yield session

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncSession]:
        """A transaction that commits on success and rolls back on any error."""
        if self._write_lock is None:
            async with self.sessions() as session, session.begin():
                await self.pool.connect(session)
                yield session
            return
        async with self._write_lock:
            async with self.sessions() as session, session.begin():
                await self.pool.connect(session)
                yield session

    @asynccontextmanager
    async def statement(self) -> AsyncIterator[AsyncSession]:
        """PostgreSQL: a session whose every statement is a transaction of its own (autocommit): one round trip
        where `write` takes three (BEGIN, the statement, COMMIT). Only for a write that is one statement, which
        then stores all of itself or nothing."""
        if self.is_sqlite:
            raise RuntimeError("SQLite writes go through `write` (its one writer at a time)")
        async with self.engine.connect() as conn:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            async with AsyncSession(bind=conn, expire_on_commit=False, info={"desk": self.desk}) as session:
                yield session

    @asynccontextmanager
    async def writer(self) -> AsyncIterator[Callable[[], AbstractAsyncContextManager[AsyncSession]]]:
        """One connection kept for a run of write transactions (a bulk change, ticket after ticket): it yields
        `transaction`, which opens one that commits on success and rolls back on any error, like `write`. Each
        transaction is still its own; on SQLite each takes the write lock on its own, so other writers go
        between them. Saves a pool checkout (and its ping) per transaction."""
        async with self.engine.connect() as conn:
            session = AsyncSession(bind=conn, expire_on_commit=False, info={"desk": self.desk})

            @asynccontextmanager
            async def transaction() -> AsyncIterator[AsyncSession]:
                if self._write_lock is None:
                    async with session.begin():
                        yield session
                    return
                async with self._write_lock, session.begin():
                    yield session

            try:
                yield transaction
            finally:
                await session.close()

    async def dispose(self) -> None:
        await self.engine.dispose()


class PingWhenIdle:
    """A pooled PostgreSQL connection is checked (a round trip) before it goes out only when it has been idle for
    `ALIVE_WINDOW` seconds or more: one used a moment ago is taken to be alive (HikariCP's rule, same window). A
    ping on every checkout (`pool_pre_ping`) cost every chat message a round trip. A connection that died within
    the window fails its statement; SQLAlchemy sees the disconnection and drops it, and the caller's error says
    to try again, as when a connection is cut mid-transaction."""

    ALIVE_WINDOW = 0.5

    def __init__(self, engine: AsyncEngine) -> None:
        self.window = self.ALIVE_WINDOW
        self.dialect = engine.sync_engine.dialect
        pool = engine.sync_engine.pool
        event.listen(pool, "connect", self._used)
        event.listen(pool, "checkin", self._used)
        event.listen(pool, "checkout", self._check)

    @staticmethod
    def _used(_dbapi_connection: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    def _check(self, dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        idle_since = record.info.get("idle_since")
        if idle_since is not None and time.monotonic() - idle_since < self.window:
            return
        try:
            self.dialect.do_ping(dbapi_connection)
        except Exception as e:  # the pool drops it and takes another (up to three times)
            raise exc.DisconnectionError(f"a pooled connection did not answer: {e}") from e


class PoolWatch:
    """How full the connection pool is (metrics): connections out now, the most ever out at once, and how long a
    session waited for its connection (a wait near `pool_timeout` means the pool ran dry)."""

    def __init__(self, engine: AsyncEngine) -> None:
        pool = engine.sync_engine.pool
        size, overflow = getattr(pool, "size", lambda: 0)(), getattr(pool, "_max_overflow", 0)
        self.capacity = size + overflow if size and overflow >= 0 else 0
        self.in_use = self.peak = 0
        metrics.DB_POOL_CAPACITY.set(self.capacity)
        event.listen(pool, "checkout", self._out)
        event.listen(pool, "checkin", self._in)

    def _out(self, *_: Any) -> None:
        self.in_use += 1
        metrics.DB_POOL_IN_USE.inc()
        if self.in_use > self.peak:
            self.peak = self.in_use
            metrics.DB_POOL_PEAK.set(max(self.peak, metrics.DB_POOL_PEAK._value.get()))

    def _in(self, *_: Any) -> None:
        self.in_use -= 1
        metrics.DB_POOL_IN_USE.dec()

    @staticmethod
    async def connect(session: AsyncSession) -> None:
        """Take the session's connection now, timing the wait (it would be taken at its first statement)."""
        started = time.perf_counter()
        await session.connection()
        metrics.DB_POOL_WAIT.observe(time.perf_counter() - started)


def _sqlite_pragmas(wait_ms: int, dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute(f"PRAGMA busy_timeout={wait_ms}")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()
