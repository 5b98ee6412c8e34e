"""Server-rendered pages, one module per page family."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from livesupport.domain.people import Person
from livesupport.web.security import csrf_token
from livesupport.web.services import services


def render(request: Request, template: str, person: Person | None, status_code: int = 200, **context: Any) -> Response:
    user = None
    if person is not None:
        user = {**person.public(), "tier": person.tier, "org_name": context.pop("org_name", None)}
    ctx = {"user": user, "csrf": csrf_token(request), "title": context.pop("title", "livesupport"), **context}
    response = services(request).templates.TemplateResponse(request, template, ctx, status_code=status_code)
    response.headers["Cache-Control"] = "no-store"
    return response
