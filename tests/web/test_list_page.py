"""The ticket list page with filters in its URL, and its saved-view forms (SQLite and PostgreSQL)."""

from __future__ import annotations

import html
import re
import secrets

import pytest

from tests.conftest import Deployment, new_person
from tests.realtime.helpers import open_ticket
from tests.utils import Server, csrf_of, signed_in
from tests.web.test_macros_api import call


@pytest.fixture
def d(server: Server) -> Deployment:
    return server.deployment  # type: ignore[attr-defined,no-any-return]


def row_ids(text: str) -> list[int]:
    return [int(i) for i in re.findall(r'<li class="ticket-item[^"]*" data-ticket-id="(\d+)"', text)]


async def test_filters_in_the_url_pick_the_first_page_and_next_goes_on(server: Server, d: Deployment) -> None:
    me = await new_person(d, role="staff", org=None, tier=2)
    tag = secrets.token_hex(3)
    ids = [await open_ticket(server, d, f"Urgent {tag} {i}") for i in range(3)]
    for tid in ids:
        r = await call(server, d, me, "POST", "/api/tickets/bulk", {"ids": [tid], "priority": "urgent",
                                                                     "assign": [d.users[me]["id"]]})
        assert r.status_code == 200, r.text
    async with signed_in(server, d.users[me]["email"]) as http:
        page = await http.get("/tickets", params={"assignee": "me", "priority": "urgent", "sort": "created",
                                                  "limit": "2", "status": "", "org": ""})
        assert page.status_code == 200, page.text
        assert row_ids(page.text) == ids[:2]
        assert 'value="me" selected' in page.text and 'value="urgent" selected' in page.text
        following = html.unescape(re.search(r'id="next-page" href="([^"]+)"', page.text).group(1))
        assert "cursor=" in following and "assignee=me" in following
        second = await http.get(following)
        assert row_ids(second.text) == ids[2:] and 'id="list-more" hidden' in second.text
        # The page's cursor is the API's: the browser goes on through /api/tickets with it.
        api = await http.get("/api/tickets?" + following.split("?", 1)[1])
        assert [t["id"] for t in api.json()["tickets"]] == ids[2:]


async def test_the_search_box_lists_matches_best_first_with_their_passages(server: Server, d: Deployment) -> None:
    tag = "zq" + secrets.token_hex(3)
    best = await open_ticket(server, d, f"Printer{tag} printer{tag} offline {tag}")
    other = await open_ticket(server, d, f"Mail {tag}")
    await open_ticket(server, d, "Unrelated")
    async with signed_in(server, d.users["client"]["email"]) as http:
        page = await http.get("/tickets", params={"q": f"printer{tag}"})
        assert page.status_code == 200, page.text
        assert row_ids(page.text) == [best] and other not in row_ids(page.text)
        assert f'<span class="ticket-snippet"><mark>Printer{tag}</mark>' in page.text  # the words found, marked
        assert re.search(r'<option value=""[^>]*selected[^>]*>Best match first</option>', page.text)
        newest = await http.get("/tickets", params={"q": tag, "sort": "-created"})
        assert row_ids(newest.text) == [other, best]
        hostile = await http.get("/tickets", params={"q": "<script>x</script>"})
        assert hostile.status_code == 200 and "<script>x" not in hostile.text
        empty = await http.get("/tickets", params={"q": "-only"})
        assert empty.status_code == 400 and "at least one word" in empty.text


@pytest.mark.parametrize(("query", "words"), [
    ("status=done", "status: &#39;done&#39; is not one of"),
    ("updated_after=yesterday", "updated_after: "),
    ("updated_from=2026-02-30", "updated_from: &#39;2026-02-30&#39; is not a day"),
    ("sort=name", "sort: "),
    ("cursor=forged", "this is not a cursor this server gave out"),
])
async def test_a_refused_filter_is_said_on_the_page_not_a_500(server: Server, d: Deployment, query: str,
                                                              words: str) -> None:
    async with signed_in(server, d.users["engineer"]["email"]) as http:
        page = await http.get(f"/tickets?{query}&q=kept")
        assert page.status_code == 400
        assert 'id="list-error"' in page.text and words in page.text
        assert 'name="q" value="kept"' in page.text  # what was typed stays in the form


async def test_a_client_cannot_widen_the_list_with_another_organisations_id(server: Server, d: Deployment) -> None:
    theirs = await open_ticket(server, d, "Globex only", who="outsider")
    async with signed_in(server, d.users["client"]["email"]) as http:
        page = await http.get(f"/tickets?org={d.users['outsider']['org_id']}")
        assert page.status_code == 200 and theirs not in row_ids(page.text) and "Globex only" not in page.text


async def test_saving_and_deleting_a_view_from_the_page(server: Server, d: Deployment) -> None:
    me, alice = await new_person(d, role="staff", org=None, tier=2), await new_person(d)
    async with signed_in(server, d.users[me]["email"]) as http:
        page = await http.get("/tickets?status=new&assignee=none")
        csrf = csrf_of(page.text)
        r = await http.post("/tickets/views", data={"csrf": csrf, "name": "New, nobody on it",
                                                    "query": "status=new&assignee=none"})
        assert r.status_code == 303, r.text
        opened = await http.get(r.headers["location"])
        assert opened.status_code == 200 and "View saved." in opened.text
        assert 'aria-current="page">New, nobody on it' in opened.text
        vid = int(re.search(r"view=(\d+)", r.headers["location"]).group(1))
        # Refused: sharing (Level 2), a bad query, an expired form; the name typed comes back.
        for data, words in (({"shared": "on"}, "Level 3"), ({"query": "priority=top"}, "priority: "),
                            ({"csrf": "stale"}, "expired")):
            r = await http.post("/tickets/views", data={"csrf": csrf, "name": "Typed name", "query": "status=new",
                                                        **data})
            assert r.status_code == 303
            back = await http.get(r.headers["location"])
            assert words in html.unescape(back.text) and 'value="Typed name"' in back.text, data
        r = await http.post("/tickets/views", data={"csrf": csrf, "action": "delete", "view": str(vid),
                                                    "query": "status=new"})
        assert r.status_code == 303 and "View deleted." in (await http.get(r.headers["location"])).text
    # A client opening a staff member's view id sees no such view, and the list runs as them.
    async with signed_in(server, d.users[alice]["email"]) as http:
        page = await http.get(f"/tickets?view={vid}&status=new")
        assert page.status_code == 200 and "New, nobody on it" not in page.text


async def test_counters_link_to_their_filtered_lists(server: Server, d: Deployment) -> None:
    async with signed_in(server, d.users["engineer"]["email"]) as http:
        page = await http.get("/tickets")
        for key in ("open", "overdue", "unassigned", "mine"):
            assert f'id="counter-link-{key}"' in page.text
        assert 'href="/tickets?overdue=true" id="counter-link-overdue"' in page.text
    async with signed_in(server, d.users["client"]["email"]) as http:
        page = await http.get("/tickets")
        assert 'href="/tickets?waiting_on=client" id="counter-link-waiting_on_you"' in page.text
