"""`/transfer`: the step-by-step survey a client fills in to move their services, open to anyone.

The draft's token lives in the session (and in the resume link): the page shows the step it is on.
Every button posts the step's answers, so going back, saving or moving on never loses what was typed.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from livesupport.actions.transfer_survey import Draft, DraftGoneError
from livesupport.domain import transfers as rules
from livesupport.domain.errors import LivesupportError
from livesupport.domain.numbers import parse_int
from livesupport.web.errors import STATUS
from livesupport.web.limits import read_form
from livesupport.web.pages import render
from livesupport.web.pages.auth import EXPIRED_FORM, base_url
from livesupport.web.security import client_address, csrf_ok, person_from_session
from livesupport.web.services import services

SESSION_KEY = "transfer_draft"
TITLE = "Transfer your services"


async def _draft(request: Request) -> Draft | None:
    token = request.session.get(SESSION_KEY)
    if not token:
        return None
    try:
        return await services(request).survey.open(token)
    except DraftGoneError:
        request.session.pop(SESSION_KEY, None)
        return None


async def _page(request: Request, draft: Draft | None, errors: dict[str, str] | None = None, status: int = 200,
                notice: str | None = None, **extra: Any) -> Response:
    person = await person_from_session(request)
    svc = services(request)
    if draft is None:
        draft = Draft("", 1, {}, None, None)
        if person is not None:  # show what a signed-in client's draft would start with, without storing it yet
            draft = await svc.survey.start(person)
            request.session[SESSION_KEY] = draft.token
    if draft.transfer_id is not None:
        return render(request, "transfer_filed.html", person, title="Transfer filed", transfer_id=draft.transfer_id,
                      email=draft.answers.get("contact_email", ""))
    ctx = await svc.survey.context(draft)
    return render(
        request, "transfer_survey.html", person, status, title=TITLE, step=draft.step, steps=rules.SURVEY_STEPS,
        answers=draft.answers, errors=errors or {}, reasons=rules.REASONS, partners=ctx.partners,
        known_services=ctx.services, today=ctx.today.isoformat(), notice=notice,
        resume_url=f"{base_url(request)}/transfer/resume/{draft.token}" if draft.token else None,
        services_listed=rules.services_of(draft.answers), **extra,
    )


async def survey(request: Request) -> Response:
    return await _page(request, await _draft(request))


async def survey_post(request: Request) -> Response:
    form = await read_form(request)
    svc = services(request)
    draft = await _draft(request)
    if not csrf_ok(request, form.get("csrf")):
        return await _page(request, draft, status=403, notice=EXPIRED_FORM)
    if draft is None:
        draft = await svc.survey.start(await person_from_session(request))
        request.session[SESSION_KEY] = draft.token
    move = str(form.get("move", "next"))
    step = parse_int(form.get("step"), 0, 99) or 0
    fields: dict[str, Any] = {k: v for k, v in form.items() if k not in ("csrf", "move", "step", "services")}
    fields["services"] = form.getlist("services")
    try:
        goto = parse_int(move[5:], 1, 99) if move.startswith("goto:") else None
        if goto is not None:
            await svc.survey.goto(draft, goto)
            return RedirectResponse("/transfer", status_code=303)
        if move == "submit":
            transfer_id, errors, _ = await svc.survey.submit(draft, client_address(request), base_url(request))
            if errors:
                return await _page(request, draft, errors, 400,
                                   notice="Something needs fixing before we can file this: see below.")
            return RedirectResponse("/transfer", status_code=303)
        if move not in ("next", "back", "save", "email"):
            return await _page(request, draft, status=400, notice="That button is not part of the survey.")
        errors = await svc.survey.save(draft, step, fields, "save" if move == "email" else move)
        if errors:
            return await _page(request, draft, errors, 400, notice="Please check the answers marked below.")
        if move == "email":
            sent_to = await svc.survey.mail_link(draft, client_address(request), base_url(request))
            notice = (f"Saved. We e-mailed the link to {sent_to}." if sent_to else
                      "Saved. Keep the link below (we can e-mail it once you give your e-mail address in step 1).")
            return await _page(request, draft, notice=notice, saved=True)
        if move == "save":
            return await _page(request, draft, notice="Saved. Come back to it with the link below, on any device.",
                               saved=True)
    except LivesupportError as exc:
        return await _page(request, draft, status=STATUS.get(exc.code, 400), notice=exc.message)
    return RedirectResponse("/transfer", status_code=303)  # the next (or previous) step, by GET


async def resume(request: Request) -> Response:
    try:
        draft = await services(request).survey.open(request.path_params["token"])
    except DraftGoneError as exc:
        request.session.pop(SESSION_KEY, None)
        return await _page(request, None, status=404, notice=exc.message)
    request.session[SESSION_KEY] = draft.token
    return RedirectResponse("/transfer", status_code=303)


async def start_over(request: Request) -> Response:
    form = await read_form(request)
    if csrf_ok(request, form.get("csrf")):
        request.session.pop(SESSION_KEY, None)
    return RedirectResponse("/transfer", status_code=303)


routes = [
    Route("/transfer", survey, methods=["GET"]),
    Route("/transfer", survey_post, methods=["POST"]),
    Route("/transfer/new", start_over, methods=["POST"]),
    Route("/transfer/resume/{token}", resume, methods=["GET"]),
]
