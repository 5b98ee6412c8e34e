"""A chat message's write alone: one append after the other on one ticket of a PostgreSQL database of its own, as a
chat burst of one message writes it (its own autocommit statement, guarded by the SLA fields last seen, moving the
promise of the next update), timed by wall clock and by this process's CPU.

    .venv/bin/python bench/append.py                        # 3 runs of 1,500 appends
    .venv/bin/python bench/append.py --runs 5 --appends 3000
    .venv/bin/python bench/append.py --rate 50 --fold 1,off    # paced as bench/run.py's 50 msg/s, runs taking
                                                               # turns with search folding every second and none

No server and no socket: this is the write path's own cost (building the statement, the driver, the round trip),
the `commit` stage of bench/run.py without the event loop's other work. Compare commits by running it in each
checkout in turn (the database is made and dropped by each run).
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import insert, select, update  # noqa: E402

from livesupport.actions.search_folding import SearchFolding  # noqa: E402
from livesupport.domain.people import Person, Role  # noqa: E402
from livesupport.store import tickets as store  # noqa: E402
from livesupport.store.database import Database  # noqa: E402
from livesupport.store.migrate import upgrade  # noqa: E402
from livesupport.store.models import Organisation, Ticket, User  # noqa: E402

PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/test"
NOW = datetime(2026, 12, 1, 10, tzinfo=UTC)


async def one_run(url: str, appends: int, rate: float | None = None, fold_every: float | None = None,
                  body_bytes: int = 100) -> tuple[list[float], float]:
    """Wall ms of each append, and this process's CPU ms per append. `rate`: appends per second, paced (else one
    after the other); `fold_every`: search folding runs meanwhile, as in `serve` (PostgreSQL's folding task);
    `body_bytes`: each message's length (bench/run.py's)."""
    db = Database(url)
    folding = asyncio.create_task(SearchFolding(db, fold_every).run_forever()) if fold_every else None
    try:
        async with db.write() as s:
            org = (await s.execute(insert(Organisation).values(
                name=f"Bench {secrets.token_hex(4)}", created_at=NOW).returning(Organisation.id))).scalar_one()
            uid = (await s.execute(insert(User).values(
                email=f"lee-{secrets.token_hex(4)}@support.bench", name="Lee", role="staff", password_hash="-",
                created_at=NOW).returning(User.id))).scalar_one()
            ticket = await store.create(s, org_id=org, opened_by=uid, subject="The printer says paper jam",
                                        priority="normal", now=NOW)
            await s.execute(update(Ticket).where(Ticket.id == ticket.id).values(status="open"))
            row = (await s.execute(select(Ticket.status, Ticket.priority, Ticket.next_update_at,
                                          Ticket.next_update_source).where(Ticket.id == ticket.id))).one()
        fields = store.SlaFields(*row)
        person = Person(id=uid, name="Lee", role=Role.STAFF)
        walls: list[float] = []
        cpu0 = time.process_time()
        paced = time.perf_counter()
        for i in range(appends):
            if rate:
                paced += 1 / rate
                await asyncio.sleep(max(0.0, paced - time.perf_counter()))
            at = NOW + timedelta(seconds=i)
            due = at + timedelta(hours=4)
            started = time.perf_counter()
            async with db.statement() as s:
                await store.append_events(s, ticket.id, kind="chat", actor=person, now=at,
                                          payloads=[("public", {"body": f"Message {i}: tray 2 jams again."
                                                                              .ljust(body_bytes, ".")})],
                                          changes={"next_update_at": due, "next_update_source": "sla"},
                                          unless_changed=fields)
            walls.append((time.perf_counter() - started) * 1000)
            fields = fields._replace(next_update_at=due, next_update_source="sla")
        return walls, (time.process_time() - cpu0) * 1000 / appends
    finally:
        if folding:
            folding.cancel()
        await db.dispose()


async def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--appends", type=int, default=1500)
    p.add_argument("--body-bytes", type=int, default=100, help="each message's length, as bench/run.py's (runs "
                   "before 2026-12-04 used 31-34)")
    p.add_argument("--rate", type=float, help="appends per second, paced (default: one after the other)")
    p.add_argument("--fold", default="off", help="seconds between search folding passes run meanwhile, or off; "
                   "several, comma-separated, take turns run by run (e.g. 1,off)")
    args = p.parse_args()
    folds = [None if f.strip() == "off" else float(f) for f in args.fold.split(",")]
    import asyncpg

    name = f"livesupport_bench_append_{secrets.token_hex(4)}"
    admin = await asyncpg.connect(PG_ADMIN)
    await admin.execute(f'CREATE DATABASE "{name}"')
    try:
        url = f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}"
        await asyncio.to_thread(upgrade, url)
        print("| run | folding every | wall p50 ms | p90 | p99 | max | CPU ms per append (this process) |")
        print("|---:|---|---:|---:|---:|---:|---:|")
        for run in range(args.runs):
            for fold in folds:
                walls, cpu = await one_run(url, args.appends, args.rate, fold, args.body_bytes)
                q = statistics.quantiles(walls, n=100, method="inclusive")  # never past the slowest
                print(f"| {run + 1} | {f'{fold:g} s' if fold else 'off'} | {statistics.median(walls):.2f} | "
                      f"{q[89]:.2f} | {q[98]:.2f} | {max(walls):.2f} | {cpu:.2f} |", flush=True)
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
