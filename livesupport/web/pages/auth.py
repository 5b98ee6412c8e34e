"""Logging in and out with the browser."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from livesupport.actions.accounts import SESSION_TTL
from livesupport.domain.errors import LivesupportError
from livesupport.web.errors import STATUS
from livesupport.web.pages import render
from livesupport.web.security import csrf_ok, person_from_session, safe_next, session_token
from livesupport.web.services import services

EXPIRED_FORM = "This form expired. Please try again."


async def home(request: Request) -> Response:
    person = await person_from_session(request)
    return RedirectResponse("/tickets" if person else "/login", status_code=303)


async def login_page(request: Request) -> Response:
    if await person_from_session(request):
        return RedirectResponse(safe_next(request.query_params.get("next")), status_code=303)
    return render(request, "login.html", None, title="Log in", error=None, email="",
                  next=safe_next(request.query_params.get("next")))


async def login(request: Request) -> Response:
    form = await request.form()
    email = str(form.get("email", ""))
    target = safe_next(str(form.get("next", "")))
    if not csrf_ok(request, form.get("csrf")):
        return render(request, "login.html", None, 403, title="Log in", error=EXPIRED_FORM, email=email, next=target)
    address = request.client.host if request.client else "?"
    try:
        person = await services(request).accounts.authenticate(email, str(form.get("password", "")), address)
    except LivesupportError as exc:
        return render(request, "login.html", None, STATUS.get(exc.code, 400), title="Log in", error=exc.message,
                      email=email, next=target)
    token, _ = await services(request).accounts.issue_token(person, SESSION_TTL)
    request.session.clear()  # a fresh session (and CSRF token) for the logged-in user
    request.session["sid"] = token
    return RedirectResponse(target, status_code=303)


async def logout(request: Request) -> Response:
    form = await request.form()
    sid = session_token(request)
    if csrf_ok(request, form.get("csrf")):
        if sid:
            await services(request).accounts.revoke(sid)  # its open sockets close too, on every process
        request.session.clear()
    return RedirectResponse("/login", status_code=303)


routes = [
    Route("/", home),
    Route("/login", login_page, methods=["GET"]),
    Route("/login", login, methods=["POST"]),
    Route("/logout", logout, methods=["POST"]),
]
