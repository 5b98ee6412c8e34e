"""`GET /api/tickets`: filters, sort and keyset pages, and the signed cursor that joins the pages of one walk.

A cursor is where the last page ended (store/listing.py Position), signed with the app's secret and bound to
the person who asked and to the question (ListQuery.fingerprint): changed, replayed by someone else or on
other filters or another sort, it is refused with `bad_cursor`. It also carries `catch_up_after`, fixed on the
first page, so every page of a walk reports the same instant (docs/api.md, "Walking the ticket list").
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from itsdangerous import BadSignature, URLSafeSerializer
from starlette.requests import Request

from livesupport.clock import iso
from livesupport.domain.errors import LivesupportError
from livesupport.domain.listing import (
    DEFAULT_LIMIT,
    FIRST_DAY,
    LAST_DAY,
    MAX_LIMIT,
    MAX_VALUES,
    SORTS,
    BadCursorError,
    ListQuery,
    parse_query,
)
from livesupport.domain.people import Person
from livesupport.domain.search import MAX_QUERY
from livesupport.store.listing import Position, segments
from livesupport.web.errors import JSONResponse, json_error
from livesupport.web.openapi import operation
from livesupport.web.openapi import schemas as s
from livesupport.web.security import api_person
from livesupport.web.services import services

#: How far before the first page `catch_up_after` lies: a write whose transaction read the clock before the walk
#: began may commit after its first page; its ticket's updated_at is at most this much older than its commit.
CATCH_UP_MARGIN = timedelta(minutes=1)
MAX_CURSOR = 600  # characters: ours are about 200
DAY_PARAMETERS = ("updated_from", "updated_to")


async def zone_of(request: Request, person: Person) -> tuple[ZoneInfo, bool]:
    """The person's own time zone (True), or the desk's (COMPANY_TIMEZONE) while their browser has not said."""
    svc = services(request)
    return await svc.context.zone_of(person, svc.settings.timezone)


async def read_query(request: Request, person: Person, params: Mapping[str, Sequence[str]],
                     zone: ZoneInfo | None = None) -> ListQuery:
    """parse_query with the days read on the person's own clock (looked up only when a day is asked for)."""
    if zone is None and any(name in params for name in DAY_PARAMETERS):
        zone = (await zone_of(request, person))[0]
    return parse_query(params, zone or UTC)


def _serializer(request: Request) -> URLSafeSerializer:
    return URLSafeSerializer(services(request).settings.secret_key, salt="ticket-list-cursor")


def make_cursor(request: Request, person_id: int, query: ListQuery, at: Position, catch_up: datetime) -> str:
    key = at.key if isinstance(at.key, float) or at.key is None else iso(at.key)  # a rank, or an instant
    return str(_serializer(request).dumps([query.fingerprint(), person_id, at.segment, key, at.id, iso(catch_up)]))


def _key_of(sort: str, keyed: bool, key: object) -> datetime | float | None | bool:
    """The cursor's sort key as the segment needs it; False when it is not of the segment's kind."""
    if not keyed:
        return None
    if sort == "relevance":
        return float(key) if isinstance(key, (int, float)) and not isinstance(key, bool) else False
    return datetime.fromisoformat(key) if isinstance(key, str) else False


def read_cursor(request: Request, person_id: int, query: ListQuery, staff: bool) -> tuple[Position, datetime]:
    """Where the walk goes on from, and its catch-up instant; or a refusal saying what is wrong with the cursor."""
    text = query.cursor or ""
    try:
        if len(text) > MAX_CURSOR:
            raise BadSignature("too long")
        fingerprint, owner, segment, key, ident, catch_up = _serializer(request).loads(text)
    except (BadSignature, ValueError, TypeError):
        raise BadCursorError("cursor: this is not a cursor this server gave out, or it was changed. Send the "
                             "`next` of the page before exactly as it came, or leave cursor out to start "
                             "again.") from None
    if owner != person_id:
        raise BadCursorError("cursor: this cursor was given to someone else. Leave cursor out to start your own "
                             "walk.")
    if fingerprint != query.fingerprint():
        raise BadCursorError("cursor: this cursor belongs to a list with other filters or another sort. Keep "
                             "the filters and sort of the first page (only limit may change), or leave cursor "
                             "out to start again.")
    chain = segments(query.sort, staff, "rank")  # only which segments have a key matters here
    at = _key_of(query.sort, chain[segment].key is not None, key) \
        if isinstance(segment, int) and 0 <= segment < len(chain) else False
    if at is False or not isinstance(ident, int) or not isinstance(catch_up, str):
        raise BadCursorError("cursor: this cursor is not one this server can read; leave cursor out to start "
                             "again.")  # only with a forged signature: ours are always well formed
    assert not isinstance(at, bool)
    return Position(segment, at, ident), datetime.fromisoformat(catch_up)


_QUERY = [
    s.query("q", {**s.TEXT, "minLength": 1, "maxLength": MAX_QUERY}, (
        f"Search words (up to {MAX_QUERY} characters): every word must match, in any form (printers finds "
        'printer); "a phrase" in quotes, `OR` between alternatives, `-word` to leave out. Only the tickets whose '
        "subject or messages (as you may read them) match are listed, best match first unless `sort` says "
        "otherwise, each with a `snippet`. An empty or too long `q`, or one with nothing to look for, answers 400 "
        "bad_query.")),
    s.query("status", {"type": "array", "items": s.STATUS_NAME, "maxItems": MAX_VALUES},
            "Only tickets in these statuses; repeat the parameter for several (status=new&status=triage)."),
    s.query("priority", s.PRIORITY, "Only tickets of this priority."),
    s.query("assignee", {**s.TEXT, "pattern": "^(me|none|[0-9]{1,10})$"},
            "me: assigned to me; none: assigned to nobody; a user id: assigned to that person."),
    s.query("org", {**s.ID}, "Staff: only this organisation's tickets. A client always sees only their own "
                             "organisation's: another organisation's id gives an empty list."),
    s.query("overdue", s.enum(["true", "false"]), "true: only open tickets whose next update is due and past."),
    s.query("waiting_on", s.enum(["client", "us"]),
            "client: waiting on the client; us: open and waiting on support (new, triage, in progress)."),
    s.query("updated_after", s.INSTANT, "Only tickets changed after this instant (as you can see them: clients "
                                        "do not see staff-only changes)."),
    s.query("updated_before", s.INSTANT, "Only tickets changed before this instant; it must come after "
                                         "updated_after when both are given."),
    s.query("updated_from", s.DAY, f"Only tickets changed on this day or later (YYYY-MM-DD, {FIRST_DAY} to "
                                   f"{LAST_DAY}): from the start of the day in your own time zone (as your browser "
                                   "last reported it on a page of the product; the desk's, COMPANY_TIMEZONE, until "
                                   "it has), as you can see the changes."),
    s.query("updated_to", s.DAY, "Only tickets changed on this day or earlier, to the end of the day in your own "
                                 "time zone; not before updated_from when both are given."),
    s.query("sort", s.enum(SORTS),
            "-updated: latest change first. created / -created: oldest / newest ticket first. next_update: the "
            "soonest due next update first, tickets without one last. priority: urgent first, then newest. "
            "relevance (the default with q, refused without it): best match first. Without q the default is -updated."),
    s.query("limit", {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT},
            f"How many tickets a page holds, 1 to {MAX_LIMIT}."),
    s.query("cursor", {**s.TEXT, "minLength": 1, "maxLength": MAX_CURSOR},
            "The `next` of the page before, as it came, with the same filters and sort."),
]


@operation(
    summary="List tickets", tag="Tickets", errors=(400,), query=_QUERY,
    description="The tickets this account may see that match the filters and the search `q` (all of them "
                "together), a page at a "
                "time, as the live lists show them. `next` is the cursor of the following page (null: this was the "
                "last). A walk sees every ticket whose sort key does not change exactly once; tickets that change "
                "during the walk are caught up afterwards with updated_after = `catch_up_after` "
                "(docs/api.md). Unknown parameters are ignored.",
    responses={200: s.obj(["tickets", "next", "catch_up_after"], tickets=s.array({"allOf": [s.TICKET_ROW, s.obj(
        [], snippet={**s.TEXT, "description": "With q: HTML, the words found in <mark>, the rest escaped."})]}),
                          next=s.nullable({**s.TEXT, "description": "The cursor of the next page."}),
                          catch_up_after={**s.INSTANT, "description": "Fixed for the whole walk: ask again with "
                                                                      "updated_after set to it when done."})})
async def list_tickets(request: Request) -> JSONResponse:
    try:
        person = await api_person(request)
        params = {k: request.query_params.getlist(k) for k in request.query_params}
        query = await read_query(request, person, params)
        after, catch_up = None, None
        if query.cursor is not None:
            after, catch_up = read_cursor(request, person.id, query, person.is_staff)
        rows, following, now = await services(request).tickets.list_page(person, query, after)
        catch_up = catch_up or now - CATCH_UP_MARGIN
        cursor = make_cursor(request, person.id, query, following, catch_up) if following is not None else None
    except LivesupportError as exc:
        return json_error(exc)
    answer: dict[str, Any] = {"tickets": rows, "next": cursor, "catch_up_after": iso(catch_up)}
    return JSONResponse(answer)

