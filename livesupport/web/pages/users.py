"""The admins' accounts page: find an account, disable or enable it, change its role, tier or organisation."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from livesupport.actions.administration import Actor
from livesupport.domain.errors import LivesupportError
from livesupport.domain.people import Person, Role
from livesupport.web.errors import STATUS
from livesupport.web.pages import render
from livesupport.web.pages.auth import EXPIRED_FORM
from livesupport.web.pages.forms import csrf_form, signed_in
from livesupport.web.services import services

DONE = {"disable": "{} is disabled: signed out everywhere, and cannot sign in.", "enable": "{} can sign in again.",
        "set": "{} was changed; their open pages follow at once."}


async def _page(request: Request, person: Person, status: int = 200, **extra: Any) -> Response:
    query = str(extra.pop("q", request.query_params.get("q", "")))[:320]
    accounts = await services(request).administration.find(Actor.admin(person), query)
    done = request.query_params.get("done", "")
    saved = DONE[done].format(request.query_params.get("email", "")[:320]) if done in DONE else None
    return render(request, "users.html", person, status, **{
        "title": "Accounts", "accounts": accounts, "q": query, "roles": [r.value for r in Role], "error": None,
        "saved": saved, **extra})


async def users(request: Request) -> Response:
    person = await signed_in(request, lambda p: p.role is Role.ADMIN)
    if isinstance(person, Response):
        return person
    if request.method == "GET":
        return await _page(request, person)
    form = await csrf_form(request, lambda f: _page(request, person, 403, error=EXPIRED_FORM, q=str(f.get("q", ""))))
    if isinstance(form, Response):
        return form
    query, email, action = str(form.get("q", "")), form.get("email"), str(form.get("action", ""))
    admin, actor = services(request).administration, Actor.admin(person)
    try:
        if action == "disable":
            await admin.disable(actor, email)
        elif action == "enable":
            await admin.enable(actor, email)
        elif action == "set":
            await admin.change(actor, email, form.get("role") or None, form.get("tier") or None, form.get("org") or None)
        else:
            return await _page(request, person, 400, error="Choose what to do: disable, enable or save.", q=query)
    except LivesupportError as exc:
        return await _page(request, person, STATUS.get(exc.code, 400), error=exc.message, q=query)
    return RedirectResponse("/admin/users?" + urlencode({"q": query, "done": action, "email": str(email)}),
                            status_code=303)


routes = [Route("/admin/users", users, methods=["GET", "POST"])]
