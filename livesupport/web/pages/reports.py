"""/reports: how the desk is doing over a range of days, in charts with their numbers beside them."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from livesupport.domain.errors import LivesupportError
from livesupport.domain.reports import may_read
from livesupport.web import charts
from livesupport.web.errors import STATUS
from livesupport.web.pages import render
from livesupport.web.pages.forms import signed_in
from livesupport.web.reports_api import reports

PRIORITIES = ["urgent", "high", "normal", "low"]
GOOD_BAD = ("#16a34a", "#dc2626")


def _hours(seconds: int | None) -> float | None:
    return None if seconds is None else round(seconds / 3600, 1)


def _charts(data: dict[str, Any]) -> dict[str, str]:
    days = data["days"]
    labels = [d["day"][5:] for d in days]  # MM-DD
    by_priority = {r["key"]: r for r in data["by"]["priority"]}
    rows = [by_priority.get(p) or {} for p in PRIORITIES]

    def spread(name: str, part: str) -> list[float | None]:
        return [_hours((r.get(name) or {}).get(part)) for r in rows]

    return {
        "flow": charts.lines("Created and solved per day", labels, {
            "Created": [d["created"] for d in days], "Solved": [d["solved"] for d in days]}),
        "backlog": charts.lines("Open tickets at the end of each day", labels,
                                {"Backlog": [d["backlog"] for d in days]}),
        "response": charts.bars("First response, hours (median)", PRIORITIES, {
            "Calendar": spread("first_response", "median_s"),
            "Business hours": spread("first_response_business", "median_s")}),
        "resolution": charts.bars("Resolution, hours (median)", PRIORITIES, {
            "Calendar": spread("resolution", "median_s"),
            "Business hours": spread("resolution_business", "median_s")}),
        "sla": charts.bars("Next-update promises", PRIORITIES, {
            "Kept": [(r.get("sla") or {}).get("met", 0) for r in rows],
            "Missed": [(r.get("sla") or {}).get("missed", 0) for r in rows]}, stacked=True, colours=GOOD_BAD),
        "satisfaction": charts.bars("Satisfaction ratings", PRIORITIES, {
            "Good": [(r.get("satisfaction") or {}).get("good", 0) for r in rows],
            "Bad": [(r.get("satisfaction") or {}).get("bad", 0) for r in rows]}, stacked=True, colours=GOOD_BAD),
    }


async def reports_page(request: Request) -> Response:
    person = await signed_in(request, may_read)
    if isinstance(person, Response):
        return person
    r = reports(request)
    q = request.query_params
    try:
        rng = r.range(person, q.get("from"), q.get("to"))
    except LivesupportError as exc:
        default = r.range(person, None, None)
        return render(request, "reports.html", person, STATUS.get(exc.code, 400), title="Reports", error=exc.message,
                      asked={"from": q.get("from", ""), "to": q.get("to", "")}, rng=default, data=None, charts={},
                      today=await r.today())
    data = await r.page(rng)
    return render(request, "reports.html", person, title="Reports", error=None, rng=rng, data=data,
                  charts=_charts(data), today=await r.today(), priorities=PRIORITIES,
                  asked={"from": rng.first.isoformat(), "to": rng.last.isoformat()})


routes = [Route("/reports", reports_page, methods=["GET"])]
