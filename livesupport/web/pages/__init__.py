"""Server-rendered pages, one module per page family."""

from __future__ import annotations

import logging
from datetime import date, tzinfo
from typing import Any
from urllib.parse import quote

from jinja2 import Environment
from sqlalchemy import select
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.types import Receive, Scope, Send

from livesupport.domain import billing as billing_rules
from livesupport.domain import dates
from livesupport.domain.people import Person, Role
from livesupport.store.models import Organisation
from livesupport.web.errors import JSONResponse, error_body
from livesupport.web.security import csrf_token, person_from_session
from livesupport.web.services import services

log = logging.getLogger("livesupport.pages")

BILLED_ROLES = (Role.CLIENT, Role.DOMAIN_ADMIN)  # the people a suspension banner is for


def add_date_filters(env: Environment, tz: tzinfo) -> None:
    """`{{ at|moment }}` (an instant: a datetime or ISO text) and `{{ on|day }}` (a date), in the one format of
    livesupport.domain.dates, on the company's clock; the browser then shows the same in the viewer's zone."""
    def moment(value: object, zone: bool = True) -> str:
        instant = dates.instant_of(value)
        return dates.moment(instant, tz, zone=zone) if instant is not None else str(value or "")

    env.filters["moment"] = moment
    env.filters["day"] = lambda value: dates.day(value) if isinstance(value, date) else str(value or "")


def render(request: Request, template: str, person: Person | None, status_code: int = 200, **context: Any) -> Response:
    user = None
    if person is not None:
        user = {**person.public(), "tier": person.tier, "org_id": person.org_id,
                "org_name": context.pop("org_name", None)}
    ctx = {"user": user, "csrf": csrf_token(request), "title": context.pop("title", "livesupport"),
           "org_suspended": False, **context}
    response: Response
    if person is not None and person.org_id is not None and person.role in BILLED_ROLES:
        response = _BannerPage(request, template, ctx, status_code, person.org_id)
    else:
        response = services(request).templates.TemplateResponse(request, template, ctx, status_code=status_code)
    response.headers["Cache-Control"] = "no-store"
    return response


class _BannerPage(Response):
    """A page for someone whose organisation may be suspended, rendered as it is sent: templates render
    synchronously, and whether it is suspended takes one query (the banner is shown on every page)."""

    def __init__(self, request: Request, template: str, ctx: dict[str, Any], status_code: int, org_id: int) -> None:
        super().__init__(status_code=status_code, media_type="text/html")
        self.request, self.template, self.ctx, self.org_id = request, template, ctx, org_id

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        svc = services(self.request)
        suspended = False
        try:
            async with svc.db.read() as s:
                stmt = select(Organisation.suspended_at).where(Organisation.id == self.org_id)
                suspended = (await s.execute(stmt)).scalar_one_or_none() is not None
        except Exception:  # noqa: BLE001 - the page matters more than its banner, which also arrives live
            log.exception("could not read whether organisation %s is suspended", self.org_id)
        ctx = {**self.ctx, "org_suspended": suspended,
               "suspension_notice": billing_rules.suspension_notice(svc.billing.policy) if suspended else ""}
        page = svc.templates.TemplateResponse(self.request, self.template, ctx, status_code=self.status_code)
        page.raw_headers.extend((k, v) for k, v in self.raw_headers if k not in (b"content-length", b"content-type"))
        await page(scope, receive, send)


async def login_first(request: Request) -> tuple[Person | None, Response | None]:
    """The signed-in person, or a redirect to the sign-in page that comes back here afterwards."""
    person = await person_from_session(request)
    if person is None:
        target = quote(request.url.path + (f"?{request.url.query}" if request.url.query else ""), safe="/?=&")
        return None, RedirectResponse(f"/login?next={target}", status_code=303)
    return person, None


def not_found(request: Request, person: Person | None) -> Response:
    """What someone sees for a page that is not theirs: the same as for a page that does not exist."""
    return render(request, "not_found.html", person, 404, title="Not found",
                  message="There is no such page, or it is not yours to see.")


#: What an HTTP error raised by the framework (no route, wrong method, an unreadable form) tells a person.
HTTP_ERRORS = {
    400: ("bad_request", "Bad request", "We could not read what was sent. Please go back and try again."),
    404: ("not_found", "Not found", "There is no such page, or it is not yours to see."),
    405: ("bad_request", "Not allowed", "That page does not take this kind of request."),
    413: ("too_large", "Too large", "That is more than we accept in one request."),
}


async def http_error(request: Request, exc: Exception) -> Response:
    """Starlette's HTTPException (an unknown URL, a wrong method, a form it cannot parse) as a branded answer."""
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    code, title, words = HTTP_ERRORS.get(status, ("bad_request", "Something is wrong", HTTP_ERRORS[400][2]))
    if status == 400 and isinstance(exc, HTTPException) and exc.detail:
        words = f"We could not read what was sent: {exc.detail}"
    headers = dict(exc.headers or {}) if isinstance(exc, HTTPException) else {}
    if request.url.path.startswith("/api/"):
        return JSONResponse(error_body(code, words), status_code=status, headers=headers)
    person = await person_from_session(request) if status == 404 else None
    response = render(request, "not_found.html", person, status, title=title, message=words)
    response.headers.update(headers)
    return response
