"""A bulk change of many tickets, as a socket on another process sees it: each ticket's events once, in order."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from tests.conftest import Deployment
from tests.realtime.helpers import all_events, connected, open_ticket, server_pair
from tests.utils import Server, run_server
from tests.web.test_bulk_api import bulk

MANY = 100  # the most one request takes


@asynccontextmanager
async def stage(d: Deployment, redis_url: tuple[str, str]) -> AsyncIterator[tuple[Server, Server]]:
    """Where the change is sent, and where it is watched: two processes sharing Redis on PostgreSQL; SQLite is
    served by one process, so there both are the same. Frames are not rate-limited (one socket joins 100 tickets)."""
    if d.kind == "postgres":
        async with server_pair(d, redis_url, WS_RATE="0") as pair:
            yield pair
        return
    async with run_server(d.env(WS_RATE="0")) as one:
        one.deployment = d  # type: ignore[attr-defined]
        yield one, one


async def test_a_bulk_change_of_many_tickets_sends_each_its_events_once_and_in_order(
        deployment: Deployment, redis_url: tuple[str, str]) -> None:
    d = deployment
    dana = d.users["engineer"]["id"]
    async with stage(d, redis_url) as (a, b):
        tids = [await open_ticket(a, d, f"Many {n}") for n in range(MANY)]
        async with connected(b, d, "engineer") as watcher:
            joined = {tid: (await watcher.join(f"ticket:{tid}"))["seq"] for tid in tids}
            changes = [
                ({"priority": "high", "status": "in_progress", "assign": [dana]}, ["priority", "status", "assignment"]),
                # Already high and already Dana's: only the status is an event.
                ({"priority": "high", "status": "waiting_on_client", "assign": [dana]}, ["status"]),
                # The last change is the barrier: a repeat of an earlier event would have come before it.
                ({"status": "in_progress"}, ["status"]),
            ]
            for body, _ in changes:
                r = await bulk(a, d, "engineer2", {**body, "ids": tids})
                assert r.status_code == 200, r.text
                assert r.json() == {"updated": tids, "refused": []}
            expected = [kind for _, kinds in changes for kind in kinds]
            seen: dict[int, list[tuple[int, str]]] = defaultdict(list)
            for _ in range(MANY * len(expected)):
                ev = await watcher.expect(type="event", timeout=30)
                seen[int(ev["topic"].split(":")[1])].append((ev["seq"], ev["kind"]))
        assert sorted(seen) == sorted(tids)
        for tid in tids:
            start = joined[tid]
            assert seen[tid] == [(start + 1 + i, kind) for i, kind in enumerate(expected)], tid
        for tid in tids[::10]:  # and they are the events stored, no more
            stored = await all_events(a, d, "engineer", tid)
            assert [(e["seq"], e["kind"]) for e in stored if e["seq"] > joined[tid]] == seen[tid]
