"""`GET /api/tickets?q=...`: the ticket list narrowed to a search, best match first (list_tickets hands over)."""

from __future__ import annotations

from starlette.requests import Request

from livesupport.actions.search import MAX_RESULTS, find_tickets
from livesupport.domain.errors import LivesupportError
from livesupport.domain.search import MAX_QUERY
from livesupport.web.errors import JSONResponse, json_error
from livesupport.web.openapi import schemas as s
from livesupport.web.security import api_person
from livesupport.web.services import services

Q = s.query("q", {**s.TEXT, "minLength": 1, "maxLength": MAX_QUERY}, (
    f"Search words (up to {MAX_QUERY} characters): every word must match, in any form (printers finds printer); "
    '"a phrase" in quotes, `OR` between alternatives, `-word` to leave out. Given, the answer holds the '
    f"{MAX_RESULTS} best matches, best first, each with a `snippet`; an empty or too long `q` answers 400 "
    "bad_query."))
SNIPPET = {**s.TEXT, "description": "Present when searching: HTML, the words found in <mark>, the rest escaped."}


async def search_tickets(request: Request, q: str) -> JSONResponse:
    try:
        person = await api_person(request)
        tickets = services(request).tickets
        return JSONResponse({"tickets": await find_tickets(tickets.db, tickets.clock, person, q)})
    except LivesupportError as exc:
        return json_error(exc)
