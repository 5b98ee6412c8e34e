"""E-mail preferences (on the account page) and the unsubscribe link of every notification e-mail.

`GET /unsubscribe/<token>` only shows a page with buttons: mail scanners open links, and must not
unsubscribe anyone. `POST /unsubscribe/<token>` unsubscribes without a session or a CSRF token, as
RFC 8058 one-click unsubscribing needs: the signed token is the authority, and it only ever turns mail off.
"""

from __future__ import annotations

from starlette.formparsers import MultiPartException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from livesupport.domain.errors import LivesupportError
from livesupport.web.errors import STATUS
from livesupport.web.pages import render
from livesupport.web.pages.account import account_form, account_with
from livesupport.web.security import person_from_session
from livesupport.web.services import services

ONE_CLICK = "One-Click"  # the body of an RFC 8058 POST: List-Unsubscribe=One-Click


async def save_preferences(request: Request) -> Response:
    opened = await account_form(request)
    if isinstance(opened, Response):
        return opened
    person, form = opened
    try:
        await services(request).following.set_preferences(person, form.get("mode"), form.get("digest_hour"))
    except LivesupportError as exc:
        return await account_with(request, person, STATUS.get(exc.code, 400), error=exc.message)
    return RedirectResponse("/account?saved=notifications#notifications", status_code=303)


async def _page(request: Request, status: int = 200, **context: object) -> Response:
    person = await person_from_session(request)
    shown: dict[str, object] = {"token": None, "user_name": "", "ticket": None, "done": None, "error": None}
    return render(request, "unsubscribe.html", person, status, title="Unsubscribe", **{**shown, **context})


async def unsubscribe_page(request: Request) -> Response:
    token = request.path_params["token"]
    try:
        user, ticket = await services(request).following.unsubscribe_target(token)
    except LivesupportError as exc:
        return await _page(request, STATUS.get(exc.code, 400), error=exc.message)
    return await _page(request, token=token, user_name=user.name,
                       ticket={"id": ticket.id, "subject": ticket.subject} if ticket else None)


async def unsubscribe(request: Request) -> Response:
    token = request.path_params["token"]
    try:
        async with request.form(max_files=0, max_fields=5) as form:
            one_click = form.get("List-Unsubscribe") == ONE_CLICK
            scope = form.get("scope")
    except MultiPartException:
        return await _page(request, 400, error="Send the form as the page does: the choice, and nothing else.")
    following = services(request).following
    try:
        if one_click:  # a mail program: the scope is the link's (a ticket's e-mails, or all of a digest's)
            _, named = await following.unsubscribe_target(token)
            scope = "ticket" if named is not None else "all"
        user, ticket = await following.unsubscribe(token, scope)
    except LivesupportError as exc:
        return await _page(request, STATUS.get(exc.code, 400), error=exc.message)
    return await _page(request, user_name=user.name, done="ticket" if ticket else "all",
                       ticket={"id": ticket.id, "subject": ticket.subject} if ticket else None)


routes = [
    Route("/account/notifications", save_preferences, methods=["POST"]),
    Route("/unsubscribe/{token}", unsubscribe_page, methods=["GET"]),
    Route("/unsubscribe/{token}", unsubscribe, methods=["POST"]),
]
