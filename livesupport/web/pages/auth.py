"""Signing in and out with the browser: a password (or a sign-in link), then the one-time code when 2FA is on."""

from __future__ import annotations

import time

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from livesupport.domain.errors import LivesupportError, UnauthorizedError
from livesupport.domain.people import Person, landing_path
from livesupport.web.errors import STATUS
from livesupport.web.limits import read_form
from livesupport.web.pages import render
from livesupport.web.security import (
    client_address,
    csrf_ok,
    person_from_session,
    safe_next,
    session_token,
)
from livesupport.web.services import services

EXPIRED_FORM = "This form expired. Please try again."
PENDING_FOR = 300  # seconds between the first step and the code



def base_url(request: Request) -> str:
    return services(request).settings.base_url or str(request.base_url).rstrip("/")


async def home(request: Request) -> Response:
    person = await person_from_session(request)
    return RedirectResponse(landing_path(person) if person else "/login", status_code=303)


async def login_page(request: Request) -> Response:
    person = await person_from_session(request)
    if person:
        return RedirectResponse(safe_next(request.query_params.get("next")) or landing_path(person), status_code=303)
    return render(request, "login.html", None, title="Log in", error=None, email="",
                  next=safe_next(request.query_params.get("next")))


async def _signed_in(request: Request, person: Person, target: str) -> Response:
    """Both factors are done: a fresh session (a new id and CSRF token: no fixation)."""
    token = await services(request).accounts.start_session(person)
    request.session.clear()
    request.session["sid"] = token
    return RedirectResponse(target, status_code=303)


async def _second_step(request: Request, person: Person, target: str) -> Response:
    """Ask for the one-time code when the account has 2FA; otherwise sign in."""
    if not await services(request).two_factor.is_on(person.id):
        return await _signed_in(request, person, target)
    request.session.clear()
    request.session["pending"] = {"uid": person.id, "at": time.time(), "next": target}
    return RedirectResponse("/login/code", status_code=303)


async def login(request: Request) -> Response:
    form = await read_form(request)
    email = str(form.get("email", ""))
    target = safe_next(str(form.get("next", "")))
    if not csrf_ok(request, form.get("csrf")):
        return render(request, "login.html", None, 403, title="Log in", error=EXPIRED_FORM, email=email, next=target)
    try:
        person = await services(request).accounts.authenticate(email, str(form.get("password", "")),
                                                                client_address(request))
    except LivesupportError as exc:
        return render(request, "login.html", None, STATUS.get(exc.code, 400), title="Log in", error=exc.message,
                      email=email, next=target)
    return await _second_step(request, person, target or landing_path(person))


def _pending(request: Request) -> dict[str, object] | None:
    pending = request.session.get("pending")
    if not isinstance(pending, dict) or not isinstance(pending.get("at"), float | int):
        return None
    if time.time() - float(pending["at"]) > PENDING_FOR:  # type: ignore[arg-type]
        request.session.pop("pending", None)
        return None
    return pending


async def code_page(request: Request) -> Response:
    if _pending(request) is None:
        return RedirectResponse("/login", status_code=303)
    return render(request, "login_code.html", None, title="Your sign-in code", error=None)


async def code_submit(request: Request) -> Response:
    form = await read_form(request)
    pending = _pending(request)
    if pending is None:
        return render(request, "login.html", None, 401, title="Log in", email="", next="",
                      error="That took too long; sign in again.")
    if not csrf_ok(request, form.get("csrf")):
        return render(request, "login_code.html", None, 403, title="Your sign-in code", error=EXPIRED_FORM)
    svc = services(request)
    uid = int(pending["uid"])  # type: ignore[call-overload]
    try:
        await svc.two_factor.verify(uid, form.get("code"), client_address(request))
        person = await svc.accounts.person_by_id(uid)
        if person is None:
            raise UnauthorizedError("This account can no longer sign in.")
    except LivesupportError as exc:
        return render(request, "login_code.html", None, STATUS.get(exc.code, 400), title="Your sign-in code",
                      error=exc.message)
    return await _signed_in(request, person, safe_next(str(pending.get("next", ""))) or landing_path(person))


async def link_page(request: Request) -> Response:
    return render(request, "login_link.html", None, title="Sign in with a link", error=None, sent=False, email="")


async def link_request(request: Request) -> Response:
    form = await read_form(request)
    email = str(form.get("email", ""))
    if not csrf_ok(request, form.get("csrf")):
        return render(request, "login_link.html", None, 403, title="Sign in with a link", error=EXPIRED_FORM,
                      sent=False, email=email)
    try:
        await services(request).magic_links.request(email, client_address(request), base_url(request))
    except LivesupportError as exc:
        return render(request, "login_link.html", None, STATUS.get(exc.code, 400), title="Sign in with a link",
                      error=exc.message, sent=False, email=email)
    # The same answer whether or not the address has an account.
    return render(request, "login_link.html", None, title="Check your e-mail", error=None, sent=True, email=email)


async def link_landing(request: Request) -> Response:
    """A page with a button, not a sign-in: mail scanners that open links must not use them up."""
    return render(request, "login_link_open.html", None, title="Sign in", token=request.path_params["token"],
                  error=None)


async def link_use(request: Request) -> Response:
    form = await read_form(request)
    token = request.path_params["token"]
    if not csrf_ok(request, form.get("csrf")):
        return render(request, "login_link_open.html", None, 403, title="Sign in", token=token, error=EXPIRED_FORM)
    try:
        person = await services(request).magic_links.consume(token)
    except LivesupportError as exc:
        return render(request, "login_link.html", None, STATUS.get(exc.code, 400), title="Sign in with a link",
                      error=exc.message, sent=False, email="")
    return await _second_step(request, person, landing_path(person))


async def logout(request: Request) -> Response:
    form = await read_form(request)
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
    Route("/login/code", code_page, methods=["GET"]),
    Route("/login/code", code_submit, methods=["POST"]),
    Route("/login/link", link_page, methods=["GET"]),
    Route("/login/link", link_request, methods=["POST"]),
    Route("/login/link/{token}", link_landing, methods=["GET"]),
    Route("/login/link/{token}", link_use, methods=["POST"]),
    Route("/logout", logout, methods=["POST"]),
]
