"""The ticket list, the new-ticket form and the live ticket page."""

from __future__ import annotations

from urllib.parse import quote

from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from livesupport.domain.errors import ForbiddenError, LivesupportError
from livesupport.domain.people import Person
from livesupport.domain.tickets import Status
from livesupport.store.models import Organisation, User
from livesupport.web.errors import STATUS
from livesupport.web.pages import render
from livesupport.web.security import csrf_ok, person_from_session
from livesupport.web.services import services


async def _login_first(request: Request) -> tuple[Person | None, Response | None]:
    person = await person_from_session(request)
    if person is None:
        target = quote(request.url.path + (f"?{request.url.query}" if request.url.query else ""), safe="/?=&")
        return None, RedirectResponse(f"/login?next={target}", status_code=303)
    return person, None


async def _org_name(request: Request, person: Person) -> str | None:
    if person.org_id is None:
        return None
    async with services(request).db.read() as s:
        org = await s.get(Organisation, person.org_id)
    return org.name if org else None


async def _client_orgs(request: Request) -> list[dict[str, object]]:
    async with services(request).db.read() as s:
        rows = (await s.execute(select(Organisation).where(Organisation.kind == "client").order_by(Organisation.name)))
        return [{"id": o.id, "name": o.name} for o in rows.scalars()]


async def _staff(request: Request) -> list[dict[str, object]]:
    """The engineers one may assign, give a task to or invite: for the staff's selects."""
    async with services(request).db.read() as s:
        rows = await s.execute(select(User).where(User.role.in_(("staff", "admin"))).order_by(User.name))
        return [{"id": u.id, "name": u.name, "role": u.role, "tier": u.tier} for u in rows.scalars()]


async def ticket_list(request: Request) -> Response:
    person, redirect = await _login_first(request)
    if redirect:
        return redirect
    assert person is not None
    tickets = await services(request).tickets.list_for(person)
    return render(request, "tickets.html", person, title="Tickets", tickets=tickets, is_staff=person.is_staff,
                  me=person.public(), org_id=person.org_id, org_name=await _org_name(request, person))


async def new_ticket_page(request: Request) -> Response:
    person, redirect = await _login_first(request)
    if redirect:
        return redirect
    assert person is not None
    orgs = await _client_orgs(request) if person.is_staff else None
    return render(request, "new_ticket.html", person, title="New ticket", error=None, subject="", body="",
                  priority="normal", orgs=orgs, org_name=await _org_name(request, person))


async def new_ticket(request: Request) -> Response:
    person, redirect = await _login_first(request)
    if redirect:
        return redirect
    assert person is not None
    form = await request.form()
    subject, body, priority = (str(form.get(k, "")) for k in ("subject", "body", "priority"))
    raw_org = str(form.get("org_id", ""))
    org_id = int(raw_org) if raw_org.isdigit() else None
    try:
        if not csrf_ok(request, form.get("csrf")):
            raise ForbiddenError("This form expired. Please send it again.")
        snap = await services(request).tickets.open(person, subject, body, priority or None, org_id)
    except LivesupportError as exc:
        # Nothing the user typed is lost: the form comes back filled in, with the reason.
        orgs = await _client_orgs(request) if person.is_staff else None
        return render(request, "new_ticket.html", person, STATUS.get(exc.code, 400), title="New ticket",
                      error=exc.message, subject=subject, body=body, priority=priority or "normal", orgs=orgs,
                      org_id=org_id,
                      org_name=await _org_name(request, person))
    return RedirectResponse(f"/tickets/{snap['id']}", status_code=303)


async def ticket_page(request: Request) -> Response:
    person, redirect = await _login_first(request)
    if redirect:
        return redirect
    assert person is not None
    try:
        state, _, _ = await services(request).tickets.snapshot(person, request.path_params["ticket_id"])
    except ForbiddenError:
        return render(request, "not_found.html", person, 404, title="Ticket not found",
                      message="We could not find that ticket, or it belongs to another organisation.")
    staff = await _staff(request) if person.is_staff else []
    max_upload = getattr(services(request).settings, "max_attachment_bytes", None)
    return render(request, "ticket.html", person, title=f"#{state['id']} {state['subject']}", ticket=state,
                  is_staff=person.is_staff, me=person.public(), statuses=[s.value for s in Status],
                  staff=staff, max_upload=max_upload, org_name=await _org_name(request, person))


routes = [
    Route("/tickets", ticket_list, methods=["GET"]),
    Route("/tickets/new", new_ticket_page, methods=["GET"]),
    Route("/tickets/new", new_ticket, methods=["POST"]),
    Route("/tickets/{ticket_id:int}", ticket_page, methods=["GET"]),
]
