"""The ticket list, the new-ticket form and the live ticket page."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from sqlalchemy import select
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from livesupport.domain.errors import ForbiddenError, LivesupportError
from livesupport.domain.huddle import may_pin
from livesupport.domain.numbers import parse_id
from livesupport.domain.people import Person
from livesupport.domain.tickets import Status
from livesupport.store import huddle as huddle_store
from livesupport.store.models import Organisation
from livesupport.web.errors import STATUS
from livesupport.web.pages import login_first, render
from livesupport.web.pages.forms import signed_in_form
from livesupport.web.services import services


async def org_name_of(request: Request, person: Person) -> str | None:
    if person.org_id is None:
        return None
    async with services(request).db.read() as s:
        org = await s.get(Organisation, person.org_id)
    return org.name if org else None


async def _client_orgs(request: Request) -> list[dict[str, object]]:
    async with services(request).db.read() as s:
        rows = (await s.execute(select(Organisation).where(Organisation.kind == "client").order_by(Organisation.name)))
        return [{"id": o.id, "name": o.name} for o in rows.scalars()]


async def _staff(request: Request) -> list[dict[str, Any]]:
    """The engineers one may assign, give a task to or invite: for the staff's selects."""
    async with services(request).db.read() as s:
        return [huddle_store.shown(u) for u in (await huddle_store.staff_users(s)).values()]


async def new_ticket_page(request: Request) -> Response:
    person, redirect = await login_first(request)
    if redirect:
        return redirect
    assert person is not None
    orgs = await _client_orgs(request) if person.is_staff else None
    return render(request, "new_ticket.html", person, title="New ticket", error=None, subject="", body="",
                  priority="normal", orgs=orgs, org_name=await org_name_of(request, person))


async def new_ticket(request: Request) -> Response:
    opened = await signed_in_form(request, lambda person, form: _new_ticket_again(
        request, person, form, ForbiddenError("This form expired. Please send it again.")))
    if isinstance(opened, Response):
        return opened
    person, form = opened
    subject, body, priority = (str(form.get(k, "")) for k in ("subject", "body", "priority"))
    try:
        snap = await services(request).tickets.open(person, subject, body, priority or None,
                                                    parse_id(form.get("org_id")))
    except LivesupportError as exc:
        return await _new_ticket_again(request, person, form, exc)
    return RedirectResponse(f"/tickets/{snap['id']}", status_code=303)


async def _new_ticket_again(request: Request, person: Person, form: FormData, exc: LivesupportError) -> Response:
    """Nothing the user typed is lost: the form comes back filled in, with the reason."""
    subject, body, priority = (str(form.get(k, "")) for k in ("subject", "body", "priority"))
    orgs = await _client_orgs(request) if person.is_staff else None
    return render(request, "new_ticket.html", person, STATUS.get(exc.code, 400), title="New ticket",
                  error=exc.message, subject=subject, body=body, priority=priority or "normal", orgs=orgs,
                  org_id=parse_id(form.get("org_id")),
                  org_name=await org_name_of(request, person))


async def ticket_page(request: Request) -> Response:
    person, redirect = await login_first(request)
    if redirect:
        return redirect
    assert person is not None
    try:
        state, _, _ = await services(request).tickets.snapshot(person, request.path_params["ticket_id"])
    except ForbiddenError:
        return render(request, "not_found.html", person, 404, title="Ticket not found",
                      message="We could not find that ticket, or it belongs to another organisation.")
    staff = await _staff(request) if person.is_staff else []
    svc = services(request)
    return render(request, "ticket.html", person, title=f"#{state['id']} {state['subject']}", ticket=state,
                  is_staff=person.is_staff, me=person.public(), statuses=[s.value for s in Status],
                  staff=staff, max_upload=svc.settings.max_attachment_bytes,
                  follow=await svc.following.status(person, state["id"]), org_name=await org_name_of(request, person),
                  contacts=await svc.following.contacts(person, state["id"]) if person.is_staff else [],
                  move_to=await _client_orgs(request) if may_pin(person) else [],
                  move_error=request.query_params.get("move_error", "")[:300],
                  client_context=await svc.context.of_ticket(person, state["id"]) if person.is_staff else None)


async def move_ticket(request: Request) -> Response:
    """The ticket page's "move to another organisation" form (Level 3 and admins)."""
    tid = request.path_params["ticket_id"]

    def back(error: str) -> Response:
        return RedirectResponse(f"/tickets/{tid}?{urlencode({'move_error': error})}#move", status_code=303)

    async def expired(_: Person, __: FormData) -> Response:
        return back("This form had expired; nothing was changed. Please try again.")

    opened = await signed_in_form(request, expired)
    if isinstance(opened, Response):
        return opened
    person, form = opened
    try:
        await services(request).huddle.move(person, tid, parse_id(str(form.get("org_id", ""))))
    except LivesupportError as exc:
        if exc.message:
            return back(exc.message)
    return RedirectResponse(f"/tickets/{tid}", status_code=303)


routes = [
    Route("/tickets/new", new_ticket_page, methods=["GET"]),
    Route("/tickets/new", new_ticket, methods=["POST"]),
    Route("/tickets/{ticket_id:id}", ticket_page, methods=["GET"]),
    Route("/tickets/{ticket_id:id}/move", move_ticket, methods=["POST"]),
]
