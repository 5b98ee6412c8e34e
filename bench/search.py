"""How fast ticket search answers, and what keeping the index costs a message, on SQLite and PostgreSQL.

It seeds a database at migration 0018 (tickets of 50 organisations, their messages written straight to the
tables, one in ten an internal note), times migration 0019 back-filling the index, then times searches as
`GET /api/tickets?q=` runs them (`find_tickets`: the ranked first page and its snippets) for staff and for
a client, and last a message's write path with the index kept and with it left out.

    .venv/bin/python bench/search.py                       # both databases, 100,000 messages
    .venv/bin/python bench/search.py --db sqlite --messages 20000 --runs 50

PostgreSQL: 127.0.0.1:5432 as `postgres` (database `test` to connect to), as the tests use; the benchmark makes
its own database `livesupport_bench_search_<random>` and drops it at the end. SQLite: a file in a temporary folder.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import secrets
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from alembic import command
from sqlalchemy import insert, select

from livesupport.actions.accounts import Accounts
from livesupport.clock import Clock, FixedClock
from livesupport.domain.listing import parse_query
from livesupport.domain.people import Person, Role
from livesupport.store import listing as listing_store
from livesupport.store import search as search_store
from livesupport.store import tickets as store
from livesupport.store.database import Database
from livesupport.store.migrate import alembic_config, upgrade
from livesupport.store.models import Ticket, TicketEvent

PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/test"
ORGS = 50
NOW = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)
COMMON = ("printer toner paper jam mail server outlook password reset vpn firewall router switch backup restore "
          "invoice license account login error screen laptop network slow crash update install browser disk "
          "license spam filter quarantine domain certificate expired phone call office wifi cable port").split()
QUERIES = (
    ("one common word", "printer"),
    ("a rare word", "{rare}"),
    ("two words", "printer toner"),
    ("a phrase", '"mail server"'),
    ("OR", "vpn OR firewall"),
    ("-word", "printer -toner"),
)


def vocabulary(rng: random.Random) -> tuple[list[str], list[float]]:
    """Support words, often; 20,000 made-up words, Zipf-rarely."""
    syllables = ["ka", "lo", "mi", "ne", "ru", "ta", "vo", "zi", "pe", "qua", "sor", "bel", "dun", "fim", "gar"]
    made = sorted({"".join(rng.choice(syllables) for _ in range(rng.randint(2, 4))) for _ in range(30_000)})[:20_000]
    words = COMMON + made
    weights = [8.0] * len(COMMON) + [1.0 / (rank + 1) ** 0.9 * 40 for rank in range(len(made))]
    return words, weights


def sentence(rng: random.Random, words: list[str], weights: list[float]) -> str:
    return " ".join(rng.choices(words, weights, k=rng.randint(8, 40))).capitalize() + "."


async def seed(url: str, messages: int, per_ticket: int) -> tuple[Person, Person, str, float]:
    """The database at 0018 with the tickets and messages, then 0019 (timed). Returns staff, a client, a rare word
    and the seconds the back-fill took."""
    await asyncio.to_thread(command.upgrade, alembic_config(url), "0018")
    db = Database(url)
    rng = random.Random(17)
    words, weights = vocabulary(rng)
    try:
        accounts = Accounts(db, FixedClock(NOW))
        staff = await accounts.add_user(email="staff@support.bench", password="bench bench bench", role="staff",
                                        name="Staff", tier=2)
        clients = [await accounts.add_user(email=f"c{i}@org{i}.bench", password="bench bench bench", role="client",
                                           name=f"Client {i}", org=f"Org {i}") for i in range(ORGS)]
        tickets = messages // per_ticket
        for start in range(0, tickets, 1000):
            count = min(1000, tickets - start)
            owners = [clients[rng.randrange(ORGS)] for _ in range(count)]
            async with db.write() as s:
                ids = (await s.execute(insert(Ticket).returning(Ticket.id), [
                    {"org_id": o.org_id, "opened_by": o.id, "subject": sentence(rng, words, weights)[:120],
                     "status": "new", "priority": "normal", "last_seq": per_ticket, "last_public_seq": per_ticket,
                     "created_at": NOW, "updated_at": NOW, "public_updated_at": NOW} for o in owners])).scalars().all()
                events = []
                for tid, owner in zip(ids, owners, strict=True):
                    for seq in range(1, per_ticket + 1):
                        internal = rng.random() < 0.1
                        vis = "internal" if internal else "public"
                        events.append({"ticket_id": tid, "seq": seq, "kind": "chat", "visibility": vis,
                                       "actor_id": staff.id if internal or seq % 2 == 0 else owner.id,
                                       "at": NOW + timedelta(minutes=seq), "actor": {},
                                       "data": {"body": sentence(rng, words, weights), "visibility": vis}})
                await s.execute(insert(TicketEvent), events)
    finally:
        await db.dispose()
    started = time.perf_counter()
    await asyncio.to_thread(upgrade, url)
    backfill = time.perf_counter() - started
    rare = words[len(COMMON) + 3000]
    return (Person(staff.id, staff.name, Role.STAFF, tier=2),
            Person(clients[0].id, clients[0].name, Role.CLIENT, org_id=clients[0].org_id), rare, backfill)


def percentiles(times: list[float]) -> tuple[float, float, float]:
    ordered = sorted(times)
    pick = lambda p: ordered[min(len(ordered) - 1, int(p * len(ordered)))] * 1000  # noqa: E731
    return pick(0.5), pick(0.95), pick(0.99)


async def timed(runs: int, call: Callable[[], Awaitable[Any]]) -> list[float]:
    await call()  # warm the caches once
    out = []
    for _ in range(runs):
        started = time.perf_counter()
        await call()
        out.append(time.perf_counter() - started)
    return out


async def find_tickets(db: Database, clock: Clock, person: Person, q: str) -> list[int]:
    """What `GET /api/tickets?q=` reads: the first page of matches (visibility and rank in one query), then their
    snippets (the rows' other columns come with the tickets)."""
    query = parse_query({"q": [q]})
    async with db.read() as s:
        found, _ = await listing_store.page(s, person, query, clock.now(), None)
        ids = [t.id for t, _ in found]
        await search_store.snippets(s, q, ids, staff=person.is_staff)
    return ids


async def searches(db: Database, staff: Person, client: Person, rare: str, runs: int) -> list[str]:
    lines = ["| query | as | results | p50 ms | p95 ms | p99 ms |", "|---|---|---:|---:|---:|---:|"]
    clock = FixedClock(NOW)
    for label, q in QUERIES:
        q = q.format(rare=rare)
        for who, person in (("staff", staff), ("client", client)):
            results = len(await find_tickets(db, clock, person, q))
            p50, p95, p99 = percentiles(await timed(runs, lambda p=person, q=q: find_tickets(db, clock, p, q)))
            lines.append(f"| {label} (`{q}`) | {who} | {results} | {p50:.1f} | {p95:.1f} | {p99:.1f} |")
    return lines


async def writes(db: Database, client: Person, runs: int) -> list[str]:
    """A message's write path (its own transaction) on seeded tickets in turn, as they come (ten messages or so),
    with the index kept and left out."""
    async with db.read() as s:
        ids = list((await s.execute(select(Ticket.id).order_by(Ticket.id).limit(2000))).scalars())
    turn = iter(ids * 20)
    kept = search_store.add_events

    async def skipped(*_: Any) -> None:
        return None

    async def one() -> None:
        async with db.write() as s:
            await store.append_event(s, next(turn), kind="chat", visibility="public", actor=client, now=NOW,
                                     data={"body": "The printer says paper jam in tray 2 again.",
                                           "visibility": "public"})

    times: dict[str, list[float]] = {"with the index": [], "without it": []}
    await one()
    for i in range(2 * runs):  # alternating write by write, so both meet the same load on a shared machine
        label = "with the index" if i % 2 == 0 else "without it"
        search_store.add_events = kept if i % 2 == 0 else skipped  # type: ignore[assignment]
        started = time.perf_counter()
        await one()
        times[label].append(time.perf_counter() - started)
    search_store.add_events = kept  # type: ignore[assignment]
    lines = ["| a message's write | median ms | p95 ms |", "|---|---:|---:|"]
    for label, values in times.items():
        p50, p95, _ = percentiles(values)
        lines.append(f"| {label} | {statistics.median(values) * 1000:.2f} | {p95:.2f} |")
    return lines


async def run(kind: str, messages: int, per_ticket: int, runs: int, writes_: int) -> None:
    if kind == "sqlite":
        url, name = f"sqlite+aiosqlite:///{Path(tempfile.mkdtemp(prefix='bench-search-')) / 'bench.db'}", None
    else:
        import asyncpg

        name = f"livesupport_bench_search_{secrets.token_hex(4)}"
        conn = await asyncpg.connect(PG_ADMIN)
        await conn.execute(f'CREATE DATABASE "{name}"')
        await conn.close()
        url = f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}"
    try:
        started = time.perf_counter()
        staff, client, rare, backfill = await seed(url, messages, per_ticket)
        print(f"\n## {kind}: {messages:,} messages in {messages // per_ticket:,} tickets of {ORGS} organisations")
        print(f"seeded in {time.perf_counter() - started - backfill:.1f} s; migration 0019 back-filled the index in "
              f"{backfill:.1f} s\n")
        db = Database(url)
        try:
            print("\n".join(await searches(db, staff, client, rare, runs)))
            print()
            print("\n".join(await writes(db, client, writes_)))
        finally:
            await db.dispose()
    finally:
        if name:
            import asyncpg

            conn = await asyncpg.connect(PG_ADMIN)
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--per-ticket", type=int, default=10, help="messages per ticket")
    parser.add_argument("--runs", type=int, default=100, help="timed runs of each query")
    parser.add_argument("--writes", type=int, default=1000, help="timed messages, with the index and without")
    args = parser.parse_args()
    for kind in (["sqlite", "postgres"] if args.db == "both" else [args.db]):
        asyncio.run(run(kind, args.messages, args.per_ticket, args.runs, args.writes))


if __name__ == "__main__":
    main()
