"""How long a bulk change of 500 tickets takes, until every event has reached a socket on another process.

Seeds a database (500 tickets over 50 organisations, a Level 3 engineer who makes the change and two engineers to
assign), starts `livesupport serve` on it (PostgreSQL: two processes sharing Redis; SQLite: one process, as it is
deployed) and opens a watcher: one WebSocket, on the other process where there is one, joined to the staff queue
and to every one of the 500 tickets. Then, in rounds that alternate between the databases, it changes all 500
tickets the way the list's bulk bar does (POST /api/tickets/bulk, 100 ids a request, one request after the other):

- `full`: priority, status and an engineer at once (three events a ticket: 1,500 events), alternating values so
  every round changes something;
- `status`: the status alone (one event a ticket).

For each change it records the time until the last HTTP answer and the time until the watcher had every event,
and checks that the watcher got exactly the events expected, one per changed part per ticket, in seq order.

    .venv/bin/python bench/bulk.py                                   # SQLite and PostgreSQL, 5 rounds
    .venv/bin/python bench/bulk.py --db postgres --rounds 3 --tickets 500
    git archive <commit> | tar -x -C /tmp/before && .venv/bin/python bench/bulk.py --before /tmp/before

With --before, the older code runs too, on databases and servers of its own, in the same rounds (interleaved with
this code's runs, so both meet the same moments of a shared machine). Before each change the bench waits until the
watcher has had nothing for a second (the joins' read marks and the lists' refreshes are done).

PostgreSQL is the machine's (postgres@127.0.0.1:5432, as the tests); the bench makes a database of its own and
drops it at the end. Redis is the machine's (127.0.0.1:6379) under a key prefix of its own.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import shutil
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import insert, select
from websockets.asyncio.client import ClientConnection, connect

from livesupport.actions.accounts import Accounts
from livesupport.clock import SystemClock
from livesupport.store.database import Database
from livesupport.store.migrate import upgrade
from livesupport.store.models import Organisation, Ticket, User

sys.path.insert(0, str(Path(__file__).resolve().parent))
from ticket_listing import PASSWORD, PG_ADMIN, ROOT, _start, healthy  # noqa: E402

REDIS = os.environ.get("BENCH_REDIS", "redis://127.0.0.1:6379/0")
CHUNK = 100  # what the bulk bar sends per request (static/bulk.js)
STAFF_EMAIL = "lee@support.bench"


@dataclass
class Watcher:
    """One socket joined to the queue and every ticket; collects the events it is sent."""

    ws: ClientConnection
    events: dict[int, list[tuple[int, str]]] = field(default_factory=lambda: defaultdict(list))
    rows: int = 0
    count: int = 0
    arrived: asyncio.Event = field(default_factory=asyncio.Event)
    want: int = 0
    ready: asyncio.Event = field(default_factory=asyncio.Event)
    last: float = 0.0  # when a frame last arrived

    async def settle(self, quiet: float = 1.0) -> None:
        """Wait until nothing has arrived for `quiet` seconds: what a change set going in the background (the
        joins' read marks, the lists' refreshes) is done and does not fall into the next measurement."""
        deadline = time.monotonic() + 120
        while time.monotonic() - self.last < quiet and time.monotonic() < deadline:  # noqa: ASYNC110 - quiet
            await asyncio.sleep(0.1)

    async def read(self) -> None:
        async for raw in self.ws:
            self.last = time.monotonic()
            frame = json.loads(raw)
            if frame.get("type") == "event":
                self.events[int(frame["topic"].split(":")[1])].append((frame["seq"], frame["kind"]))
                self.count += 1
                if self.count >= self.want:
                    self.arrived.set()
            elif frame.get("type") == "ticket":
                self.rows += 1
            elif frame.get("type") == "pong":
                self.ready.set()

    async def join(self, topic: str) -> None:
        await self.ws.send(json.dumps({"type": "join", "topic": topic, "since": 0, "ref": topic}))


async def seed(url: str, count: int) -> dict[str, Any]:
    await asyncio.to_thread(upgrade, url)
    db = Database(url)
    now = datetime.now(UTC)
    try:
        lee = await Accounts(db, SystemClock()).add_user(email=STAFF_EMAIL, password=PASSWORD, role="staff",
                                                         name="Lee Bench", tier=3)
        async with db.write() as s:
            await s.execute(insert(Organisation), [
                {"name": f"Bulk Org {i}", "kind": "client", "created_at": now} for i in range(50)])
            orgs = list((await s.execute(select(Organisation.id).where(
                Organisation.name.like("Bulk Org %")))).scalars())
            engineers = [(await s.execute(insert(User).values(
                email=f"eng{i}@support.bench", name=f"Engineer {i}", password_hash="!", role="staff", tier=2,
                created_at=now).returning(User.id))).scalar_one() for i in range(2)]
            ids = list((await s.execute(insert(Ticket).returning(Ticket.id), [
                {"org_id": orgs[i % len(orgs)], "opened_by": lee.id, "subject": f"Bulk ticket {i}", "status": "new",
                 "priority": "normal", "last_seq": 0, "last_public_seq": 0, "created_at": now, "updated_at": now,
                 "public_updated_at": now} for i in range(count)])).scalars())
        return {"ids": sorted(ids), "engineers": engineers}
    finally:
        await db.dispose()


@asynccontextmanager
async def servers(url: str, data_dir: str, processes: int, code: Path) -> AsyncIterator[list[str]]:
    env = {**os.environ, "DATABASE_URL": url, "DATA_DIR": data_dir, "SECRET_KEY": "bench", "REDIS_URL": REDIS,
           "REDIS_PREFIX": f"bench-bulk-{secrets.token_hex(4)}:", "WORKER": "separate", "WS_RATE": "0",
           "PYTHONUNBUFFERED": "1"}
    procs, bases = [], []
    try:
        for n in range(processes):
            port = 20000 + secrets.randbelow(20000)
            log = Path(data_dir) / f"server{n}.log"
            procs.append(_start(env, port, log, code))
            bases.append(f"http://127.0.0.1:{port}")
            await healthy(bases[-1], procs[-1], log)
        yield bases
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(15)


@dataclass
class Desk:
    kind: str  # the database, and "(before)" for the other checkout's code
    base: str  # where the changes are sent
    token: str
    ids: list[int]
    engineers: list[int]
    watcher: Watcher
    http: httpx.AsyncClient
    figures: dict[str, list[tuple[float, float]]] = field(default_factory=lambda: defaultdict(list))


@asynccontextmanager
async def desk(kind: str, count: int, code: Path | None) -> AsyncIterator[Desk]:
    data_dir = tempfile.mkdtemp(prefix=f"bench-bulk-{kind}-")
    pg_name = None
    if kind == "sqlite":
        url = f"sqlite+aiosqlite:///{data_dir}/bench.db"
    else:
        import asyncpg

        pg_name = f"livesupport_bench_bulk_{secrets.token_hex(4)}"
        conn = await asyncpg.connect(PG_ADMIN)
        await conn.execute(f'CREATE DATABASE "{pg_name}"')
        await conn.close()
        url = PG_ADMIN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://") + f"/{pg_name}"
    try:
        facts = await seed(url, count)
        async with AsyncExitStack() as stack:
            bases = await stack.enter_async_context(servers(url, data_dir, 1 if kind == "sqlite" else 2,
                                                            code or ROOT))
            http = await stack.enter_async_context(httpx.AsyncClient(base_url=bases[0], timeout=120))
            r = await http.post("/api/tokens", json={"email": STAFF_EMAIL, "password": PASSWORD})
            token = r.json()["token"]
            ws = await stack.enter_async_context(connect(
                bases[-1].replace("http", "ws") + f"/ws?token={token}", max_size=None, compression=None))
            watcher = Watcher(ws)
            reader = asyncio.create_task(watcher.read())
            await watcher.join("queue")
            for tid in facts["ids"]:
                await watcher.join(f"ticket:{tid}")
            await ws.send(json.dumps({"type": "ping", "ref": "joined"}))
            await asyncio.wait_for(watcher.ready.wait(), 120)  # answered after every join before it
            try:
                yield Desk(kind if code is None else f"{kind} (before)", bases[0], token, facts["ids"], facts["engineers"], watcher, http)
            finally:
                reader.cancel()
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)
        if pg_name:
            import asyncpg

            conn = await asyncpg.connect(PG_ADMIN)
            await conn.execute(f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)')
            await conn.close()


def change(shape: str, round_: int, engineers: list[int]) -> tuple[dict[str, Any], list[str]]:
    """The body (without ids) and the event kinds it gives each ticket."""
    even = round_ % 2 == 0
    if shape == "status":
        return {"status": "in_progress" if even else "triage"}, ["status"]
    who = {"assign": [engineers[0]]} if even else {"unassign": [engineers[0]]}
    return ({"priority": "high" if even else "low", "status": "in_progress" if even else "triage", **who},
            ["priority", "status", "assignment"])


async def one(d: Desk, shape: str, round_: int) -> str:
    body, kinds = change(shape, round_, d.engineers)
    w = d.watcher
    await w.settle()
    before = {tid: len(w.events[tid]) for tid in d.ids}
    w.arrived.clear()
    w.want = w.count + len(kinds) * len(d.ids)
    started = time.perf_counter()
    updated: list[int] = []
    for i in range(0, len(d.ids), CHUNK):
        r = await d.http.post("/api/tickets/bulk", json={**body, "ids": d.ids[i:i + CHUNK]},
                              headers={"Authorization": f"Bearer {d.token}"})
        if r.status_code != 200:
            raise RuntimeError(f"{r.status_code} {r.text}")
        updated += r.json()["updated"]
        if r.json()["refused"]:
            raise RuntimeError(f"refused: {r.json()['refused'][:3]}")
    answered = time.perf_counter() - started
    await asyncio.wait_for(w.arrived.wait(), 120)
    seen = time.perf_counter() - started
    await asyncio.sleep(0.3)  # anything extra (a duplicate) would arrive about now
    wrong = 0
    for tid in d.ids:
        got = w.events[tid][before[tid]:]
        seqs = [s for s, _ in got]
        if [k for _, k in got] != kinds or seqs != sorted(set(seqs)) or seqs[-1] - seqs[0] != len(kinds) - 1:
            wrong += 1
    if len(updated) != len(d.ids) or wrong:
        raise RuntimeError(f"{d.kind} {shape}: {len(updated)} updated, {wrong} tickets with wrong events")
    d.figures[shape].append((answered, seen))
    return f"{d.kind:17} {shape:6} round {round_}: answered {answered:.2f} s, every event seen {seen:.2f} s " \
           f"(load {os.getloadavg()[0]:.1f})"


def table(desks: list[Desk]) -> list[str]:
    lines = ["| database | change | events | runs | all answered, s: min / p50 / max | every event seen on the "
             "watcher, s: min / p50 / max |", "|---|---|---:|---:|---|---|"]
    for d in desks:
        for shape, runs in d.figures.items():
            events = len(d.ids) * (3 if shape == "full" else 1)
            answered, seen = [a for a, _ in runs], [s for _, s in runs]
            lines.append(f"| {d.kind} | {shape} | {events:,} | {len(runs)} | {_three(answered)} | {_three(seen)} |")
    return lines


def _three(values: list[float]) -> str:
    return f"{min(values):.2f} / {statistics.median(values):.2f} / {max(values):.2f}"


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", action="append", choices=["sqlite", "postgres"])
    parser.add_argument("--tickets", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--shape", action="append", choices=["full", "status"])
    parser.add_argument("--before", type=Path, help="also run the code of this checkout (an older commit, e.g. "
                        "`git archive <commit> | tar -x -C DIR`), on databases of its own, in the same rounds")
    args = parser.parse_args()
    async with AsyncExitStack() as stack:
        desks = [await stack.enter_async_context(desk(kind, args.tickets, code))
                 for kind in args.db or ["sqlite", "postgres"] for code in ([args.before, None] if args.before
                                                                            else [None])]
        for round_ in range(args.rounds):
            for shape in args.shape or ["full", "status"]:
                for d in desks:  # interleaved: a slow minute of the machine falls on both databases
                    print(await one(d, shape, round_), flush=True)
        print("\n".join(["", f"{args.tickets} tickets, {CHUNK} a request, requests one after the other (as the bulk "
                         "bar sends them); seconds.", "", *table(desks)]))


if __name__ == "__main__":
    asyncio.run(main())
