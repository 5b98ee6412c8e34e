"""`GET /api/tickets?q=`: full-text search over a real server, on SQLite and on PostgreSQL.

Each test writes words of its own (a random tag), so tickets of other tests never match.
"""

from __future__ import annotations

import asyncio
import secrets
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from livesupport.domain.search import SCOPE_MARK
from livesupport.store.database import Database
from tests.conftest import Deployment, new_person, token_for
from tests.realtime.access_helpers import serve_through
from tests.realtime.helpers import connected, open_ticket
from tests.utils import Server


@pytest.fixture
def d(server: Server) -> Deployment:
    return server.deployment  # type: ignore[attr-defined,no-any-return]


@pytest.fixture
def tag() -> str:
    return "zq" + secrets.token_hex(4)  # a word no other ticket holds


async def search(server: Server, d: Deployment, who: str, q: str) -> httpx.Response:
    token = await token_for(server, d, who)
    async with httpx.AsyncClient(base_url=server.url) as http:
        return await http.get("/api/tickets", params={"q": q}, headers={"Authorization": f"Bearer {token}"})


async def found(server: Server, d: Deployment, who: str, q: str) -> list[dict[str, Any]]:
    r = await search(server, d, who, q)
    assert r.status_code == 200, r.text
    return r.json()["tickets"]  # type: ignore[no-any-return]


async def ids(server: Server, d: Deployment, who: str, q: str) -> list[int]:
    return [t["id"] for t in await found(server, d, who, q)]


async def say(server: Server, d: Deployment, who: str, tid: int, body: str, visibility: str = "public") -> int:
    async with connected(server, d, who) as c:
        ack = await c.request({"type": "chat", "topic": f"ticket:{tid}", "body": body, "visibility": visibility})
        assert ack["ok"], ack
        return int(ack["seq"])


async def as_staff(server: Server, d: Deployment, who: str, frame: dict[str, Any]) -> dict[str, Any]:
    async with connected(server, d, who) as c:
        ack = await c.request(frame)
        assert ack["ok"], ack
        return ack


async def test_word_forms_phrases_or_and_exclusions(server: Server, d: Deployment, tag: str) -> None:
    jam = await open_ticket(server, d, f"Printers jam {tag}")
    tray = await open_ticket(server, d, f"Tray {tag}")
    await say(server, d, "client", tray, "The paper is jammed in the tray; the toner is low.")
    mail = await open_ticket(server, d, f"Mail {tag}")
    await say(server, d, "client", mail, "Outlook shows an e-mail bounce")

    assert await ids(server, d, "client", f"printer {tag}") == [jam]  # printers -> printer
    assert await ids(server, d, "engineer", f"PRINTER {tag}") == [jam]  # any case
    assert set(await ids(server, d, "client", f"jam {tag}")) == {jam, tray}  # jammed -> jam
    assert await ids(server, d, "client", f'"paper is jammed" {tag}') == [tray]
    assert await ids(server, d, "client", f'"jammed paper" {tag}') == []  # a phrase keeps its order
    decoy = await open_ticket(server, d, f"Outlook decoy {tag[::-1]}")  # outlook, without the tag
    found = set(await ids(server, d, "client", f"{tag} printer OR outlook"))
    assert found == {jam, mail} and decoy not in found  # tag AND (printer OR outlook), on both databases
    assert set(await ids(server, d, "client", f"{tag} -toner")) == {jam, mail}
    assert await ids(server, d, "client", f'{tag} -"e mail" -printers') == [tray]
    assert await ids(server, d, "client", f"{tag} email") == []  # a different word


async def test_ranked_best_first_with_marked_escaped_snippets(server: Server, d: Deployment, tag: str) -> None:
    once = await open_ticket(server, d, f"Something else {tag}")
    await say(server, d, "client", once, f"By the way the firewall{tag} rebooted.")
    subject = await open_ticket(server, d, f"Firewall{tag} down")
    await say(server, d, "client", subject, f"The firewall{tag} is down, firewall{tag} lights are red.")
    rows = await found(server, d, "client", f"firewall{tag}")
    assert [r["id"] for r in rows] == [subject, once]  # in the subject, and more often, ranks higher
    row = rows[0]
    assert {"id", "subject", "status", "priority", "org", "overdue", "unreviewed", "snippet"} <= set(row)
    assert f"<mark>firewall{tag}</mark>" in row["snippet"]

    hostile = await open_ticket(server, d, f"Markup {tag}")
    await say(server, d, "client", hostile, f'<script>alert("x")</script> & <mark>fake</mark> {tag}word')
    (snip,) = [r["snippet"] for r in await found(server, d, "client", f"{tag}word")]
    # (PostgreSQL's headline leaves markup-like tags out; SQLite's keeps them, escaped.)
    assert "<script>" not in snip and "alert(&quot;x&quot;)" in snip and "&amp;" in snip
    assert f"<mark>{tag}word</mark>" in snip and snip.count("<mark>") == 1 and snip.count("</mark>") == 1


async def test_a_message_is_found_as_soon_as_it_is_acknowledged(server: Server, d: Deployment, tag: str) -> None:
    tid = await open_ticket(server, d, f"Fresh {tag}")
    assert await ids(server, d, "client", f"{tag}later") == []
    await say(server, d, "client", tid, f"one more thing: {tag}later")
    assert await ids(server, d, "client", f"{tag}later") == [tid]  # the index moved with the message


async def document_of(d: Deployment, tid: int) -> str:
    """The public text of the ticket's search document, as stored (PostgreSQL: without its recent rows)."""
    db = Database(d.database_url)
    try:
        async with db.read() as s:
            key = "ticket_id" if d.kind == "postgres" else "rowid"
            return str((await s.execute(text(f"SELECT public_text FROM ticket_search WHERE {key} = :id"),
                                        {"id": tid})).scalar_one())
    finally:
        await db.dispose()


async def test_the_server_folds_new_text_into_the_document_by_itself(server: Server, d: Deployment,
                                                                    tag: str) -> None:
    """PostgreSQL writes a message's text as a recent row; the server folds it into the ticket's document within
    about a second (SQLite's document has it at once), and it is found all along."""
    tid = await open_ticket(server, d, f"Folded {tag}")
    await say(server, d, "client", tid, f"kept {tag}later")
    deadline = asyncio.get_running_loop().time() + 15
    while f"kept {tag}later" not in await document_of(d, tid):
        assert await ids(server, d, "client", f"{tag}later") == [tid]
        assert asyncio.get_running_loop().time() < deadline, "the server never folded the message in"
        await asyncio.sleep(0.1)
    assert await ids(server, d, "client", f"{tag}later") == [tid]


async def test_clients_find_only_their_organisation(server: Server, d: Deployment, tag: str) -> None:
    acme = await open_ticket(server, d, f"Acme router {tag}")
    globex = await open_ticket(server, d, f"Globex router {tag}", who="outsider")
    assert await ids(server, d, "client", f"router {tag}") == [acme]
    assert await ids(server, d, "client2", f"router {tag}") == [acme]  # a colleague too
    assert await ids(server, d, "outsider", f"router {tag}") == [globex]
    assert set(await ids(server, d, "engineer", f"router {tag}")) == {acme, globex}

    # Moved to Globex: Acme's people lose it at once, Globex's find it.
    token = await token_for(server, d, "engineer2")
    async with httpx.AsyncClient(base_url=server.url) as http:
        r = await http.post(f"/api/tickets/{acme}/move", json={"org_id": d.users["outsider"]["org_id"]},
                            headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200, r.text
    assert await ids(server, d, "client", f"router {tag}") == []
    assert set(await ids(server, d, "outsider", f"router {tag}")) == {acme, globex}


async def test_a_partner_finds_its_clients_tickets_while_it_serves_them(server: Server, d: Deployment,
                                                                       tag: str) -> None:
    partner = await new_person(d, "partner", org=f"Partner {tag}")
    client = await new_person(d, "client", org=f"Client {tag}")
    client_org, partner_org = d.users[client]["org_id"], d.users[partner]["org_id"]
    theirs = await open_ticket(server, d, f"Printer {tag}", who=client)
    await say(server, d, client, theirs, f"The printer {tag} is offline")
    acme = await open_ticket(server, d, f"Printer {tag}")  # another organisation's, with the same words
    assert await ids(server, d, partner, f"printer {tag}") == []

    await serve_through(d, client_org, partner_org)  # the organisation gets the partner: its tickets follow
    (row,) = await found(server, d, partner, f"printer {tag}")
    assert row["id"] == theirs and f"<mark>{tag}</mark>" in row["snippet"]
    assert SCOPE_MARK not in row["snippet"] and f"p{partner_org}" not in row["snippet"]
    assert await ids(server, d, client, f"printer {tag}") == [theirs]
    assert set(await ids(server, d, "engineer", f"printer {tag}")) == {theirs, acme}

    await serve_through(d, client_org, None)  # and loses it
    assert await ids(server, d, partner, f"printer {tag}") == []
    assert await ids(server, d, client, f"printer {tag}") == [theirs]


async def test_internal_words_never_find_a_ticket_for_a_client(server: Server, d: Deployment, tag: str) -> None:
    tid = await open_ticket(server, d, f"Slow VPN {tag}")
    await say(server, d, "client", tid, f"It drops every hour {tag}pub")
    note = await say(server, d, "engineer2", tid, f"Their {tag}note ISP is throttling; {tag}pub again", "internal")
    await as_staff(server, d, "engineer2", {"type": "pin", "topic": f"ticket:{tid}", "seq": note})
    await as_staff(server, d, "engineer2", {"type": "task", "topic": f"ticket:{tid}", "title": f"Check {tag}title",
                                            "note": f"Password is {tag}task"})
    await as_staff(server, d, "engineer2", {"type": "invite", "topic": f"ticket:{tid}",
                                            "user_id": d.users["engineer"]["id"], "message": f"See {tag}invite"})
    for word in ("note", "task", "invite"):  # an internal note (pinned as guidance), a task's note, an invitation
        assert await ids(server, d, "engineer", f"{tag}{word}") == [tid]
        assert await ids(server, d, "client", f"{tag}{word}") == []
        assert await ids(server, d, "client", f"{tag}pub {tag}{word}") == []  # not even with a public word
        assert await ids(server, d, "client", f"{tag}pub OR {tag}{word}") == [tid]
    assert await ids(server, d, "client", f"{tag}title") == [tid]  # a task's title is public
    # -word reads only what the reader sees: an internal word excludes nothing for a client
    assert await ids(server, d, "client", f"{tag}pub -{tag}note") == [tid]
    assert await ids(server, d, "engineer", f"{tag}pub -{tag}note") == []

    (client_row,) = await found(server, d, "client", f"{tag}pub")
    assert f"<mark>{tag}pub</mark>" in client_row["snippet"]
    assert "ISP" not in client_row["snippet"] and f"{tag}note" not in client_row["snippet"]
    (staff_row,) = await found(server, d, "engineer", f"{tag}note")
    assert f"<mark>{tag}note</mark>" in staff_row["snippet"]


@pytest.mark.parametrize(("q", "words"), [
    ("", "Type something"), ("   ", "Type something"), ("x" * 201, "the limit is 200"),
    ("-printer", "at least one word"), ("***", "at least one word"), ('- OR "', "at least one word"),
])
async def test_bad_queries_are_refused_plainly(server: Server, d: Deployment, q: str, words: str) -> None:
    r = await search(server, d, "client", q)
    assert r.status_code == 400 and r.json()["error"]["code"] == "bad_query" and words in r.json()["error"]["message"]


@pytest.mark.parametrize("q", ['NEAR(a b)', "subject:x", '"unbalanced', "x*", "{internal_text}: x", "^x",
                               "x" * 200, "日本語 OR тест", "a:b:c (d)", "rowid:1"])
async def test_odd_queries_are_words(server: Server, d: Deployment, tag: str, q: str) -> None:
    assert (await search(server, d, "client", q)).status_code == 200
    tid = await open_ticket(server, d, f"{q[:150]} {tag}")
    assert tid in await ids(server, d, "client", f"{q[:150]} {tag}")  # what was written is found as written


@pytest.mark.parametrize("q", ["\x00printer", "printer\x00 -\x00", "\u200b\u202e x", "🖨️ printer", "%00 %27 '; --"])
async def test_control_characters_and_symbols_are_no_trouble(server: Server, d: Deployment, q: str) -> None:
    assert (await search(server, d, "engineer", q)).status_code == 200


async def test_without_q_the_list_is_unchanged(server: Server, d: Deployment) -> None:
    token = await token_for(server, d, "client")
    async with httpx.AsyncClient(base_url=server.url) as http:
        r = await http.get("/api/tickets", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200 and all("snippet" not in t for t in r.json()["tickets"])


async def walk(server: Server, d: Deployment, who: str, **params: str) -> list[dict[str, Any]]:
    """Every page of a list, one ticket per page, following `next`."""
    token = await token_for(server, d, who)
    rows: list[dict[str, Any]] = []
    query: dict[str, str] = {**params, "limit": "1"}
    async with httpx.AsyncClient(base_url=server.url) as http:
        while True:
            r = await http.get("/api/tickets", params=query, headers={"Authorization": f"Bearer {token}"})
            assert r.status_code == 200, r.text
            rows += r.json()["tickets"]
            if r.json()["next"] is None:
                return rows
            query = {**params, "limit": "1", "cursor": r.json()["next"]}


async def test_search_joins_the_filters_sorts_and_pages(server: Server, d: Deployment, tag: str) -> None:
    """q is one more filter: with status, with any sort, page by page (ranked pages carry the rank in the cursor)."""
    best = await open_ticket(server, d, f"Scanner{tag} scanner{tag} offline")
    await say(server, d, "client", best, f"The scanner{tag} is still offline, scanner{tag} again.")
    mid = await open_ticket(server, d, f"Scanner{tag} slow")
    low = await open_ticket(server, d, f"Something else {tag}")
    await say(server, d, "client", low, f"Also the scanner{tag}.")
    await open_ticket(server, d, f"Unrelated {tag}")
    await as_staff(server, d, "engineer", {"type": "status", "topic": f"ticket:{mid}", "status": "waiting_on_client"})

    ranked = await walk(server, d, "client", q=f"scanner{tag}")
    assert [r["id"] for r in ranked] == [best, mid, low]  # best first, one per page, none twice
    assert all(f"<mark>scanner{tag}</mark>" in r["snippet"].lower() for r in ranked)
    newest = await walk(server, d, "engineer", q=f"scanner{tag}", sort="-created")
    assert [r["id"] for r in newest] == [low, mid, best]
    waiting = await walk(server, d, "engineer", q=f"scanner{tag}", status="waiting_on_client")
    assert [r["id"] for r in waiting] == [mid]

    token = await token_for(server, d, "client")
    async with httpx.AsyncClient(base_url=server.url) as http:
        first = (await http.get("/api/tickets", params={"q": f"scanner{tag}", "limit": "1"},
                                headers={"Authorization": f"Bearer {token}"})).json()
        other = await http.get("/api/tickets", params={"q": f"offline{tag}", "limit": "1", "cursor": first["next"]},
                               headers={"Authorization": f"Bearer {token}"})
        unranked = await http.get("/api/tickets", params={"sort": "relevance"},
                                  headers={"Authorization": f"Bearer {token}"})
    assert other.status_code == 400 and other.json()["error"]["code"] == "bad_cursor"  # another search's cursor
    assert unranked.status_code == 400 and unranked.json()["error"]["code"] == "bad_parameter"
