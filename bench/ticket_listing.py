"""How fast GET /api/tickets answers on a big desk: first pages and deep (keyset) pages, per sort and filter.

Seeds N tickets (100,000 by default) across 500 organisations straight into a fresh database (statuses,
priorities, assignees, next updates and a year of activity spread at random, seeded: the same data each run),
starts `livesupport serve` on it and asks over HTTP, as a Level 3 engineer and as a client. For each question:
the first page (asked `--repeat` times), then a walk of up to 500 pages of 100 to find a deep cursor, and that
deep page (asked `--repeat` times). Prints the whole distribution of each (min, p50, p90, p95, p99, max, in ms).

    .venv/bin/python bench/ticket_listing.py                       # SQLite and PostgreSQL, 100,000 tickets
    .venv/bin/python bench/ticket_listing.py --db sqlite --tickets 20000 --repeat 30

PostgreSQL is the machine's (postgres@127.0.0.1:5432, as the tests); the bench makes a database of its own
(livesupport_bench_list_<random>) and drops it at the end. SQLite lives in a temporary directory, removed
at the end too.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import insert, select

from livesupport.actions.accounts import Accounts
from livesupport.clock import SystemClock
from livesupport.store.database import Database
from livesupport.store.migrate import upgrade
from livesupport.store.models import Organisation, Ticket, TicketAssignee, User

ROOT = Path(__file__).resolve().parent.parent
PG_ADMIN = os.environ.get("BENCH_PG_ADMIN", "postgresql://postgres@127.0.0.1:5432/test")
PASSWORD = "correct horse battery staple"
ORGS = 500
STATUSES = [("new", 8), ("triage", 6), ("in_progress", 16), ("waiting_on_client", 10), ("resolved", 25),
            ("closed", 35)]
PRIORITIES = [("low", 20), ("normal", 55), ("high", 20), ("urgent", 5)]
OPEN = {"new", "triage", "in_progress", "waiting_on_client"}
BATCH = 5000

#: (label, who, query): who is "staff" (a Level 3 engineer, assigned some tickets) or "client" (of the largest
#: organisation). `{org}` is the client's organisation; `{week}` a week before the seed's newest activity.
QUESTIONS: list[tuple[str, str, dict[str, Any]]] = [
    ("all, -updated (default)", "staff", {}),
    ("all, created", "staff", {"sort": "created"}),
    ("all, -created", "staff", {"sort": "-created"}),
    ("all, next_update", "staff", {"sort": "next_update"}),
    ("all, priority", "staff", {"sort": "priority"}),
    ("open (3 statuses)", "staff", {"status": ["new", "triage", "in_progress"]}),
    ("waiting_on=us, next_update", "staff", {"waiting_on": "us", "sort": "next_update"}),
    ("overdue", "staff", {"overdue": "true"}),
    ("assignee=me", "staff", {"assignee": "me"}),
    ("assignee=none, open", "staff", {"assignee": "none", "waiting_on": "us"}),
    ("priority=urgent", "staff", {"priority": "urgent"}),
    ("org=one organisation", "staff", {"org": "{org}"}),
    ("updated in the last week", "staff", {"updated_after": "{week}"}),
    ("client: own organisation", "client", {}),
    ("client: waiting_on=client", "client", {"waiting_on": "client"}),
]


def pick(rng: random.Random, weighted: list[tuple[str, int]]) -> str:
    return rng.choices([v for v, _ in weighted], [w for _, w in weighted])[0]


async def seed(url: str, count: int, now: datetime) -> dict[str, Any]:
    """Organisations, an engineer and a client (real accounts, to sign in), and `count` tickets."""
    await asyncio.to_thread(upgrade, url)
    db = Database(url)
    rng = random.Random(2026)
    try:
        accounts = Accounts(db, SystemClock())
        client = await accounts.add_user(email="client@bench.test", password=PASSWORD, role="client",
                                         name="Bench Client", org="Bench Org 0")
        staff = await accounts.add_user(email="sam@support.bench", password=PASSWORD, role="staff",
                                        name="Sam Bench", tier=3)
        engineers = [staff.id]
        async with db.write() as s:
            await s.execute(insert(Organisation), [
                {"name": f"Bench Org {i}", "kind": "client", "created_at": now} for i in range(1, ORGS)])
            org_ids = list((await s.execute(select(Organisation.id).where(
                Organisation.name.like("Bench Org %")))).scalars())
            for i in range(9):
                engineers.append((await s.execute(insert(User).values(
                    email=f"eng{i}@support.bench", name=f"Engineer {i}", password_hash="!", role="staff", tier=2,
                    created_at=now).returning(User.id))).scalar_one())
        weights = [1 / (rank + 1) for rank in range(len(org_ids))]  # a few big organisations, many small
        rng.shuffle(org_ids)
        assert client.org_id is not None
        org_ids.remove(client.org_id)
        org_ids.insert(0, client.org_id)  # the client's organisation is the biggest
        started = time.perf_counter()
        for first in range(0, count, BATCH):
            tickets, assigned = [], []
            for _ in range(min(BATCH, count - first)):
                created = now - timedelta(seconds=rng.uniform(0, 365 * 86400))
                updated = created + timedelta(seconds=rng.uniform(0, (now - created).total_seconds()))
                public = created + (updated - created) * rng.random() ** 0.3
                status = pick(rng, STATUSES)
                due = None
                if status in OPEN and status != "waiting_on_client":
                    due = now + timedelta(hours=rng.uniform(-48, 24))
                tickets.append({
                    "org_id": rng.choices(org_ids, weights)[0], "opened_by": client.id, "subject": "Bench ticket",
                    "status": status, "priority": pick(rng, PRIORITIES), "next_update_at": due,
                    "next_update_source": "sla", "last_seq": 3, "last_public_seq": 2, "created_at": created,
                    "updated_at": updated, "public_updated_at": public})
            async with db.write() as s:
                ids = list((await s.execute(insert(Ticket).returning(Ticket.id), tickets)).scalars())
                for tid in ids:
                    if rng.random() < 0.6:
                        for user in rng.sample(engineers, rng.choice((1, 1, 1, 2))):
                            assigned.append({"ticket_id": tid, "user_id": user, "at": now})
                if assigned:
                    await s.execute(insert(TicketAssignee), assigned)
        print(f"  seeded {count:,} tickets in {time.perf_counter() - started:.1f} s", flush=True)
        return {"org": client.org_id, "week": (now - timedelta(days=7)).isoformat()}
    finally:
        await db.dispose()


@asynccontextmanager
async def server(url: str, data_dir: str) -> AsyncIterator[str]:
    port = 20000 + secrets.randbelow(20000)
    env = {**os.environ, "DATABASE_URL": url, "DATA_DIR": data_dir, "SECRET_KEY": "bench", "REDIS_URL": "",
           "WORKER": "separate", "PYTHONUNBUFFERED": "1"}
    proc = _start(env, port, Path(data_dir) / "server.log")
    base = f"http://127.0.0.1:{port}"
    try:
        await healthy(base, proc, Path(data_dir) / "server.log")
        yield base
    finally:
        proc.terminate()
        proc.wait(15)


async def healthy(base: str, proc: subprocess.Popen[bytes], log: Path) -> None:
    """Wait until the server at `base` answers /healthz (a minute at most)."""
    async with httpx.AsyncClient(base_url=base) as http:
        deadline = time.monotonic() + 60
        while True:
            try:
                if (await http.get("/healthz")).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the server did not start: {log.read_text()}")  # noqa: ASYNC240
            await asyncio.sleep(0.2)


def _start(env: dict[str, str], port: int, log: Path, code: Path = ROOT) -> subprocess.Popen[bytes]:
    """`livesupport serve` from the checkout at `code` (this one by default)."""
    with log.open("wb") as out:
        return subprocess.Popen([sys.executable, "-m", "livesupport", "serve", "--host", "127.0.0.1", "--port",
                                 str(port)], env=env, stdout=out, stderr=subprocess.STDOUT, cwd=code)


def spread(ms: list[float]) -> str:
    ms = sorted(ms)

    def at(q: float) -> float:
        return ms[min(len(ms) - 1, round(q * (len(ms) - 1)))]

    return " / ".join(f"{v:.1f}" for v in (ms[0], statistics.median(ms), at(0.9), at(0.95), at(0.99), ms[-1]))


async def timed(http: httpx.AsyncClient, token: str, params: dict[str, Any]) -> tuple[float, dict[str, Any]]:
    started = time.perf_counter()
    r = await http.get("/api/tickets", params=params, headers={"Authorization": f"Bearer {token}"})
    took = (time.perf_counter() - started) * 1000
    if r.status_code != 200:
        raise RuntimeError(f"{params}: {r.status_code} {r.text}")
    return took, r.json()


async def measure(base: str, facts: dict[str, Any], repeat: int) -> list[str]:
    lines = ["| question | rows deep | first page: min / p50 / p90 / p95 / p99 / max | "
             "deep page: min / p50 / p90 / p95 / p99 / max | load |", "|---|---|---|---|---|"]
    async with httpx.AsyncClient(base_url=base, timeout=60) as http:
        tokens = {}
        for who, email in (("staff", "sam@support.bench"), ("client", "client@bench.test")):
            r = await http.post("/api/tokens", json={"email": email, "password": PASSWORD})
            tokens[who] = r.json()["token"]
        for label, who, raw in QUESTIONS:
            params = {k: (v.format(**facts) if isinstance(v, str) else v) for k, v in raw.items()}
            for _ in range(3):  # warm the caches, as a desk in use has them
                await timed(http, tokens[who], params)
            first = [(await timed(http, tokens[who], params))[0] for _ in range(repeat)]
            cursor, depth, deep_cursor, deep_depth = None, 0, None, 0
            for _ in range(500):
                _, page = await timed(http, tokens[who], {**params, "limit": 100,
                                                          **({"cursor": cursor} if cursor else {})})
                depth += len(page["tickets"])
                cursor = page["next"]
                if cursor is None:
                    break
                deep_cursor, deep_depth = cursor, depth
            deep = ([(await timed(http, tokens[who], {**params, "cursor": deep_cursor}))[0] for _ in range(repeat)]
                    if deep_cursor else [])
            row = (f"| {label} | {deep_depth:,} | {spread(first)} | {spread(deep) if deep else '(one page)'} "
                   f"| {os.getloadavg()[0]:.1f} |")
            print(row, flush=True)
            lines.append(row)
    return lines


async def run(kind: str, count: int, repeat: int) -> list[str]:
    data_dir = tempfile.mkdtemp(prefix=f"bench-list-{kind}-")
    pg_name = None
    if kind == "sqlite":
        url = f"sqlite+aiosqlite:///{data_dir}/bench.db"
    else:
        import asyncpg

        pg_name = f"livesupport_bench_list_{secrets.token_hex(4)}"
        conn = await asyncpg.connect(PG_ADMIN)
        await conn.execute(f'CREATE DATABASE "{pg_name}"')
        await conn.close()
        url = PG_ADMIN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://") + f"/{pg_name}"
    try:
        print(f"{kind}: {count:,} tickets", flush=True)
        facts = await seed(url, count, datetime.now(UTC))
        if pg_name:
            import asyncpg

            conn = await asyncpg.connect(PG_ADMIN.rsplit("/", 1)[0] + f"/{pg_name}")
            await conn.execute("VACUUM ANALYZE")  # as autovacuum would have, on a desk that grew over a year
            await conn.close()
        async with server(url, data_dir) as base:
            return [f"### {kind}, {count:,} tickets", "", *(await measure(base, facts, repeat)), ""]
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)
        if pg_name:
            import asyncpg

            conn = await asyncpg.connect(PG_ADMIN)
            await conn.execute(f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)')
            await conn.close()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", action="append", choices=["sqlite", "postgres"])
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=50, help="how many times each timed page is asked")
    args = parser.parse_args()
    report = []
    for kind in args.db or ["sqlite", "postgres"]:
        report += await run(kind, args.tickets, args.repeat)
    print("\n".join(["", "Milliseconds per request, over HTTP on 127.0.0.1 (one client, one at a time); load: the "
                     "machine's 1-minute load average after the row (2 cores here).", "",
                     *report]))


if __name__ == "__main__":
    asyncio.run(main())
