"""/tickets: the ticket list, with the filters and sort of `GET /api/tickets` in its URL, its saved views, and
the forms that save and delete a view.

The first page is read through the same parse_query and Tickets.list_page as the API; a refusal is shown on the
page with the form still filled in. "Next page" carries the API's own cursor, so static/list_pages.js can go on
from it through /api/tickets.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from sqlalchemy import select
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from livesupport.actions.saved_views import SavedViews
from livesupport.clock import iso
from livesupport.domain import dates
from livesupport.domain import saved_views as view_rules
from livesupport.domain.errors import LivesupportError
from livesupport.domain.listing import FIRST_DAY, LAST_DAY, SORTS, BadParameterError, ListQuery
from livesupport.domain.people import Person, Role
from livesupport.domain.tickets import Priority, Status
from livesupport.store.models import Organisation
from livesupport.web.errors import STATUS
from livesupport.web.pages import login_first, render
from livesupport.web.pages.forms import signed_in_form
from livesupport.web.pages.phone import pin_notice
from livesupport.web.pages.tickets import org_name_of
from livesupport.web.services import services
from livesupport.web.ticket_list import (
    CATCH_UP_MARGIN,
    make_cursor,
    read_cursor,
    read_query,
    zone_of,
)

OPEN = "&".join(f"status={s}" for s in ("new", "triage", "in_progress", "waiting_on_client"))
#: Each queue counter opens the list on the tickets it counts (open ones only, as the counters count), spelt as
#: `question` is, so the counter of the open list is marked current.
COUNTER_LINKS = {"open": OPEN, "overdue": "overdue=true", "unassigned": f"{OPEN}&assignee=none",
                 "mine": f"{OPEN}&assignee=me", "waiting_on_you": "waiting_on=client"}
SORT_LABELS = {"-updated": "Latest change first", "created": "Oldest first", "-created": "Newest first",
               "next_update": "Next update due first", "priority": "Most urgent first", "relevance": "Best match first"}


def sort_choices(searching: bool) -> list[tuple[str, str, str]]:
    """(form value, label, sort) of the sort menu: the default ("" in the URL) first; best match only in a search."""
    default = "relevance" if searching else "-updated"
    rest = [s for s in SORTS if s not in (default, "relevance")]
    return [("", SORT_LABELS[default], default), *[(s, SORT_LABELS[s], s) for s in rest]]


async def list_topics(request: Request, person: Person) -> list[str]:
    """What the live list follows: the queue for staff; one's organisation, and a partner's clients too."""
    if person.is_staff:
        return ["queue"]
    if person.org_id is None:
        return []
    org_ids = [person.org_id]
    if person.role is Role.PARTNER:
        async with services(request).db.read() as s:
            rows = await s.execute(select(Organisation.id).where(Organisation.partner_id == person.org_id)
                                   .order_by(Organisation.id))
            org_ids += [i for i in rows.scalars() if i != person.org_id]
    return [f"org:{i}" for i in org_ids]


async def _orgs(request: Request, person: Person) -> list[dict[str, Any]]:
    """The organisations the filter offers: every client's for staff; a partner's own and its clients'."""
    if not person.is_staff and person.role is not Role.PARTNER:
        return []
    async with services(request).db.read() as s:
        stmt = select(Organisation).order_by(Organisation.name)
        if person.is_staff:
            stmt = stmt.where(Organisation.kind == "client")
        else:
            stmt = stmt.where((Organisation.partner_id == person.org_id) | (Organisation.id == person.org_id))
        return [{"id": o.id, "name": o.name} for o in (await s.execute(stmt)).scalars()]


def _asked(request: Request) -> tuple[dict[str, list[str]], str]:
    """The list's parameters from the URL, blank ones left out (a plain GET form sends every field), and the
    query string of the question alone (no cursor, no view): what "Save this view" keeps."""
    params: dict[str, list[str]] = {}
    for name, value in view_rules.pairs_of(request.url.query):
        if name not in ("view", "view_error", "view_name", "saved"):
            params.setdefault(name, []).append(value)
    question = urlencode([(k, v) for k in view_rules.PARAMETERS for v in params.get(k, [])])
    return params, question


async def ticket_list(request: Request) -> Response:
    person, redirect = await login_first(request)
    if redirect:
        return redirect
    assert person is not None
    svc = services(request)
    params, question = _asked(request)
    tickets: list[dict[str, Any]] = []
    error, invalid, next_url, query, status = None, "", None, ListQuery(), 200
    zone, own_zone = await zone_of(request, person)
    try:
        query = await read_query(request, person, params, zone)
        after, catch_up = None, None
        if query.cursor is not None:
            after, catch_up = read_cursor(request, person.id, query, person.is_staff)
        tickets, following, now = await svc.tickets.list_page(person, query, after)
        if following is not None:
            cursor = make_cursor(request, person.id, query, following, catch_up or now - CATCH_UP_MARGIN)
            next_url = "/tickets?" + urlencode([*[(k, v) for k, vs in params.items() if k != "cursor" for v in vs],
                                                ("cursor", cursor)])
    except LivesupportError as exc:
        error, status = exc.message, STATUS.get(exc.code, 400)
        invalid = exc.parameter if isinstance(exc, BadParameterError) else ""
    views = await SavedViews(svc.tickets).list(person)
    view_id = request.query_params.get("view", "")
    current = next((v for v in views if str(v["id"]) == view_id), None)
    return render(
        request, "tickets.html", person, status, title=current["name"] if current else "Tickets", tickets=tickets,
        is_staff=person.is_staff, topics=await list_topics(request, person), pin=await svc.phone.pin_of(person),
        pin_notice=pin_notice(request), org_name=await org_name_of(request, person),
        q=(params.get("q") or [""])[0][:200], query=query, question=question, filtered=bool(question),
        paged=query.cursor is not None, list_error=error, invalid=invalid, next_url=next_url,
        counter_links=COUNTER_LINKS, days=_days(params, query, zone.key, own_zone),
        sorts=sort_choices(query.q is not None or bool(params.get("q"))), statuses=[s.value for s in Status],
        priorities=[p.value for p in Priority], orgs=await _orgs(request, person), views=views, view=current,
        may_share=view_rules.may_share(person), view_error=request.query_params.get("view_error", "")[:300],
        view_name=request.query_params.get("view_name", "")[:view_rules.MAX_NAME * 2],
        saved=request.query_params.get("saved", "") in ("saved", "deleted") and request.query_params["saved"])


def _days(params: dict[str, list[str]], query: ListQuery, zone: str, own: bool) -> dict[str, Any]:
    """The "Updated from / to" fields: the days as asked (kept when refused, to be put right), the range in words
    for the panel's summary, the instants the live list matches rows against, and whose clock they are read on."""
    return {"from": (params.get("updated_from") or [""])[0][:40], "to": (params.get("updated_to") or [""])[0][:40],
            "words": dates.days(query.updated_from, query.updated_to), "since": iso(query.updated_since) or "",
            "until": iso(query.updated_until) or "", "zone": zone.replace("_", " "), "zone_key": zone,
            "own_zone": own,
            "min": FIRST_DAY.isoformat(), "max": LAST_DAY.isoformat()}


async def save_view(request: Request) -> Response:
    """The list's "Save this view" and "Delete this view" forms; back to the list, with the reason when refused
    and the name as typed."""
    async def expired(_: Person, form: FormData) -> Response:
        return _back(form, "This form had expired; nothing was saved. Please try again.")

    opened = await signed_in_form(request, expired)
    if isinstance(opened, Response):
        return opened
    person, form = opened
    views = SavedViews(services(request).tickets)
    try:
        if form.get("action") == "delete":
            await views.delete(person, str(form.get("view", "")))
            return RedirectResponse(f"/tickets?{form.get('query', '')}&saved=deleted", status_code=303)
        made = await views.create(person, {"name": str(form.get("name", "")), "query": str(form.get("query", "")),
                                           "shared": form.get("shared") == "on"})
    except LivesupportError as exc:
        return _back(form, exc.message)
    return RedirectResponse(f"{made['url']}&saved=saved", status_code=303)


def _back(form: FormData, error: str) -> Response:
    query = view_rules.pairs_of(str(form.get("query", ""))[:view_rules.MAX_QUERY])
    back = urlencode([*query, ("view_error", error), ("view_name", str(form.get("name", ""))[:200])])
    return RedirectResponse(f"/tickets?{back}#save-view", status_code=303)


routes = [
    Route("/tickets", ticket_list, methods=["GET"]),
    Route("/tickets/views", save_view, methods=["POST"]),
]
