"""The only place where an error code becomes an HTTP status."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.responses import Response
from starlette.templating import Jinja2Templates

from livesupport.domain.errors import LivesupportError, RateLimitedError

STATUS = {
    "bad_request": 400,
    "bad_url": 400,  # a webhook address we will not send to (docs/integrations.md)
    "bad_query": 400,  # a search with nothing to look for, or too long (docs/api.md)
    "unknown_type": 400,
    "bad_parameter": 400,  # a list's query parameter that cannot be read (GET /api/tickets); the message names it
    "bad_cursor": 400,  # a list cursor changed, or of another person or query
    "unauthorized": 401,
    "otp_required": 401,
    "forbidden": 403,
    "not_found": 404,
    "conflict": 409,
    "too_large": 413,
    "refused_file": 415,
    "rate_limited": 429,
    "policy": 403,
    "unavailable": 503,
}


class JSONResponse(Response):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


def error_body(code: str, message: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": message}}


def json_error(exc: LivesupportError) -> JSONResponse:
    headers = {}
    if isinstance(exc, RateLimitedError):
        headers["Retry-After"] = str(max(1, round(exc.retry_after)))
    elif exc.code == "unavailable":
        headers["Retry-After"] = "1"
    body = error_body(exc.code, exc.message)
    if exc.details:
        body["error"].update(exc.details)
    return JSONResponse(body, status_code=STATUS.get(exc.code, 400), headers=headers)


def error_page(templates: Jinja2Templates, title: str, message: str) -> bytes:
    """The branded page for an error met before (or instead of) any page handler: no session, no database."""
    return templates.get_template("not_found.html").render(user=None, title=title, message=message,
                                                           csrf="").encode()
