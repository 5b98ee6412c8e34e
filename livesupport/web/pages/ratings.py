"""The one-click rating link of the "How did we do?" e-mail.

`GET /rate/<token>` only shows what the link would record, with a comment box and a button: mail scanners open
links, and must not rate for anyone. `POST /rate/<token>` records it, with the page's CSRF token (the session a
first GET gave the browser); the signed token is bound to one ticket, one contact and one score, and expires.
"""

from __future__ import annotations

from starlette.formparsers import MultiPartException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from livesupport.actions.ratings import LinkTarget
from livesupport.domain.errors import LivesupportError
from livesupport.domain.outcomes import MAX_COMMENT, RATING_DAYS
from livesupport.web.errors import STATUS
from livesupport.web.limits import read_form
from livesupport.web.pages import render
from livesupport.web.security import csrf_ok, person_from_session
from livesupport.web.services import services


async def _page(request: Request, status: int = 200, target: LinkTarget | None = None, **context: object) -> Response:
    person = await person_from_session(request)
    shown: dict[str, object] = {"token": None, "error": None, "done": None, "comment": "", "days": RATING_DAYS,
                                "max_comment": MAX_COMMENT, "target": None}
    if target is not None:
        shown["target"] = {"name": target.user.name, "score": target.score,
                           "ticket": {"id": target.ticket.id, "subject": target.ticket.subject}}
    return render(request, "rate.html", person, status, title="How did we do?", **{**shown, **context})


async def rating_page(request: Request) -> Response:
    token = request.path_params["token"]
    try:
        target = await services(request).ratings.link_target(token)
    except LivesupportError as exc:
        return await _page(request, STATUS.get(exc.code, 400), error=exc.message)
    return await _page(request, target=target, token=token)


async def record_rating(request: Request) -> Response:
    token = request.path_params["token"]
    ratings = services(request).ratings
    try:
        form = await read_form(request)
    except MultiPartException:
        return await _page(request, 400, error="Send the form as the page shows it.")
    comment = str(form.get("comment", ""))
    try:
        target = await ratings.link_target(token)
    except LivesupportError as exc:
        return await _page(request, STATUS.get(exc.code, 400), error=exc.message)
    if not csrf_ok(request, form.get("csrf")):
        return await _page(request, 403, target=target, token=token, comment=comment,
                           error="This page had expired; nothing was recorded. Please press the button again.")
    try:
        _, answer = await ratings.rate_by_link(token, comment)
    except LivesupportError as exc:
        return await _page(request, STATUS.get(exc.code, 400), target=target, token=token, comment=comment,
                           error=exc.message)
    return await _page(request, target=target, done=answer)


routes = [
    Route("/rate/{token}", rating_page, methods=["GET"]),
    Route("/rate/{token}", record_rating, methods=["POST"]),
]
