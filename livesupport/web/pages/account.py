"""One's own account (password, two-factor sign-in, sessions) and the admin pages of accounts:
the mail outbox, application keys, and a domain administrator's contacts."""

from __future__ import annotations

from typing import Any

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from livesupport.actions.mail import MAX_ATTEMPTS
from livesupport.domain.errors import LivesupportError
from livesupport.domain.numbers import require_id
from livesupport.domain.people import Person, Role
from livesupport.web.errors import STATUS
from livesupport.web.pages import login_first, render
from livesupport.web.pages.auth import EXPIRED_FORM, base_url
from livesupport.web.pages.forms import csrf_form, signed_in, signed_in_form
from livesupport.web.pages.phone import pin_notice
from livesupport.web.security import client_address
from livesupport.web.services import services

SAVED = {
    "password": "Your password was changed. You were signed out everywhere else.",
    "2fa-off": "Two-factor sign-in is off.",
    "sessions": "You were signed out everywhere else.",
    "notifications": "Your e-mail preferences were saved.",
}


async def account_with(request: Request, person: Person, status: int = 200, **extra: Any) -> Response:
    svc = services(request)
    on = await svc.two_factor.is_on(person.id)
    context: dict[str, Any] = {
        "title": "Your account", "two_factor_on": on, "error": None, "enrolment": None, "recovery_codes": None,
        "codes_left": await svc.two_factor.recovery_codes_left(person.id) if on else 0,
        "saved": SAVED.get(request.query_params.get("saved", "")),
        "pin": await svc.phone.pin_of(person), "pin_notice": pin_notice(request),
        "notify": await svc.following.preferences(person), "timezone": svc.settings.timezone.key,
        "is_staff": person.is_staff,
    }
    if not on and "enrolment" not in extra:
        context["enrolment"] = await svc.two_factor.pending(person)
    context.update(extra)
    return render(request, "account.html", person, status, **context)


async def account_page(request: Request) -> Response:
    person, redirect = await login_first(request)
    if person is None:
        return redirect  # type: ignore[return-value]
    return await account_with(request, person)


async def account_form(request: Request) -> tuple[Person, FormData] | Response:
    """The opening of every form on the account page (signed_in_form, answered by the account page)."""
    return await signed_in_form(request, lambda person, _: account_with(request, person, 403, error=EXPIRED_FORM))


async def change_password(request: Request) -> Response:
    opened = await account_form(request)
    if isinstance(opened, Response):
        return opened
    person, form = opened
    svc = services(request)
    try:
        await svc.accounts.change_password(person, form.get("current"), form.get("new"), client_address(request))
    except LivesupportError as exc:
        return await account_with(request, person, STATUS.get(exc.code, 400), error=exc.message)
    token = await svc.accounts.start_session(person)  # every session ended; this browser gets a fresh one
    request.session.clear()
    request.session["sid"] = token
    return RedirectResponse("/account?saved=password", status_code=303)


async def end_other_sessions(request: Request) -> Response:
    opened = await account_form(request)
    if isinstance(opened, Response):
        return opened
    person, _ = opened
    svc = services(request)
    await svc.accounts.end_all_sessions(person.id)
    request.session.clear()
    request.session["sid"] = await svc.accounts.start_session(person)
    return RedirectResponse("/account?saved=sessions", status_code=303)


async def two_factor_start(request: Request) -> Response:
    opened = await account_form(request)
    if isinstance(opened, Response):
        return opened
    person, _ = opened
    try:
        enrolment = await services(request).two_factor.begin(person)
    except LivesupportError as exc:
        return await account_with(request, person, STATUS.get(exc.code, 400), error=exc.message)
    return await account_with(request, person, enrolment=enrolment)


async def two_factor_confirm(request: Request) -> Response:
    opened = await account_form(request)
    if isinstance(opened, Response):
        return opened
    person, form = opened
    svc = services(request)
    try:
        codes = await svc.two_factor.confirm(person, form.get("code"), client_address(request))
    except LivesupportError as exc:
        return await account_with(request, person, STATUS.get(exc.code, 400), error=exc.message)
    return await account_with(request, person, recovery_codes=codes)


async def two_factor_off(request: Request) -> Response:
    opened = await account_form(request)
    if isinstance(opened, Response):
        return opened
    person, form = opened
    try:
        await services(request).two_factor.turn_off(person, form.get("code"), client_address(request))
    except LivesupportError as exc:
        return await account_with(request, person, STATUS.get(exc.code, 400), error=exc.message)
    return RedirectResponse("/account?saved=2fa-off", status_code=303)


# -- admins --------------------------------------------------------------------------


def _is_admin(person: Person) -> bool:
    return person.role is Role.ADMIN


async def outbox(request: Request) -> Response:
    person = await signed_in(request, _is_admin)
    if isinstance(person, Response):
        return person
    svc = services(request)
    return render(request, "outbox.html", person, title="Mail outbox", mails=await svc.mailer.outbox(),
                  delivery=svc.mailer.delivery, max_attempts=MAX_ATTEMPTS,
                  hide_secrets=svc.mailer.smtp is not None)


async def _app_keys(request: Request, person: Person, status: int = 200, **extra: Any) -> Response:
    keys = await services(request).two_factor.app_keys()
    return render(request, "app_keys.html", person, status, **{"title": "Application keys", "keys": keys,
                                                                 "new_key": None, "error": None, **extra})


async def app_keys(request: Request) -> Response:
    person = await signed_in(request, _is_admin)
    if isinstance(person, Response):
        return person
    if request.method == "GET":
        return await _app_keys(request, person)
    form = await csrf_form(request, lambda _: _app_keys(request, person, 403, error=EXPIRED_FORM))
    if isinstance(form, Response):
        return form
    two_factor = services(request).two_factor
    try:
        if form.get("revoke"):
            await two_factor.revoke_app_key(require_id(form.get("revoke"), "application key"))
            return RedirectResponse("/admin/app-keys", status_code=303)
        key = await two_factor.create_app_key(person, form.get("name"))
    except (LivesupportError, ValueError) as exc:
        message = exc.message if isinstance(exc, LivesupportError) else "Choose a key to revoke."
        return await _app_keys(request, person, 400, error=message)
    return await _app_keys(request, person, new_key=key)


# -- a domain administrator's contacts ------------------------------------------------


async def _contacts(request: Request, person: Person, status: int = 200, **extra: Any) -> Response:
    org, users = await services(request).contacts.list(person)
    return render(request, "contacts.html", person, status, **{
        "title": f"{org.name}: contacts", "org": org, "contacts": users, "error": None, "added": None,
        "name": "", "email": "", **extra})


async def contacts(request: Request) -> Response:
    person = await signed_in(request, lambda p: p.role is Role.DOMAIN_ADMIN)
    if isinstance(person, Response):
        return person
    if request.method == "GET":
        return await _contacts(request, person)
    form = await csrf_form(request, lambda f: _contacts(request, person, 403, error=EXPIRED_FORM,
                                                        name=str(f.get("name", "")), email=str(f.get("email", ""))))
    if isinstance(form, Response):
        return form
    name, email = str(form.get("name", "")), str(form.get("email", ""))
    svc = services(request)
    try:
        if form.get("remove"):
            await svc.contacts.remove(person, str(form.get("remove")))
            return RedirectResponse("/org/contacts", status_code=303)
        added = await svc.contacts.add(person, email, name, base_url(request))
    except LivesupportError as exc:
        return await _contacts(request, person, STATUS.get(exc.code, 400), error=exc.message, name=name,
                               email=email)
    return await _contacts(request, person, added=added)


routes = [
    Route("/account", account_page, methods=["GET"]),
    Route("/account/password", change_password, methods=["POST"]),
    Route("/account/sessions", end_other_sessions, methods=["POST"]),
    Route("/account/2fa/start", two_factor_start, methods=["POST"]),
    Route("/account/2fa/confirm", two_factor_confirm, methods=["POST"]),
    Route("/account/2fa/off", two_factor_off, methods=["POST"]),
    Route("/outbox", outbox, methods=["GET"]),
    Route("/admin/app-keys", app_keys, methods=["GET", "POST"]),
    Route("/org/contacts", contacts, methods=["GET", "POST"]),
]
