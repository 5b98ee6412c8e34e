"""The list's SQL on SQLite and PostgreSQL: a search (`q`) restricts the list, under visibility, page by page."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta

import pytest

from livesupport.domain.listing import parse_query
from livesupport.domain.people import Person, Role
from livesupport.store import listing, search
from livesupport.store import tickets as store
from livesupport.store.database import Database
from tests.conftest import Deployment, new_person


async def test_a_search_restricts_the_list_and_visibility_still_holds(deployment: Deployment) -> None:
    d = deployment
    key = await new_person(d, "client", org="Listing ids")
    mine = Person(d.users[key]["id"], "Ids", Role.CLIENT, org_id=d.users[key]["org_id"])
    other = d.users["outsider"]
    staff = Person(d.users["engineer"]["id"], "Dana", Role.STAFF, tier=2)
    now = datetime.now(UTC)
    word = "zq" + secrets.token_hex(4)  # a word no other test's ticket holds
    db = Database(d.database_url)
    try:
        async with db.write() as s:
            ours = [(await store.create(s, org_id=mine.org_id, opened_by=mine.id,  # type: ignore[arg-type]
                                        subject=f"Ids {n} {word if n in (1, 3) else ''}", priority="normal",
                                        now=now + timedelta(seconds=n))).id
                    for n in range(5)]
            theirs = (await store.create(s, org_id=other["org_id"], opened_by=other["id"], subject=f"Ids {word}",
                                         priority="normal", now=now)).id
        for sort in ("created", "relevance"):
            query = parse_query({"limit": ["1"], "sort": [sort], "q": [word]})
            async with db.read() as s:
                first, after = await listing.page(s, mine, query, now, None)
                second, end = await listing.page(s, mine, query, now, after)
            found = [t.id for t, _ in first + second]
            assert sorted(found) == [ours[1], ours[3]] and end is None, sort  # not theirs
        async with db.read() as s:
            every, _ = await listing.page(s, staff, parse_query({"q": [word]}), now, None)
            assert {t.id for t, _ in every} == {ours[1], ours[3], theirs}
            unrestricted, _ = await listing.page(s, mine, parse_query({}), now, None)
            assert [t.id for t, _ in unrestricted] == ours[::-1]
    finally:
        await db.dispose()


@pytest.mark.parametrize(("ranked", "scanned"), [(3, 5000), (10, 3)])
async def test_relevance_ranks_the_newest_matches_and_lists_the_older_ones_after(
    deployment: Deployment, monkeypatch: pytest.MonkeyPatch, ranked: int, scanned: int,
) -> None:
    """Only the newest `RANKED` matches among the newest `SCANNED` tickets are ranked (best first); the older ones
    follow, newest first, page by page, each once."""
    d = deployment
    key = await new_person(d, "client", org="Listing ranked")
    mine = Person(d.users[key]["id"], "Ranked", Role.CLIENT, org_id=d.users[key]["org_id"])
    now = datetime.now(UTC)
    word = "zq" + secrets.token_hex(4)
    monkeypatch.setattr(search, "RANKED", ranked)
    monkeypatch.setattr(search, "SCANNED", scanned)
    db = Database(d.database_url)
    try:
        async with db.write() as s:  # the newest three: the subject says the word once, three times, twice
            times = [1, 3, 1, 1, 3, 2]
            ids = [(await store.create(s, org_id=mine.org_id, opened_by=mine.id,  # type: ignore[arg-type]
                                       subject=" ".join([word] * n), priority="normal",
                                       now=now + timedelta(seconds=i))).id for i, n in enumerate(times)]
        seen: list[int] = []
        after = None
        while True:
            async with db.read() as s:
                rows, after = await listing.page(s, mine, parse_query({"limit": ["2"], "q": [word]}), now, after)
            seen += [t.id for t, _ in rows]
            if after is None:
                break
        assert seen == [ids[4], ids[5], ids[3], ids[2], ids[1], ids[0]]
    finally:
        await db.dispose()
