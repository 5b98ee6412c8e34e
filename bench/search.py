"""How fast ticket search answers, and what keeping the index costs a message, on SQLite and PostgreSQL.

It seeds a database at migration 0018 (by default issue 17's size: 1,000,000 messages in 100,000 tickets of 500
organisations, one message in ten an internal note, written straight to the tables: COPY on PostgreSQL, batched
executemany on SQLite), times the migrations that build the search index from them (0019 and on), then times
searches as `GET /api/tickets?q=` runs them (`find_tickets`: the ranked first page and its snippets) for staff
and for a client, a filtered view with `q` (first page and the next one, by its cursor), and last a message's
write path with the index kept, with it left out, and as it was before (a statement each, no index), taking
turns write by write.

    .venv/bin/python bench/search.py                       # both databases, 1,000,000 messages (long)
    .venv/bin/python bench/search.py --db sqlite --tickets 10000 --messages 100000 --runs 50
    .venv/bin/python bench/search.py --db postgres --keep   # leaves the database (its URL is printed) ...
    .venv/bin/python bench/search.py --url postgresql+asyncpg://postgres@127.0.0.1:5432/NAME  # ... to time again

PostgreSQL: 127.0.0.1:5432 as `postgres` (database `test` to connect to), as the tests use; the benchmark makes
its own database `livesupport_bench_search_<random>` and drops it at the end. SQLite: a file in a temporary folder.
"""

from __future__ import annotations

import argparse
import asyncio
import json
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
from sqlalchemy import column, insert, select, table, text, update

from livesupport.actions.accounts import Accounts
from livesupport.actions.search_folding import SearchFolding
from livesupport.clock import Clock, FixedClock
from livesupport.domain.listing import parse_query
from livesupport.domain.people import Person, Role
from livesupport.store import listing as listing_store
from livesupport.store import search as search_store
from livesupport.store import tickets as store
from livesupport.store.database import Database
from livesupport.store.huddle import mark_reviewed
from livesupport.store.listing import Position
from livesupport.store.migrate import alembic_config, upgrade
from livesupport.store.models import Organisation, Ticket, TicketEvent, User

PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/test"
NOW = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)
STAFF_EMAIL, CLIENT_EMAIL = "staff@support.bench", "c0@org0.bench"
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
STATUSES = [("new", 8), ("triage", 6), ("in_progress", 16), ("waiting_on_client", 10), ("resolved", 25),
            ("closed", 35)]
BATCH = 5000  # tickets per seeding round


def vocabulary(rng: random.Random) -> tuple[list[str], list[float]]:
    """Support words, often; 20,000 made-up words, Zipf-rarely."""
    syllables = ["ka", "lo", "mi", "ne", "ru", "ta", "vo", "zi", "pe", "qua", "sor", "bel", "dun", "fim", "gar"]
    made = sorted({"".join(rng.choice(syllables) for _ in range(rng.randint(2, 4))) for _ in range(30_000)})[:20_000]
    words = COMMON + made
    weights = [8.0] * len(COMMON) + [1.0 / (rank + 1) ** 0.9 * 40 for rank in range(len(made))]
    return words, weights


def rare_word() -> str:
    return vocabulary(random.Random(17))[0][len(COMMON) + 3000]


def sentence(rng: random.Random, words: list[str], weights: list[float]) -> str:
    return " ".join(rng.choices(words, weights, k=rng.randint(8, 40))).capitalize() + "."


async def people(db: Database) -> tuple[Person, Person]:
    async with db.read() as s:
        staff = (await s.execute(select(User).where(User.email == STAFF_EMAIL))).scalar_one()
        client = (await s.execute(select(User).where(User.email == CLIENT_EMAIL))).scalar_one()
    return (Person(staff.id, staff.name, Role.STAFF, tier=2),
            Person(client.id, client.name, Role.CLIENT, org_id=client.org_id))


async def _copy(session: Any, table: str, columns: list[str], records: list[tuple[Any, ...]]) -> None:
    raw = (await (await session.connection()).get_raw_connection()).driver_connection
    await raw.copy_records_to_table(table, records=records, columns=columns)


async def seed(url: str, messages: int, tickets: int, orgs: int) -> float:
    """The database at 0018 with the tickets and messages, then the index's migrations (timed: their seconds)."""
    await asyncio.to_thread(command.upgrade, alembic_config(url), "0018")
    db = Database(url)
    postgres = url.startswith("postgresql")
    rng = random.Random(17)
    words, weights = vocabulary(rng)
    per_ticket = max(1, messages // tickets)
    try:
        accounts = Accounts(db, FixedClock(NOW))
        staff = await accounts.add_user(email=STAFF_EMAIL, password="bench bench bench", role="staff",
                                        name="Staff", tier=2)
        client = await accounts.add_user(email=CLIENT_EMAIL, password="bench bench bench", role="client",
                                         name="Client 0", org="Org 0")
        async with db.write() as s:
            others = (await s.execute(insert(Organisation).returning(Organisation.id), [
                {"name": f"Org {i}", "kind": "client", "created_at": NOW} for i in range(1, orgs)])).scalars().all()
        org_ids = [client.org_id, *others]
        for start in range(0, tickets, BATCH):
            count = min(BATCH, tickets - start)
            rows = []
            for _ in range(count):
                updated = NOW - timedelta(minutes=rng.randrange(525_600))
                rows.append({"org_id": rng.choice(org_ids), "opened_by": client.id,
                             "subject": sentence(rng, words, weights)[:120],
                             "status": rng.choices([v for v, _ in STATUSES], [w for _, w in STATUSES])[0],
                             "priority": "normal", "last_seq": per_ticket, "last_public_seq": per_ticket,
                             "created_at": updated - timedelta(days=3), "updated_at": updated,
                             "public_updated_at": updated})
            async with db.write() as s:
                # the columns of migration 0018 only (the model has later ones: reports' facts...)
                at_0018 = table("tickets", *(column(c.name, c.type) for c in Ticket.__table__.c
                                             if c.name == "id" or c.name in rows[0]))
                ids = (await s.execute(insert(at_0018).returning(at_0018.c.id), rows)).scalars().all()
                events = []
                for tid, row in zip(ids, rows, strict=True):
                    for seq in range(1, per_ticket + 1):
                        vis = "internal" if rng.random() < 0.1 else "public"
                        actor = staff.id if vis == "internal" or seq % 2 == 0 else client.id
                        at = row["created_at"] + timedelta(minutes=seq)
                        data = {"body": sentence(rng, words, weights), "visibility": vis}
                        events.append((tid, seq, "chat", vis, actor, at, data, {}))
                if postgres:
                    await _copy(s, "ticket_events", ["ticket_id", "seq", "kind", "visibility", "actor_id", "at",
                                                     "data", "actor"],
                                [(*e[:6], json.dumps(e[6]), "{}") for e in events])
                else:
                    keys = ("ticket_id", "seq", "kind", "visibility", "actor_id", "at", "data", "actor")
                    await s.execute(insert(TicketEvent), [dict(zip(keys, e, strict=True)) for e in events])
        if postgres:
            async with db.write() as s:
                await s.execute(text("ANALYZE"))
    finally:
        await db.dispose()
    started = time.perf_counter()
    await asyncio.to_thread(upgrade, url)
    built = time.perf_counter() - started
    if postgres:  # what autovacuum would do after a bulk load and the migrations' rewrites (0023 updates every
        import asyncpg  # ticket: a table of dead rows and no visibility map made staff searches 2x slower)

        conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
        try:
            await conn.execute("VACUUM (ANALYZE)")
        finally:
            await conn.close()
    return built


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


async def find_tickets(db: Database, clock: Clock, person: Person, q: str | dict[str, list[str]],
                       after: Position | None = None) -> tuple[list[int], Position | None]:
    """What `GET /api/tickets?q=` reads: a page of matches (visibility, filters and rank in one query), then their
    snippets (the rows' other columns come with the tickets). Returns the ids and where the next page starts."""
    params = {"q": [q]} if isinstance(q, str) else q
    query = parse_query(params)
    async with db.read() as s:
        found, following = await listing_store.page(s, person, query, clock.now(), after)
        ids = [t.id for t, _ in found]
        await search_store.snippets(s, query.q or "", ids, staff=person.is_staff)
    return ids, following


def row(label: str, who: str, results: int, times: list[float]) -> str:
    p50, p95, p99 = percentiles(times)
    return f"| {label} | {who} | {results} | {p50:.1f} | {p95:.1f} | {p99:.1f} |"


HEADER = ["| query | as | results | p50 ms | p95 ms | p99 ms |", "|---|---|---:|---:|---:|---:|"]
#: Filtered views with a search: (label, query string); each asked as a first page and as the page after it.
VIEWS = (
    ("`printer`, best match", {"q": ["printer"]}),
    ("`printer`, open (3 statuses), -updated", {"q": ["printer"], "status": ["new", "triage", "in_progress"],
                                                "sort": ["-updated"]}),
    ("`printer toner`, waiting on us, -created", {"q": ["printer toner"], "waiting_on": ["us"],
                                                  "sort": ["-created"]}),
    ("`{rare}`, -updated", {"q": ["{rare}"], "sort": ["-updated"]}),
)


async def searches(db: Database, staff: Person, client: Person, rare: str, runs: int) -> list[str]:
    lines = list(HEADER)
    clock = FixedClock(NOW)
    for label, q in QUERIES:
        q = q.format(rare=rare)
        for who, person in (("staff", staff), ("client", client)):
            results = len((await find_tickets(db, clock, person, q))[0])
            times = await timed(runs, lambda p=person, q=q: find_tickets(db, clock, p, q))
            lines.append(row(f"{label} (`{q}`)", who, results, times))
    return lines


async def views(db: Database, staff: Person, client: Person, rare: str, runs: int) -> list[str]:
    lines = list(HEADER)
    clock = FixedClock(NOW)
    for label, raw in VIEWS:
        params = {k: [v.format(rare=rare) for v in vs] for k, vs in raw.items()}
        for who, person in (("staff", staff), ("client", client)):
            ids, following = await find_tickets(db, clock, person, params)
            times = await timed(runs, lambda p=person, v=params: find_tickets(db, clock, p, v))
            lines.append(row(label.format(rare=rare) + ", first page", who, len(ids), times))
            if following is not None:
                ids = (await find_tickets(db, clock, person, params, following))[0]
                times = await timed(runs, lambda p=person, f=following, v=params: find_tickets(db, clock, p, v, f))
                lines.append(row(label.format(rare=rare) + ", next page", who, len(ids), times))
    return lines


async def twin_without(url: str, name: str, *triggers: str) -> str:
    """SQLite: a copy of the database without these triggers (its write path without what they keep)."""
    import sqlite3

    source = url.split("///", 1)[1]
    copy = str(Path(source).with_name(f"{name}.db"))
    src, dst = sqlite3.connect(source), sqlite3.connect(copy)
    try:
        src.backup(dst)
        for trigger in triggers:
            dst.execute(f"DROP TRIGGER IF EXISTS {trigger}")
        dst.commit()
    finally:
        src.close()
        dst.close()
    return f"sqlite+aiosqlite:///{copy}"


async def statement_by_statement(session: Any, update_ticket: Any, params: dict[str, Any], ticket_id: int,
                                 actor: Person | None, shown: dict[str, Any],
                                 events: list[tuple[str, str, dict[str, Any]]], now: datetime) -> int:
    """The write path as it was when issue 17 was filed: the ticket's UPDATE, the events' INSERT and the author's
    read mark, a statement each, and no search index (store/tickets.py before the statements were folded)."""
    count = len(events)
    last = int((await session.execute(update_ticket, params)).scalar_one())
    await session.execute(insert(store._EVENTS), [
        {"ticket_id": ticket_id, "seq": last - count + 1 + i, "kind": kind, "visibility": vis,
         "actor_id": actor.id if actor is not None else None, "at": now, "data": data, "actor": shown}
        for i, (kind, vis, data) in enumerate(events)])
    if actor is not None:
        first = last - count + 1
        if first == 1:
            await mark_reviewed(session, actor.id, ticket_id, last, now)
        else:
            reviews = store._REVIEWS.c
            await session.execute(update(store._REVIEWS).where(
                reviews.user_id == actor.id, reviews.ticket_id == ticket_id, reviews.seq >= first - 1,
                reviews.seq < last).values(seq=last, at=now))
    return last


#: The three write paths timed, in the order they take turns.
WITH, WITHOUT, BEFORE = "with the index", "without the index", "before: statement by statement, no index"


async def writes(db: Database, url: str, client: Person, runs: int) -> list[str]:
    """A message's write path (its own transaction) on seeded tickets in turn, taking turns write by write so all
    meet the same load on a shared machine: as shipped (with the index); as shipped without the index (PostgreSQL:
    the search CTE left out of the statement; SQLite: a copy of the database without the index's trigger); and as
    the write path was when issue 17 was filed (a statement each for the ticket, the events and the read mark, no
    index; SQLite: a copy without either trigger). Issue 17's target: the first within 10 % of the last."""
    async with db.read() as s:
        ids = list((await s.execute(select(Ticket.id).order_by(Ticket.id).limit(2000))).scalars())
    turn = iter(ids * (1 + 3 * runs // len(ids) + 1))
    kept = search_store.append_params, store._append_in_one, store._append_by_statements
    sqlite = url.startswith("sqlite")
    bare = Database(await twin_without(url, "without-index", "ticket_search_events")) if sqlite else db
    old = Database(await twin_without(url, "before", "ticket_search_events", "ticket_events_read_own")) \
        if sqlite else db

    def not_folded(*_: Any) -> None:
        return None

    async def before_pg(session: Any, update_ticket: Any, params: dict[str, Any], _indexed: Any,
                        actor: Person | None, shown: dict[str, Any], events: list[Any]) -> int:
        return await statement_by_statement(session, update_ticket, params, params["append_ticket"], actor, shown,
                                            events, params["append_at"])

    def path(label: str) -> Database:
        search_store.append_params = kept[0] if label == WITH else not_folded  # type: ignore[assignment]
        store._append_in_one = before_pg if label == BEFORE else kept[1]  # type: ignore[assignment]
        store._append_by_statements = statement_by_statement if label == BEFORE else kept[2]  # type: ignore
        return {WITH: db, WITHOUT: bare, BEFORE: old}[label]

    async def one(target: Database) -> None:
        async with target.write() as s:
            await store.append_event(s, next(turn), kind="chat", visibility="public", actor=client, now=NOW,
                                     data={"body": "The printer says paper jam in tray 2 again.",
                                           "visibility": "public"})

    times: dict[str, list[float]] = {WITH: [], WITHOUT: [], BEFORE: []}
    labels = list(times)
    try:
        for i in range(60):  # warm up
            await one(path(labels[i % 3]))
        for i in range(3 * runs):
            target = path(labels[i % 3])
            started = time.perf_counter()
            await one(target)
            times[labels[i % 3]].append(time.perf_counter() - started)
    finally:
        search_store.append_params, store._append_in_one, store._append_by_statements = kept  # type: ignore
        for other in {bare, old} - {db}:
            await other.dispose()
    lines = ["| a message's write | min ms | p25 ms | median ms | p75 ms | p95 ms | p99 ms |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    for label, values in times.items():
        q = statistics.quantiles(values, n=100)
        lines.append(f"| {label} | {min(values) * 1000:.2f} | {q[24] * 1000:.2f} | "
                     f"{statistics.median(values) * 1000:.2f} | {q[74] * 1000:.2f} | {q[94] * 1000:.2f} | "
                     f"{q[98] * 1000:.2f} |")
    with_, without, before = (statistics.median(v) for v in times.values())
    lines.append(f"\nmedian with / without the index: {with_ / without:.3f}; with the index / before: "
                 f"{with_ / before:.3f} (issue 17's target: at most 1.10)")
    return lines


async def run(kind: str, args: argparse.Namespace) -> None:
    name = None
    if args.url:
        url = args.url
    elif kind == "sqlite":
        url = f"sqlite+aiosqlite:///{Path(tempfile.mkdtemp(prefix='bench-search-')) / 'bench.db'}"
    else:
        import asyncpg

        name = f"livesupport_bench_search_{secrets.token_hex(4)}"
        conn = await asyncpg.connect(PG_ADMIN)
        await conn.execute(f'CREATE DATABASE "{name}"')
        await conn.close()
        url = f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}"
    try:
        if not args.url:
            started = time.perf_counter()
            built = await seed(url, args.messages, args.tickets, args.orgs)
            print(f"\n## {kind}: {args.messages:,} messages in {args.tickets:,} tickets of {args.orgs} organisations")
            print(f"seeded in {time.perf_counter() - started - built:.1f} s; the migrations from 0019 built the "
                  f"index in {built:.1f} s\n")
            if args.keep:
                print(f"kept: --url {url}\n")
        else:
            print(f"\n## {url}\n")
        db = Database(url)
        staff, client = await people(db)
        try:
            await SearchFolding(db).fold_all()  # what an earlier run wrote, as a server would have within a second
            if "search" in args.parts:
                print("\n".join(await searches(db, staff, client, rare_word(), args.runs)) + "\n", flush=True)
            if "views" in args.parts:
                print("\n".join(await views(db, staff, client, rare_word(), args.runs)) + "\n", flush=True)
            if "writes" in args.parts:
                print("\n".join(await writes(db, url, client, args.writes)), flush=True)
                await SearchFolding(db).fold_all()
        finally:
            await db.dispose()
    finally:
        if name and not args.keep:
            import asyncpg

            conn = await asyncpg.connect(PG_ADMIN)
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--orgs", type=int, default=500)
    parser.add_argument("--runs", type=int, default=100, help="timed runs of each query")
    parser.add_argument("--writes", type=int, default=1000, help="timed messages, with the index and without")
    parser.add_argument("--parts", nargs="+", default=["search", "views", "writes"],
                        choices=["search", "views", "writes"])
    parser.add_argument("--keep", action="store_true", help="keep the database (print its URL)")
    parser.add_argument("--url", help="time an already seeded database (one --keep left) instead of seeding")
    args = parser.parse_args()
    kinds = ["sqlite", "postgres"] if args.db == "both" else [args.db]
    if args.url:
        kinds = ["postgres" if args.url.startswith("postgresql") else "sqlite"]
    for kind in kinds:
        asyncio.run(run(kind, args))


if __name__ == "__main__":
    main()
