"""/macros: staff keep their canned replies (and Level 3 engineers and admins the shared ones)."""

from __future__ import annotations

from typing import Any

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from livesupport.actions.macros import Macros
from livesupport.domain import macros as rules
from livesupport.domain.errors import LivesupportError
from livesupport.domain.numbers import parse_id
from livesupport.domain.people import Person
from livesupport.domain.tickets import Status
from livesupport.web.errors import STATUS
from livesupport.web.pages import render
from livesupport.web.pages.auth import EXPIRED_FORM
from livesupport.web.pages.forms import signed_in, signed_in_form
from livesupport.web.services import services

DONE = {"create": "The canned reply was saved. Type / at the start of a reply on a ticket to use it.",
        "update": "Your changes were saved.", "delete": "The canned reply was deleted."}
STATUS_WORDS = {"new": "New", "triage": "Triage", "in_progress": "In progress",
                "waiting_on_client": "Waiting on client", "resolved": "Resolved", "closed": "Closed"}


def _staff(person: Person) -> bool:
    return person.is_staff


def _draft(form: FormData | None, macro: dict[str, Any] | None = None) -> dict[str, Any]:
    """What the form shows: what was typed, else the macro being edited, else an empty one."""
    if form is not None:
        return {"id": parse_id(form.get("macro")), "title": str(form.get("title", ""))[:rules.MAX_TITLE * 2],
                "body": str(form.get("body", ""))[:20_000], "status": str(form.get("status", "")),
                "next_update_minutes": str(form.get("next_update_minutes", ""))[:10],
                "shared": form.get("shared") == "on"}
    if macro is not None:
        return {**macro, "status": macro["status"] or "", "next_update_minutes": macro["next_update_minutes"] or ""}
    return {"id": None, "title": "", "body": "", "status": "", "next_update_minutes": "", "shared": False}


async def _page(request: Request, person: Person, status: int = 200, *, form: FormData | None = None,
                error: str | None = None) -> Response:
    macros = await Macros(services(request).tickets).list(person)
    editing = parse_id(request.query_params.get("edit"))
    chosen = next((m for m in macros if m["id"] == editing and m["editable"]), None)
    return render(request, "macros.html", person, status, title="Canned replies", macros=macros,
                  draft=_draft(form, chosen), error=error, may_share=rules.may_share(person),
                  saved=DONE.get(request.query_params.get("done", "")), placeholders=rules.SHOWN,
                  statuses=STATUS_WORDS, max_minutes=rules.MAX_MINUTES, max_title=rules.MAX_TITLE)


def _fields(form: FormData, person: Person) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "title": form.get("title"), "body": form.get("body"), "status": form.get("status") or None,
        "next_update_minutes": str(form.get("next_update_minutes") or "").strip() or None}
    if rules.may_share(person):
        fields["shared"] = form.get("shared") == "on"
    return fields


async def macros_page(request: Request) -> Response:
    if request.method == "GET":
        person = await signed_in(request, _staff)
        return person if isinstance(person, Response) else await _page(request, person)
    opened = await signed_in_form(request, lambda p, f: _page(request, p, 403, form=f, error=EXPIRED_FORM), _staff)
    if isinstance(opened, Response):
        return opened
    person, form = opened
    macros, action = Macros(services(request).tickets), str(form.get("action", ""))
    try:
        if action == "create":
            await macros.create(person, _fields(form, person))
        elif action == "update":
            await macros.update(person, form.get("macro"), _fields(form, person))
        elif action == "delete":
            await macros.delete(person, form.get("macro"))
        else:
            return await _page(request, person, 400, form=form, error="Choose what to do: save or delete.")
    except LivesupportError as exc:
        shown = form if action != "delete" else None
        return await _page(request, person, STATUS.get(exc.code, 400), form=shown, error=exc.message)
    return RedirectResponse(f"/macros?done={action}", status_code=303)


assert set(STATUS_WORDS) == {s.value for s in Status}
routes = [Route("/macros", macros_page, methods=["GET", "POST"])]
