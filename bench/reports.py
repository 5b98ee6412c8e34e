"""How fast GET /api/reports/summary answers for a year on the desk benchmark's 100,000 tickets.

Seeds the data set of bench/ticket_listing.py (its seeder: same organisations, statuses, priorities, assignees,
a year of activity), gives every ticket the report facts the write path keeps (first response, solved, business
clock readings, promises kept and missed, a rating on a third of the solved ones; seeded, the same each run),
starts `livesupport serve` on it and asks, as a Level 3 engineer, the summary of the last 365 days (and with
every breakdown, `by=priority,org,engineer`, as the /reports page does). Prints min / p50 / p90 / max in ms.

    .venv/bin/python bench/reports.py                      # SQLite and PostgreSQL, 100,000 tickets
    .venv/bin/python bench/reports.py --db sqlite --tickets 20000 --repeat 5
"""

from __future__ import annotations

import argparse
import asyncio
import random
import secrets
import shutil
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from sqlalchemy import bindparam, insert, select, update

sys.path.insert(0, str(Path(__file__).resolve().parent))
from ticket_listing import PASSWORD, PG_ADMIN, seed, server  # noqa: E402

from livesupport.domain.business_hours import DEFAULT_DESK  # noqa: E402
from livesupport.store.database import Database  # noqa: E402
from livesupport.store.models import Ticket  # noqa: E402
from livesupport.store.models.ratings import TicketRating  # noqa: E402

BATCH = 5000


async def add_facts(url: str, now: datetime) -> None:
    """The facts append_kinds would have kept, for the seeded tickets."""
    db = Database(url)
    rng = random.Random(19)
    desk = DEFAULT_DESK
    try:
        async with db.read() as s:
            tickets = (await s.execute(select(Ticket.id, Ticket.status, Ticket.created_at))).all()
        t = Ticket.__table__
        stmt = update(t).where(t.c.id == bindparam("b_id")).values(
            created_bh=bindparam("created_bh"), first_response_at=bindparam("fr"), first_response_bh=bindparam("fr_bh"),
            solved_at=bindparam("solved"), solved_bh=bindparam("solved_bh"), promises_kept=bindparam("kept"),
            promises_missed=bindparam("missed"))
        for first in range(0, len(tickets), BATCH):
            values, ratings = [], []
            for r in tickets[first:first + BATCH]:
                fr = r.created_at + timedelta(seconds=rng.expovariate(1 / 7200))
                fr = fr if fr < now and rng.random() < 0.95 else None
                solved = None
                if r.status in ("resolved", "closed"):
                    solved = min(now, r.created_at + timedelta(seconds=rng.expovariate(1 / 172800)))
                    if rng.random() < 0.33:
                        ratings.append({"ticket_id": r.id, "score": "good" if rng.random() < 0.8 else "bad",
                                        "created_at": solved, "updated_at": solved})
                values.append({"b_id": r.id, "created_bh": desk.reading(r.created_at), "fr": fr,
                               "fr_bh": desk.reading(fr) if fr else None, "solved": solved,
                               "solved_bh": desk.reading(solved) if solved else None,
                               "kept": rng.randint(0, 4), "missed": rng.choice((0, 0, 0, 1))})
            async with db.write() as s:
                await s.execute(stmt, values)
                if ratings:
                    await s.execute(insert(TicketRating), ratings)
    finally:
        await db.dispose()


def spread(ms: list[float]) -> str:
    ms = sorted(ms)
    return " / ".join(f"{v:.0f}" for v in (ms[0], statistics.median(ms), ms[round(0.9 * (len(ms) - 1))], ms[-1]))


async def measure(base: str, now: datetime, repeat: int) -> list[str]:
    year = {"from": (now - timedelta(days=364)).date().isoformat(), "to": now.date().isoformat()}
    lines = ["| question | min / p50 / p90 / max (ms) |", "|---|---|"]
    async with httpx.AsyncClient(base_url=base, timeout=120) as http:
        r = await http.post("/api/tokens", json={"email": "sam@support.bench", "password": PASSWORD})
        headers = {"Authorization": f"Bearer {r.json()['token']}"}
        for label, params in (("a year's summary", year),
                              ("a year, by priority, org, engineer", {**year, "by": "priority,org,engineer"})):
            took = []
            for _ in range(repeat):
                started = time.perf_counter()
                answer = await http.get("/api/reports/summary", params=params, headers=headers)
                took.append((time.perf_counter() - started) * 1000)
                assert answer.status_code == 200, answer.text
            lines.append(f"| {label} | {spread(took)} |")
        print(f"  created {answer.json()['created']:,}, solved {answer.json()['solved']:,}", flush=True)
    return lines


async def run(kind: str, count: int, repeat: int) -> list[str]:
    data_dir = tempfile.mkdtemp(prefix=f"bench-reports-{kind}-")
    pg_name = None
    if kind == "sqlite":
        url = f"sqlite+aiosqlite:///{data_dir}/bench.db"
    else:
        import asyncpg

        pg_name = f"livesupport_bench_reports_{secrets.token_hex(4)}"
        conn = await asyncpg.connect(PG_ADMIN)
        await conn.execute(f'CREATE DATABASE "{pg_name}"')
        await conn.close()
        url = PG_ADMIN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://") + f"/{pg_name}"
    try:
        print(f"{kind}: {count:,} tickets", flush=True)
        now = datetime.now(UTC)
        await seed(url, count, now)
        await add_facts(url, now)
        if pg_name:
            import asyncpg

            conn = await asyncpg.connect(PG_ADMIN.rsplit("/", 1)[0] + f"/{pg_name}")
            await conn.execute("VACUUM ANALYZE")
            await conn.close()
        async with server(url, data_dir) as base:
            return [f"### {kind}, {count:,} tickets", "", *(await measure(base, now, repeat)), ""]
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
    parser.add_argument("--repeat", type=int, default=10)
    args = parser.parse_args()
    report = []
    for kind in args.db or ["sqlite", "postgres"]:
        report += await run(kind, args.tickets, args.repeat)
    print("\n".join(["", "Milliseconds per request over HTTP on 127.0.0.1, one at a time.", "", *report]))


if __name__ == "__main__":
    asyncio.run(main())
