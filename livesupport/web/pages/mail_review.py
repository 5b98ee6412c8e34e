"""/mail-review: staff decide on e-mail the pipeline held (open as a ticket, post on a ticket, discard)."""

from __future__ import annotations

from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from livesupport.domain.errors import LivesupportError
from livesupport.domain.numbers import parse_id
from livesupport.domain.people import Person
from livesupport.store.models import Organisation
from livesupport.web.errors import STATUS
from livesupport.web.pages import render
from livesupport.web.pages.auth import EXPIRED_FORM
from livesupport.web.pages.forms import signed_in, signed_in_form
from livesupport.web.services import services

DONE = {"discard": "The mail was discarded.", "attach": "The mail was posted on the ticket.",
        "open": "A ticket was opened for the sender."}


def _staff(person: Person) -> bool:
    return person.is_staff


async def _page(request: Request, person: Person, status: int = 200, error: str | None = None) -> Response:
    mails = await services(request).mail_review.held(person)
    async with services(request).db.read() as s:
        orgs = [{"id": i, "name": n} for i, n in (await s.execute(
            select(Organisation.id, Organisation.name).where(Organisation.kind == "client")
            .order_by(Organisation.name).limit(1000))).all()]
    done = request.query_params.get("done", "")
    ticket = parse_id(request.query_params.get("ticket"))
    return render(request, "mail_review.html", person, status, title="Mail to review", mails=mails, orgs=orgs,
                  error=error, saved=DONE.get(done), ticket=ticket)


async def mail_review_page(request: Request) -> Response:
    if request.method == "GET":
        person = await signed_in(request, _staff)
        return person if isinstance(person, Response) else await _page(request, person)
    opened = await signed_in_form(request, lambda p, f: _page(request, p, 403, error=EXPIRED_FORM), _staff)
    if isinstance(opened, Response):
        return opened
    person, form = opened
    review, action = services(request).mail_review, str(form.get("action", ""))
    mail = form.get("mail")
    try:
        if action == "discard":
            await review.discard(person, parse_id(mail) or mail)
            return RedirectResponse("/mail-review?done=discard", status_code=303)
        if action == "attach":
            ticket = parse_id(form.get("ticket_id"))
            if ticket is None:
                return await _page(request, person, 400, "Give the number of the ticket to post it on.")
            result = await review.attach(person, parse_id(mail) or mail, ticket)
        elif action == "open":
            org = parse_id(form.get("org_id"))
            if org is None:
                return await _page(request, person, 400, "Choose the organisation the sender belongs to.")
            result = await review.open_for_new_contact(person, parse_id(mail) or mail, org, form.get("name"))
        else:
            return await _page(request, person, 400, "Choose what to do: open, post or discard.")
    except LivesupportError as exc:
        return await _page(request, person, STATUS.get(exc.code, 400), exc.message)
    return RedirectResponse(f"/mail-review?done={action}&ticket={result['ticket_id']}", status_code=303)


routes = [Route("/mail-review", mail_review_page, methods=["GET", "POST"])]
