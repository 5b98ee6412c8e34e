"""The reports API: the summary of a range of days, today's counters, and the CSV export (a row per ticket)."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from livesupport.actions.reports import Reports
from livesupport.domain.errors import LivesupportError
from livesupport.domain.reports import GROUPS, MAX_DAYS
from livesupport.web.errors import JSONResponse, json_error
from livesupport.web.openapi import operation
from livesupport.web.openapi import schemas as s
from livesupport.web.security import api_person
from livesupport.web.services import services


def reports(request: Request) -> Reports:
    svc = services(request)
    return Reports(svc.db, svc.clock, svc.settings.desk_hours())


SPREAD = s.obj(["count", "median_s", "p90_s"], count=s.INT, median_s=s.nullable(s.INT), p90_s=s.nullable(s.INT))
FIGURES = s.obj(
    ["created", "solved", "backlog", "first_response", "resolution", "sla", "satisfaction"],
    created={**s.INT, "description": "Tickets opened in the range."},
    solved={**s.INT, "description": "Tickets that became resolved or closed in the range (and are still)."},
    backlog={**s.INT, "description": "Tickets open at the end of the range's last day (a reopened one is open)."},
    first_response={**SPREAD, "description": "Calendar seconds from opening to the first public message by "
                                             "staff, of tickets opened in the range that have one."},
    resolution={**SPREAD, "description": "Calendar seconds from opening to being solved, of tickets opened in "
                                         "the range and solved now."},
    first_response_business={**SPREAD, "description": "The same in business seconds (Monday to Friday, "
                                                      "09:00-17:00 in the company's time zone, no holidays)."},
    resolution_business=SPREAD,
    sla=s.obj(["met", "missed"], met=s.INT, missed=s.INT),
    satisfaction=s.obj(["good", "bad"], good=s.INT, bad=s.INT))
RANGE_QUERY = [
    s.query("from", s.DAY, "The first day (YYYY-MM-DD, the company's time zone); 29 days before `to` by default."),
    s.query("to", s.DAY, f"The last day, included; today by default. At most {MAX_DAYS} days in all."),
]


@operation(
    summary="Summary of a range of days", tag="Reports",
    description="How the desk did for tickets opened from `from` to `to` (`solved`: solved in it; `backlog`: "
                "open at its end): first response and resolution times (median and 90th percentile, nearest "
                "rank), \"next update\" promises kept (`met`) and missed (a promise still overdue counts as "
                "missed), and satisfaction ratings. Level 3 engineers and admins only (403 otherwise); a date "
                "that cannot be read is refused with bad_parameter naming it.",
    query=[*RANGE_QUERY, s.query("by", s.TEXT, f"Add breakdowns: a comma-separated list of {', '.join(GROUPS)}. "
                                                "`by` then maps each to rows of the same figures with `key` "
                                                "and `name` (an engineer counts every ticket assigned to them).")],
    responses={200: {"allOf": [FIGURES, s.obj(["from", "to"], **{"from": s.DAY, "to": s.DAY})]}},
    errors=(400, 401, 403))
async def summary(request: Request) -> Response:
    try:
        person = await api_person(request)
        r = reports(request)
        q = request.query_params
        rng = r.range(person, q.get("from"), q.get("to"))
        return JSONResponse(await r.summary(rng, q.get("by")))
    except LivesupportError as exc:
        return json_error(exc)


@operation(summary="Today's counters", tag="Reports",
           description="Tickets opened and solved since midnight (the company's time zone), open and overdue now. "
                       "Level 3 engineers and admins only.",
           responses={200: s.obj(["opened", "solved", "open", "overdue", "at"], opened=s.INT, solved=s.INT,
                                 open=s.INT, overdue=s.INT, at=s.INSTANT)}, errors=(401, 403))
async def today(request: Request) -> Response:
    try:
        person = await api_person(request)
        r = reports(request)
        r.range(person, None, None)  # may this person read reports?
        return JSONResponse(await r.today())
    except LivesupportError as exc:
        return json_error(exc)


async def export(request: Request) -> Response:
    """/reports/export.csv?from&to: a row per ticket opened in the range (signed in, or with a bearer token)."""
    try:
        person = await api_person(request)
        r = reports(request)
        rng = r.range(person, request.query_params.get("from"), request.query_params.get("to"))
    except LivesupportError as exc:
        return json_error(exc)

    async def lines() -> AsyncIterator[str]:
        async for row in r.csv_rows(rng):
            out = io.StringIO()
            csv.writer(out).writerow(row)
            yield out.getvalue()

    name = f"tickets-{rng.first}-{rng.last}.csv"
    return StreamingResponse(lines(), media_type="text/csv; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"})


routes = [
    Route("/api/reports/summary", summary, methods=["GET"]),
    Route("/api/reports/today", today, methods=["GET"]),
    Route("/reports/export.csv", export, methods=["GET"]),
]
