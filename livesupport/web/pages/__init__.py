"""Server-rendered pages, one module per page family."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from livesupport.domain.people import Person
from livesupport.web.security import csrf_token, person_from_session
from livesupport.web.services import services


def render(request: Request, template: str, person: Person | None, status_code: int = 200, **context: Any) -> Response:
    user = None
    if person is not None:
        user = {**person.public(), "tier": person.tier, "org_name": context.pop("org_name", None)}
    ctx = {"user": user, "csrf": csrf_token(request), "title": context.pop("title", "livesupport"), **context}
    response = services(request).templates.TemplateResponse(request, template, ctx, status_code=status_code)
    response.headers["Cache-Control"] = "no-store"
    return response


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
