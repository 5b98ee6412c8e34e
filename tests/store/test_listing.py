"""The list's SQL on SQLite and PostgreSQL: the `ids` restriction full-text search will use, under visibility."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from livesupport.domain.listing import parse_query
from livesupport.domain.people import Person, Role
from livesupport.store import listing
from livesupport.store import tickets as store
from livesupport.store.database import Database
from livesupport.store.models import Ticket
from tests.conftest import Deployment, new_person


async def test_a_set_of_ids_restricts_the_list_and_visibility_still_holds(deployment: Deployment) -> None:
    d = deployment
    key = await new_person(d, "client", org="Listing ids")
    mine = Person(d.users[key]["id"], "Ids", Role.CLIENT, org_id=d.users[key]["org_id"])
    other = d.users["outsider"]
    staff = Person(d.users["engineer"]["id"], "Dana", Role.STAFF, tier=2)
    now = datetime.now(UTC)
    db = Database(d.database_url)
    try:
        async with db.write() as s:
            ours = [(await store.create(s, org_id=mine.org_id, opened_by=mine.id,  # type: ignore[arg-type]
                                        subject=f"Ids {n}", priority="normal", now=now + timedelta(seconds=n))).id
                    for n in range(5)]
            theirs = (await store.create(s, org_id=other["org_id"], opened_by=other["id"], subject="Ids other",
                                         priority="normal", now=now)).id
        wanted = select(Ticket.id).where(Ticket.id.in_([ours[1], ours[3], theirs]))
        query = parse_query({"limit": ["1"], "sort": ["created"]})
        async with db.read() as s:
            first, after = await listing.page(s, mine, query, now, None, ids=wanted)
            second, end = await listing.page(s, mine, query, now, after, ids=wanted)
            assert [t.id for t, _ in first + second] == [ours[1], ours[3]] and end is None  # not theirs
            every, _ = await listing.page(s, staff, parse_query({}), now, None, ids=wanted)
            assert {t.id for t, _ in every} == {ours[1], ours[3], theirs}
            unrestricted, _ = await listing.page(s, mine, parse_query({}), now, None)
            assert [t.id for t, _ in unrestricted] == ours[::-1]
    finally:
        await db.dispose()
