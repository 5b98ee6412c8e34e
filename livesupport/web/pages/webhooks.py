"""The webhooks pages: /account/webhooks for a domain administrator (their organisation's endpoints),
/admin/webhooks for an admin (the desk's); each endpoint's delivery log under them."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from livesupport.domain import webhooks as rules
from livesupport.domain.errors import LivesupportError
from livesupport.domain.people import Person, Role
from livesupport.web.errors import STATUS
from livesupport.web.pages import not_found, render
from livesupport.web.pages.auth import EXPIRED_FORM
from livesupport.web.pages.forms import signed_in, signed_in_form
from livesupport.web.services import services

DONE = {"enable": "The endpoint is enabled again; deliveries that waited are retried in order.",
        "disable": "The endpoint is disabled: nothing is sent to it until you enable it.",
        "delete": "The endpoint and its delivery log were deleted."}


def _base(request: Request) -> str:
    return "/admin/webhooks" if request.url.path.startswith("/admin/") else "/account/webhooks"


def _allowed(request: Request) -> Any:
    role = Role.ADMIN if _base(request) == "/admin/webhooks" else Role.DOMAIN_ADMIN
    return lambda p: p.role is role


async def _page(request: Request, person: Person, status: int = 200, **extra: Any) -> Response:
    endpoints = await services(request).webhooks.list(person)
    done = request.query_params.get("done", "")
    return render(request, "webhooks.html", person, status, **{
        "title": "Webhooks", "base": _base(request), "endpoints": endpoints, "events": rules.EVENTS,
        "desk": person.role is Role.ADMIN, "error": None, "saved": DONE.get(done), "secret": None,
        "url": "", "description": "", "chosen": list(rules.EVENTS), "test": None, **extra})


async def webhooks_page(request: Request) -> Response:
    if request.method == "GET":
        person = await signed_in(request, _allowed(request))
        return person if isinstance(person, Response) else await _page(request, person)
    opened = await signed_in_form(request, lambda p, f: _page(request, p, 403, error=EXPIRED_FORM),
                                  _allowed(request))
    if isinstance(opened, Response):
        return opened
    person, form = opened
    hooks, action, target = services(request).webhooks, str(form.get("action", "")), form.get("endpoint")
    try:
        if action == "create":
            made = await hooks.create(person, form.get("url"), form.getlist("events"), form.get("description"),
                                      form.get("internal") == "on")
            return await _page(request, person, 201, secret=made["secret"], secret_for=made, saved=(
                f"Endpoint {made['url']} was added. Copy its signing secret now: it is shown only this once."))
        if action == "rotate":
            made = await hooks.rotate(person, target)
            return await _page(request, person, secret=made["secret"], secret_for=made, saved=(
                f"{made['url']} has a new signing secret, in force now. Copy it: it is shown only this once."))
        if action == "test":
            sent = await hooks.send_test(person, target)
            return await _page(request, person, test=sent, test_for=target)
        if action in ("enable", "disable"):
            await hooks.set_enabled(person, target, action == "enable")
        elif action == "delete":
            await hooks.delete(person, target)
        else:
            return await _page(request, person, 400, error="Choose what to do: add, test, rotate, enable, disable "
                               "or delete.")
    except LivesupportError as exc:
        return await _page(request, person, STATUS.get(exc.code, 400), error=exc.message,
                           url=str(form.get("url", ""))[:500], description=str(form.get("description", ""))[:100],
                           chosen=[str(e) for e in form.getlist("events")])
    return RedirectResponse(f"{_base(request)}?done={action}", status_code=303)


async def delivery_log(request: Request) -> Response:
    person = await signed_in(request, _allowed(request))
    if isinstance(person, Response):
        return person
    try:
        log = await services(request).webhooks.log(person, request.path_params["endpoint_id"])
    except LivesupportError:
        return not_found(request, person)
    return render(request, "webhook_log.html", person, title="Webhook deliveries", base=_base(request),
                  max_tries=rules.MAX_TRIES, **log)


routes = [
    Route("/account/webhooks", webhooks_page, methods=["GET", "POST"]),
    Route("/admin/webhooks", webhooks_page, methods=["GET", "POST"]),
    Route("/account/webhooks/{endpoint_id:id}", delivery_log, methods=["GET"]),
    Route("/admin/webhooks/{endpoint_id:id}", delivery_log, methods=["GET"]),
]
