"""Phone support pages: one's support PIN, the Level 1 verification console, the audit log, and `/pin`
(a new PIN by e-mail, or the handout for people with no contact in the portal)."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from livesupport.domain import billing as billing_rules
from livesupport.domain import dates
from livesupport.domain import phone as rules
from livesupport.domain.errors import LivesupportError, NotFoundError, RateLimitedError
from livesupport.domain.numbers import parse_id
from livesupport.domain.people import Person, Role
from livesupport.web.errors import STATUS
from livesupport.web.limits import read_form
from livesupport.web.pages import not_found, render
from livesupport.web.pages.auth import EXPIRED_FORM, base_url
from livesupport.web.pages.forms import signed_in, signed_in_form
from livesupport.web.security import client_address, csrf_ok
from livesupport.web.services import services

GROUPS = (
    (rules.Group.PUBLIC, "Public: no PIN needed", "Anyone may ask for these, verified or not."),
    (rules.Group.PIN, "Needs a verified PIN",
     "Only for a verified caller whose organisation is in good standing."),
    (rules.Group.NEVER, "Never by phone",
     "Not by phone, PIN or not. Say why, and where it is done instead."),
)
WITH_TEXT = {"open_ticket": "What does the caller need?", "request_change": "Which change, on what?"}
RESULTS = {"ok": "Done", "no_match": "No match", "locked": "Locked", "refused": "Refused"}
ACTION_WORDS = {"verify": "PIN check", **{a.name: a.label for a in rules.ACTIONS.values()}}
LINK_GONE = "This link has expired or was already used. Ask for a new one: it takes a minute."
TICKET = re.compile(r"^Ticket #([0-9]{1,10}) opened")


def _may_audit(person: Person) -> bool:
    return person.role is Role.ADMIN or (person.role is Role.STAFF and (person.tier or 0) >= 3)


def _clock(iso: str, request: Request) -> str:
    """10:42 AM on the desk's clock: what the page shows until the browser puts it in the viewer's zone."""
    at = datetime.fromisoformat(iso.replace("Z", "+00:00"))
    return dates.clock(at.astimezone(services(request).settings.timezone))


# -- one's own PIN (the ticket list and the account page show it) ------------------------


def _pin_page(form: FormData) -> str:
    return "/tickets" if form.get("next") == "/tickets" else "/account"  # the two pages with the PIN card


async def _pin_expired(_: Person, form: FormData) -> Response:
    return RedirectResponse(f"{_pin_page(form)}?pin=expired#support-pin", status_code=303)


async def new_pin(request: Request) -> Response:
    opened = await signed_in_form(request, _pin_expired)
    if isinstance(opened, Response):
        return opened
    person, form = opened
    target = _pin_page(form)
    try:
        await services(request).phone.new_pin(person)
    except LivesupportError:
        return not_found(request, person)
    return RedirectResponse(f"{target}?pin=new#support-pin", status_code=303)


def pin_notice(request: Request) -> str | None:
    """What the PIN card says after "Get a new PIN"."""
    return {"new": "This is your new PIN. The old one no longer works.",
            "expired": EXPIRED_FORM}.get(request.query_params.get("pin", ""))


# -- the verification console ------------------------------------------------------------


def _unverified_actions() -> list[dict[str, Any]]:
    out = []
    for a in rules.ACTIONS.values():
        allowed, why = rules.may_act(a.name, verified=False, good_standing=False)
        out.append({"name": a.name, "label": a.label, "group": a.group.value, "allowed": allowed, "why": why})
    return out


async def _console(request: Request, staff: Person, state: dict[str, Any] | None = None, status: int = 200,
                   **extra: Any) -> Response:
    actions = state["actions"] if state else _unverified_actions()
    groups = [{"key": g.value, "title": title, "hint": hint, "actions": [a for a in actions if a["group"] == g]}
              for g, title, hint in GROUPS]
    context: dict[str, Any] = {
        "title": "Phone console", "state": state, "groups": groups, "with_text": WITH_TEXT, "email": "",
        "error": None, "done": None, "done_ticket": None, "action_error": None, "typed": {},
        "standing_words": billing_rules.standing_words(billing_rules.Standing(state["standing"])) if state else "",
        "until": _clock(state["expires_at"], request) if state else "", **extra,
    }
    return render(request, "phone_console.html", staff, status, **context)


def _is_staff(person: Person) -> bool:
    return person.is_staff


async def _staff(request: Request) -> Person | Response:
    return await signed_in(request, _is_staff)


def _verification_id(raw: object) -> int:
    return parse_id(raw) or 0


async def console(request: Request) -> Response:
    staff = await _staff(request)
    if isinstance(staff, Response):
        return staff
    vid = _verification_id(request.query_params.get("v"))
    if not vid:
        return await _console(request, staff)
    try:
        state = await services(request).phone.state(staff, vid)
    except LivesupportError as exc:
        return await _console(request, staff, None, STATUS.get(exc.code, 400), error=exc.message)
    flash = request.session.pop("phone_done", None)
    done = flash.get("text") if isinstance(flash, dict) and flash.get("v") == vid else None
    found = TICKET.match(done or "")
    return await _console(request, staff, state, done=done, done_ticket=parse_id(found[1]) if found else None,
                          email=state["contact"]["email"])


async def verify(request: Request) -> Response:
    opened = await signed_in_form(request, lambda staff, form: _console(
        request, staff, None, 403, error=EXPIRED_FORM, email=str(form.get("email", ""))[:320]), _is_staff)
    if isinstance(opened, Response):
        return opened
    staff, form = opened
    email = str(form.get("email", ""))[:320]
    try:
        result = await services(request).phone.verify(staff, email, str(form.get("pin", "")),
                                                      client_address(request))
    except RateLimitedError as exc:
        return await _console(request, staff, None, 429, email=email, locked=True, error=(
            f"Locked: too many wrong PINs for this caller, or from you. {exc.message} Until then, offer "
            "public help only."))
    except LivesupportError as exc:
        return await _console(request, staff, None, STATUS.get(exc.code, 400), error=exc.message, email=email)
    if not result.get("verified"):
        return await _console(request, staff, None, email=email, no_match=True, error=result["message"])
    return RedirectResponse(f"/support/verify?v={result['verification_id']}", status_code=303)


async def act(request: Request) -> Response:
    staff = await _staff(request)
    if isinstance(staff, Response):
        return staff
    form = await read_form(request)
    vid, action, text = _verification_id(form.get("v")), str(form.get("action", "")), str(form.get("text", ""))
    phone = services(request).phone
    try:
        if not csrf_ok(request, form.get("csrf")):
            state = await phone.state(staff, vid)
            return await _console(request, staff, state, 403, action_error={"action": action, "message": EXPIRED_FORM},
                                  typed={action: text})
        done = await phone.act(staff, vid, action, text)
    except NotFoundError as exc:
        return await _console(request, staff, None, 404, error=exc.message)
    except LivesupportError as exc:
        try:
            state = await phone.state(staff, vid)
        except LivesupportError:
            return await _console(request, staff, None, 404, error=exc.message)
        return await _console(request, staff, state, STATUS.get(exc.code, 400), typed={action: text},
                              action_error={"action": action, "message": exc.message},
                              email=state["contact"]["email"])
    request.session["phone_done"] = {"v": vid, "text": done}
    return RedirectResponse(f"/support/verify?v={vid}#done", status_code=303)


# -- the audit log ------------------------------------------------------------------------


async def audit(request: Request) -> Response:
    person = await signed_in(request, _may_audit)
    if isinstance(person, Response):
        return person
    q = request.query_params
    filters = {"email": q.get("email", "").strip()[:320], "action": q.get("action", ""), "result": q.get("result", "")}
    filters["action"] = filters["action"] if filters["action"] in ACTION_WORDS else ""
    filters["result"] = filters["result"] if filters["result"] in RESULTS else ""
    entries = await services(request).phone.audit_log(
        person, email=filters["email"] or None, action=filters["action"] or None, result=filters["result"] or None)
    return render(request, "phone_audit.html", person, title="Phone log", entries=entries, filters=filters,
                  actions=ACTION_WORDS, results=RESULTS)


# -- /pin: PIN self-service ---------------------------------------------------------------


async def pin_page(request: Request) -> Response:
    return render(request, "pin_request.html", None, title="A new support PIN", sent=False, error=None, email="")


async def pin_request(request: Request) -> Response:
    form = await read_form(request)
    email = str(form.get("email", ""))[:320]
    if not csrf_ok(request, form.get("csrf")):
        return render(request, "pin_request.html", None, 403, title="A new support PIN", sent=False,
                      error=EXPIRED_FORM, email=email)
    try:
        await services(request).phone.request_link(email, client_address(request), base_url(request))
    except LivesupportError as exc:
        return render(request, "pin_request.html", None, STATUS.get(exc.code, 400), title="A new support PIN",
                      sent=False, error=exc.message, email=email)
    # The same answer whether or not the address belongs to a contact.
    return render(request, "pin_request.html", None, title="Check your e-mail", sent=True, error=None, email=email)


async def pin_link(request: Request) -> Response:
    """A page with a button: mail scanners that open links must not use them up."""
    return render(request, "pin_set.html", None, title="Set a new support PIN", token=request.path_params["token"],
                  pin=None, error=None)


async def pin_set(request: Request) -> Response:
    form = await read_form(request)
    token = request.path_params["token"]
    if not csrf_ok(request, form.get("csrf")):
        return render(request, "pin_set.html", None, 403, title="Set a new support PIN", token=token, pin=None,
                      error=EXPIRED_FORM)
    try:
        _, pin = await services(request).phone.set_from_link(token)
    except LivesupportError as exc:
        return render(request, "pin_set.html", None, STATUS.get(exc.code, 400), title="Link expired", token=None,
                      pin=None, error=LINK_GONE)
    return render(request, "pin_set.html", None, title="Your new support PIN", token=None, pin=pin, error=None)


routes = [
    Route("/account/pin", new_pin, methods=["POST"]),
    Route("/support/verify", console, methods=["GET"]),
    Route("/support/verify", verify, methods=["POST"]),
    Route("/support/act", act, methods=["POST"]),
    Route("/support/audit", audit, methods=["GET"]),
    Route("/pin", pin_page, methods=["GET"]),
    Route("/pin", pin_request, methods=["POST"]),
    Route("/pin/set/{token}", pin_link, methods=["GET"]),
    Route("/pin/set/{token}", pin_set, methods=["POST"]),
]
