"""The ticket list's days (updated_from / updated_to) over HTTP, on SQLite and PostgreSQL: whole days on the
asker's own clock, in GET /api/tickets, on the /tickets page (its fields, summary and refusals) and in saved views.

The tickets are written at chosen instants of November 2018 (an injected clock), in an organisation of the
test's own; New York (the desk's zone, COMPANY_TIMEZONE's default) is on winter time (UTC-5) all through.
"""

from __future__ import annotations

import html
import re
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest

from livesupport.actions.tickets import Tickets
from livesupport.clock import FixedClock
from livesupport.domain.people import Person, Role
from livesupport.realtime.brokers import broker_for
from livesupport.realtime.hub import Hub, new_origin
from livesupport.realtime.presence import MemoryPresence
from livesupport.store.database import Database
from tests.conftest import Deployment, new_person
from tests.realtime.helpers import connected
from tests.utils import Server, signed_in
from tests.web.test_list_page import row_ids
from tests.web.test_macros_api import call

DAYS = {"updated_from": "2018-11-06", "updated_to": "2018-11-08"}


@pytest.fixture
def d(server: Server) -> Deployment:
    return server.deployment  # type: ignore[attr-defined,no-any-return]


def new_york(text: str) -> datetime:
    """An instant on New York's clock in November 2018 (after the clocks went back: UTC-5)."""
    return datetime.fromisoformat(text + "-05:00").astimezone(UTC)


def person(d: Deployment, key: str, role: Role, tier: int | None = None) -> Person:
    u = d.users[key]
    return Person(u["id"], u["name"], role, u.get("org_id"), tier)


@asynccontextmanager
async def desk(database_url: str) -> AsyncIterator[tuple[Tickets, FixedClock]]:
    """The ticket actions on the test database, at a clock the test moves."""
    db = Database(database_url)
    clock = FixedClock(new_york("2018-11-01T09:00:00"))
    hub = Hub(broker_for(None), MemoryPresence(), None, new_origin())  # type: ignore[arg-type]
    try:
        yield Tickets(db, hub, clock), clock
    finally:
        await db.dispose()


@dataclass
class Week:
    """A client's organisation and its tickets, by when each last changed (New York's clock)."""

    client: str
    org: int
    late_5th: int  # Nov 5, 11:30 PM: the 6th already in Tokyo
    start_6th: int  # Nov 6, 12:00 AM sharp: the first instant of the 6th
    end_8th: int  # Nov 8, 11:59:59 PM: the last second of the 8th
    start_9th: int  # Nov 9, 12:00 AM: past the 8th
    noted_7th: int  # opened Nov 1; an internal note on Nov 7, 12:00 PM, which the client cannot see


async def make_week(database_url: str, d: Deployment) -> Week:
    client = await new_person(d, "client", org=f"Days {secrets.token_hex(3)}")
    staff = await new_person(d, "staff", org=None, tier=2)
    asker, engineer = person(d, client, Role.CLIENT), person(d, staff, Role.STAFF, 2)
    opened: dict[str, int] = {}
    async with desk(database_url) as (tickets, clock):
        for name, at in (("noted_7th", "2018-11-01T10:00:00"), ("late_5th", "2018-11-05T23:30:00"),
                         ("start_6th", "2018-11-06T00:00:00"), ("end_8th", "2018-11-08T23:59:59"),
                         ("start_9th", "2018-11-09T00:00:00")):
            clock.at = new_york(at)
            opened[name] = (await tickets.open(asker, f"Days {name}", "Help."))["id"]
        clock.at = new_york("2018-11-07T12:00:00")
        await tickets.chat(engineer, opened["noted_7th"], "Checked the logs: nothing for the client yet.",
                           "internal")
    return Week(client, d.users[client]["org_id"], **opened)


async def listed(server: Server, d: Deployment, who: str, **params: str) -> list[int]:
    r = await call(server, d, who, "GET", f"/api/tickets?{'&'.join(f'{k}={v}' for k, v in params.items())}")
    assert r.status_code == 200, r.text
    return [t["id"] for t in r.json()["tickets"]]


async def set_zone(server: Server, d: Deployment, who: str, zone: str) -> None:
    """What a page does for its person: their browser says which zone it is in."""
    async with connected(server, d, who) as c:
        assert (await c.request({"type": "time_zone", "time_zone": zone}))["ok"]


async def test_days_are_whole_days_on_the_askers_clock(server: Server, d: Deployment) -> None:
    w = await make_week(d.database_url, d)
    staff = await new_person(d, "staff", org=None, tier=2)
    org = str(w.org)
    # No zone reported yet: the desk's (New York). The first instant of the 6th counts, the 9th's does not;
    # staff see the internal note's change, the client does not.
    assert await listed(server, d, staff, org=org, **DAYS) == [w.end_8th, w.noted_7th, w.start_6th]
    assert await listed(server, d, w.client, **DAYS) == [w.end_8th, w.start_6th]
    assert await listed(server, d, staff, org=org, updated_from="2018-11-09") == [w.start_9th]
    assert await listed(server, d, staff, org=org, updated_to="2018-11-05") == [w.late_5th]
    assert await listed(server, d, staff, org=org, updated_from="2018-11-07", updated_to="2018-11-07") \
        == [w.noted_7th]  # one day
    # Days and instants go together: all must hold.
    assert await listed(server, d, staff, org=org, updated_before="2018-11-08T12:00:00Z", **DAYS) \
        == [w.noted_7th, w.start_6th]
    # Once the person's browser says Tokyo (UTC+9), the same days are Tokyo's.
    await set_zone(server, d, staff, "Asia/Tokyo")
    assert await listed(server, d, staff, org=org, **DAYS) == [w.noted_7th, w.start_6th, w.late_5th]
    # Another person's zone is theirs alone.
    assert await listed(server, d, w.client, **DAYS) == [w.end_8th, w.start_6th]


async def test_pages_of_a_walk_with_days_join_up(server: Server, d: Deployment) -> None:
    w = await make_week(d.database_url, d)
    staff = await new_person(d, "staff", org=None, tier=2)
    r = await call(server, d, staff, "GET", f"/api/tickets?org={w.org}&updated_from=2018-11-06"
                                            "&updated_to=2018-11-08&limit=2")
    first = r.json()
    assert [t["id"] for t in first["tickets"]] == [w.end_8th, w.noted_7th] and first["next"]
    r = await call(server, d, staff, "GET", f"/api/tickets?org={w.org}&updated_from=2018-11-06"
                                            f"&updated_to=2018-11-08&limit=2&cursor={first['next']}")
    assert [t["id"] for t in r.json()["tickets"]] == [w.start_6th] and r.json()["next"] is None
    # The cursor is bound to the days: with others it is refused.
    r = await call(server, d, staff, "GET", f"/api/tickets?org={w.org}&updated_from=2018-11-07"
                                            f"&updated_to=2018-11-08&limit=2&cursor={first['next']}")
    assert r.status_code == 400 and r.json()["error"]["code"] == "bad_cursor"


async def test_the_page_shows_and_keeps_the_days(server: Server, d: Deployment) -> None:
    w = await make_week(d.database_url, d)
    staff = await new_person(d, "staff", org=None, tier=2)
    async with signed_in(server, d.users[staff]["email"]) as http:
        page = await http.get("/tickets", params={"org": w.org, **DAYS, "limit": "2"})
        assert page.status_code == 200, page.text
        text = html.unescape(page.text)
        assert row_ids(page.text) == [w.end_8th, w.noted_7th]
        assert 'name="updated_from" id="filter-from" value="2018-11-06"' in text
        assert 'name="updated_to" id="filter-to" value="2018-11-08"' in text
        assert "(filtered: updated Nov 6 – Nov 8, 2018)" in text
        assert re.search(r'<details class="filter-panel" id="filter-panel" open>', text)  # the panel shows them
        assert 'id="filter-clear"' in text
        assert "Whole days, America/New York time (the support desk's time zone)." in text
        # The live list matches rows against the instants the server read the days as.
        assert 'data-updated-since="2018-11-06T05:00:00Z" data-updated-until="2018-11-09T05:00:00Z"' in text
        # The days are kept, no longer as hidden fields: the form sends them from its own date fields.
        assert not re.search(r'type="hidden" name="updated_(from|to)"', text)
        following = re.search(r'id="next-page" href="([^"]+)"', text).group(1)
        assert "updated_from=2018-11-06" in following and "updated_to=2018-11-08" in following
        second = await http.get(following)
        assert row_ids(second.text) == [w.start_6th]

        await set_zone(server, d, staff, "Asia/Tokyo")
        page = await http.get("/tickets", params={"org": w.org, **DAYS})
        text = html.unescape(page.text)
        assert row_ids(page.text) == [w.noted_7th, w.start_6th, w.late_5th]
        assert "Whole days, Asia/Tokyo time." in text
        assert 'data-updated-since="2018-11-05T15:00:00Z" data-updated-until="2018-11-08T15:00:00Z"' in text


@pytest.mark.parametrize(("days", "field", "words"), [
    ({"updated_from": "2018-11-08", "updated_to": "2018-11-06"}, "to",
     "updated_to: 2018-11-06 is before updated_from (2018-11-08), so nothing can match"),
    ({"updated_from": "yesterday", "updated_to": "2018-11-06"}, "from",
     "updated_from: 'yesterday' is not a day: write it as YYYY-MM-DD"),
    ({"updated_to": "0999-01-01"}, "to", "updated_to: 0999-01-01 is out of range"),
])
async def test_a_bad_day_is_said_on_the_page(server: Server, d: Deployment, days: dict[str, str], field: str,
                                             words: str) -> None:
    async with signed_in(server, d.users["engineer"]["email"]) as http:
        page = await http.get("/tickets", params={"priority": "high", **days})
        assert page.status_code == 400
        text = html.unescape(page.text)
        assert 'id="list-error"' in text and words in text
        # The field at fault says so; what was asked stays in the form to be put right; the panel is open.
        assert re.search(rf'id="filter-{field}" value="[^"]*"[^>]* aria-invalid="true" aria-errormessage="list-error"',
                         text)
        for name, value in days.items():
            assert f'name="{name}" id="filter-{name.removeprefix("updated_")}" value="{value}"' in text
        assert '<details class="filter-panel" id="filter-panel" open>' in text


async def test_a_saved_view_keeps_the_days_and_reads_them_on_the_openers_clock(server: Server,
                                                                               d: Deployment) -> None:
    w = await make_week(d.database_url, d)
    senior, other = await new_person(d, "staff", org=None, tier=3), await new_person(d, "staff", org=None, tier=2)
    r = await call(server, d, senior, "POST", "/api/views", {
        "name": "Week of the 6th", "query": f"updated_to=2018-11-08&org={w.org}&updated_from=2018-11-06",
        "shared": True})
    assert r.status_code == 201, r.text
    view = r.json()
    assert view["query"] == f"org={w.org}&updated_from=2018-11-06&updated_to=2018-11-08"  # spelt one way
    await set_zone(server, d, other, "Asia/Tokyo")
    for who, rows in ((senior, [w.end_8th, w.noted_7th, w.start_6th]), (other, [w.noted_7th, w.start_6th,
                                                                                 w.late_5th])):
        async with signed_in(server, d.users[who]["email"]) as http:
            page = await http.get(view["url"])
            assert page.status_code == 200, page.text
            assert row_ids(page.text) == rows, who
            assert 'value="2018-11-06"' in page.text and 'aria-current="page">Week of the 6th' in page.text
