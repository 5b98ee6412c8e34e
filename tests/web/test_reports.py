"""Reports over HTTP, on SQLite and PostgreSQL: counts checked against tickets made at chosen instants.

The tickets are written through the use cases (actions.tickets) with a FixedClock, in March 2021, a week no
other test writes in; the server reads them with its own (wall) clock, so a promise still open then is overdue.
"""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from sqlalchemy import update

from livesupport.actions.tickets import Tickets
from livesupport.clock import FixedClock
from livesupport.domain.people import Person, Role
from livesupport.realtime.brokers import broker_for
from livesupport.realtime.hub import Hub, new_origin
from livesupport.realtime.presence import MemoryPresence
from livesupport.store.database import Database
from livesupport.store.models.ratings import TicketRating
from tests.conftest import Deployment, new_person, token_for
from tests.utils import Server

pytestmark = pytest.mark.asyncio(loop_scope="session")

WEEK = {"from": "2021-03-01", "to": "2021-03-07"}


def at(text: str) -> datetime:
    """An instant given in New York's winter time (UTC-5), the company's zone by default."""
    return datetime.fromisoformat(text + "-05:00").astimezone(UTC)


@asynccontextmanager
async def desk(d: Deployment) -> AsyncIterator[tuple[Tickets, FixedClock, Database]]:
    db = Database(d.database_url)
    clock = FixedClock(at("2021-03-01T09:00:00"))
    hub = Hub(broker_for(None), MemoryPresence(), None, new_origin())  # type: ignore[arg-type]
    try:
        yield Tickets(db, hub, clock), clock, db
    finally:
        await db.dispose()


def person(d: Deployment, key: str, role: Role, tier: int | None = None) -> Person:
    u = d.users[key]
    return Person(u["id"], u["name"], role, u.get("org_id"), tier)


async def rate(db: Database, ticket_id: int, score: str, when: datetime) -> None:
    """The rating row as the satisfaction API keeps it: one per ticket, the latest counts."""
    async with db.write() as s:
        row = await s.get(TicketRating, ticket_id)
        if row is None:
            s.add(TicketRating(ticket_id=ticket_id, score=score, created_at=when, updated_at=when))
        else:
            await s.execute(update(TicketRating).where(TicketRating.ticket_id == ticket_id).values(
                score=score, updated_at=when))


async def make_week(d: Deployment) -> list[int]:
    """Three tickets of the week of 1 March 2021 (a Monday); see test_summary_counts for what each should give."""
    client = person(d, await new_person(d, "client"), Role.CLIENT)
    staff = person(d, await new_person(d, "staff", org=None, tier=2), Role.STAFF, 2)
    async with desk(d) as (tickets, clock, db):
        clock.at = at("2021-03-01T10:00:00")  # T1, normal: first answer due 14:00
        t1 = (await tickets.open(client, "Printer", "It jams."))["id"]
        clock.at = at("2021-03-01T11:00:00")  # answered in 1 h (kept); next update due 19:00
        await tickets.chat(staff, t1, "Try the rear tray.", "public")
        clock.at = at("2021-03-01T12:00:00")  # resolved (kept)
        await tickets.set_status(staff, t1, "resolved", None, given=False)
        await rate(db, t1, "good", at("2021-03-01T13:00:00"))
        await rate(db, t1, "bad", at("2021-03-02T13:00:00"))  # changed: the latest counts

        clock.at = at("2021-03-05T16:00:00")  # T2, high, a Friday: first answer due 17:00
        t2 = (await tickets.open(client, "VPN down", "Nobody can connect.", "high"))["id"]
        clock.at = at("2021-03-08T09:30:00")  # Monday: missed; 1.5 business hours later
        await tickets.chat(staff, t2, "Looking now.", "public")
        clock.at = at("2021-03-08T10:00:00")  # resolved (kept), but not in the week
        await tickets.set_status(staff, t2, "resolved", None, given=False)
        clock.at = at("2021-03-09T09:00:00")  # reopened: unsolved, and its promise never kept (overdue now)
        await tickets.set_status(staff, t2, "in_progress", None, given=False)

        clock.at = at("2021-03-03T08:00:00")  # T3: staff open it for the client (not a response)
        t3 = (await tickets.open(staff, "New laptop", "Setting one up for you.", org_id=client.org_id))["id"]
        clock.at = at("2021-03-03T12:00:00")  # closed when due (kept): 4 h, 3 of them business hours
        await tickets.set_status(staff, t3, "closed", None, given=False)
        await rate(db, t3, "good", at("2021-03-03T13:00:00"))
    return [t1, t2, t3]


async def get(srv: Server, token: str, path: str, **params: str) -> httpx.Response:
    async with httpx.AsyncClient(base_url=srv.url) as http:
        return await http.get(path, params=params, headers={"Authorization": f"Bearer {token}"})


async def test_summary_counts(server: Server, deployment: Deployment) -> None:
    senior = await new_person(deployment, "staff", org=None, tier=3)
    token = await token_for(server, deployment, senior)
    # The backlog at the week's end counts every ticket still open then, and other tests of this shared database
    # write tickets dated earlier (the list's day filters use 2018): count only what this test adds to it.
    before = (await get(server, token, "/api/reports/summary", **WEEK)).json()["backlog"]
    ids = await make_week(deployment)
    r = await get(server, token, "/api/reports/summary", **WEEK, by="priority,engineer")
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    assert {k: body[k] for k in ("created", "solved")} == {"created": 3, "solved": 2}
    assert body["backlog"] - before == 1
    assert body["first_response"] == {"count": 2, "median_s": 3600, "p90_s": 235800}
    assert body["first_response_business"] == {"count": 2, "median_s": 3600, "p90_s": 5400}
    assert body["resolution"] == {"count": 2, "median_s": 7200, "p90_s": 14400}
    assert body["resolution_business"] == {"count": 2, "median_s": 7200, "p90_s": 10800}
    assert body["sla"] == {"met": 4, "missed": 2}  # T1 2, T2 1 + missed 1 + overdue 1, T3 1
    assert body["satisfaction"] == {"good": 1, "bad": 1}
    by_priority = {row["key"]: row for row in body["by"]["priority"]}
    assert by_priority["high"]["created"] == 1 and by_priority["high"]["sla"] == {"met": 1, "missed": 2}
    assert by_priority["normal"]["created"] == 2 and by_priority["normal"]["solved"] == 2
    assert [row["name"] for row in body["by"]["engineer"]] == ["Unassigned"]

    day = await get(server, token, "/api/reports/summary", **{"from": "2021-03-08", "to": "2021-03-08"})
    assert day.json()["solved"] == 0  # T2 was solved that day, then reopened: unsolved until solved again

    export = await get(server, token, "/reports/export.csv", **WEEK)
    assert export.status_code == 200 and export.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(export.text)))
    assert [int(row["id"]) for row in rows] == sorted(ids)
    first = next(row for row in rows if int(row["id"]) == ids[0])
    assert (first["first_response_s"], first["resolution_business_s"], first["rating"]) == ("3600", "7200", "bad")


async def test_csv_cells_cannot_be_formulas(server: Server, deployment: Deployment) -> None:
    client = person(deployment, await new_person(deployment, "client"), Role.CLIENT)
    async with desk(deployment) as (tickets, clock, _):
        clock.at = at("2021-04-05T10:00:00")
        await tickets.open(client, "=HYPERLINK(\"http://evil.test\")", "x")
        await tickets.open(client, "@SUM(A1)", "x")
    token = await token_for(server, deployment, await new_person(deployment, "admin", org=None))
    export = await get(server, token, "/reports/export.csv", **{"from": "2021-04-05", "to": "2021-04-05"})
    subjects = sorted(row["subject"] for row in csv.DictReader(io.StringIO(export.text)))
    assert subjects == ["'=HYPERLINK(\"http://evil.test\")", "'@SUM(A1)"]


@pytest.mark.parametrize("who", ["client", "engineer", "domain_admin"])
async def test_only_level_3_and_admins(server: Server, deployment: Deployment, who: str) -> None:
    token = await token_for(server, deployment, who)
    for path in ("/api/reports/summary", "/api/reports/today", "/reports/export.csv"):
        r = await get(server, token, path)
        assert r.status_code == 403, (path, r.text)
        assert r.json()["error"]["code"] == "forbidden"


@pytest.mark.parametrize(("params", "named"), [
    ({"from": "2021-13-01"}, "from"), ({"to": "yesterday"}, "to"), ({"from": "2021-03-08", "to": "2021-03-01"}, "from"),
    ({"from": "2019-01-01", "to": "2021-12-31"}, "to"), ({"by": "moon"}, "by")])
async def test_bad_dates(server: Server, deployment: Deployment, params: dict[str, str], named: str) -> None:
    token = await token_for(server, deployment, "engineer2")
    r = await get(server, token, "/api/reports/summary", **params)
    assert r.status_code == 400, r.text
    error = r.json()["error"]
    assert error["code"] == "bad_parameter" and error["message"].startswith(f"{named}:")
