"""The ticket list, the new-ticket form and the live ticket page."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from sqlalchemy import select
from starlette.datastructures import FormData, UploadFile
from starlette.formparsers import MultiPartException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from livesupport.actions.attachments import MAX_FILES, Upload
from livesupport.domain.errors import BadRequestError, ForbiddenError, LivesupportError
from livesupport.domain.huddle import may_pin
from livesupport.domain.numbers import parse_id
from livesupport.domain.outcomes import is_ticket_client
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
                  priority="normal", orgs=orgs, org_name=await org_name_of(request, person),
                  **await _form_extras(request, person, request.query_params.get("follows_up")))


async def _form_extras(request: Request, person: Person, follows_up: object) -> dict[str, Any]:
    """The upload limits, and the ticket this one follows up (when the person may see it)."""
    earlier = None
    tid = parse_id(follows_up)
    if tid is not None:
        try:
            state, _, _ = await services(request).tickets.snapshot(person, tid)
            earlier = {"id": state["id"], "subject": state["subject"]}
        except LivesupportError:
            earlier = None
    return {"follows_up": earlier, "max_files": MAX_FILES,
            "max_upload": services(request).settings.max_attachment_bytes}


async def _uploads(form: FormData, limit: int) -> list[Upload]:
    """The files chosen on the form (an empty file input sends one nameless, empty part: not a file)."""
    out = []
    for item in form.getlist("file"):
        if not isinstance(item, UploadFile):
            raise BadRequestError("The 'file' field must hold files, not text.")
        data = await item.read(limit + 1)
        if item.filename or data:
            out.append(Upload(item.filename or "", data))
    return out


async def new_ticket(request: Request) -> Response:
    """The new-ticket form: the ticket and its first message, then the files chosen with it (checked first, so
    a refused file opens nothing and the form comes back as typed)."""
    try:
        opened = await signed_in_form(request, lambda person, form: _new_ticket_again(
            request, person, form, ForbiddenError("This form expired. Please send it again.")), max_files=MAX_FILES)
    except MultiPartException as exc:
        return Response(f"The form could not be read: {exc.message}", status_code=400)
    if isinstance(opened, Response):
        return opened
    person, form = opened
    svc = services(request)
    subject, body, priority = (str(form.get(k, "")) for k in ("subject", "body", "priority"))
    try:
        uploads = await _uploads(form, svc.settings.max_attachment_bytes)
        judged = await svc.attachments.judge(uploads) if uploads else []
        snap = await svc.tickets.open(person, subject, body, priority or None, parse_id(form.get("org_id")),
                                      form.get("follows_up") or None)
    except LivesupportError as exc:
        return await _new_ticket_again(request, person, form, exc)
    if judged:
        try:
            await svc.attachments.send_judged(person, snap["id"], judged, "", "public", None)
        except LivesupportError as exc:  # the ticket is open; say what became of the files there
            return RedirectResponse(f"/tickets/{snap['id']}?{urlencode({'move_error': exc.message})}",
                                    status_code=303)
    return RedirectResponse(f"/tickets/{snap['id']}", status_code=303)


async def _new_ticket_again(request: Request, person: Person, form: FormData, exc: LivesupportError) -> Response:
    """Nothing the user typed is lost: the form comes back filled in, with the reason."""
    subject, body, priority = (str(form.get(k, "")) for k in ("subject", "body", "priority"))
    orgs = await _client_orgs(request) if person.is_staff else None
    return render(request, "new_ticket.html", person, STATUS.get(exc.code, 400), title="New ticket",
                  error=exc.message, subject=subject, body=body, priority=priority or "normal", orgs=orgs,
                  org_id=parse_id(form.get("org_id")),
                  org_name=await org_name_of(request, person),
                  **await _form_extras(request, person, form.get("follows_up")))


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
                  is_staff=person.is_staff, me=person.public(), is_client=is_ticket_client(person, state["org"]["id"]), statuses=[s.value for s in Status],
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
