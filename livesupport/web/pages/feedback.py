"""The "Give us feedback" page that every screen links to."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from livesupport.domain.errors import ForbiddenError, LivesupportError
from livesupport.domain.feedback import clean_page
from livesupport.web.errors import STATUS
from livesupport.web.limits import read_form
from livesupport.web.pages import render
from livesupport.web.security import client_address, csrf_ok, person_from_session
from livesupport.web.services import services


async def feedback_page(request: Request) -> Response:
    person = await person_from_session(request)
    page = clean_page(request.query_params.get("page"))
    return render(request, "feedback.html", person, title="Give us feedback", page=page, body="", error=None,
                  saved=False)


async def leave_feedback(request: Request) -> Response:
    person = await person_from_session(request)
    form = await read_form(request)
    page, body = clean_page(form.get("page")), str(form.get("body", ""))
    try:
        if not csrf_ok(request, form.get("csrf")):
            raise ForbiddenError("This form expired. Please send it again.")
        await services(request).feedback.leave(person, page, body, client_address(request))
    except LivesupportError as exc:
        return render(request, "feedback.html", person, STATUS.get(exc.code, 400), title="Give us feedback",
                      page=page, body=body, error=exc.message, saved=False)
    return render(request, "feedback.html", person, title="Thank you", page=page, body="", error=None, saved=True)


async def feedback_list(request: Request) -> Response:
    person = await person_from_session(request)
    if person is None or not person.is_staff:
        return render(request, "not_found.html", person, 404, title="Not found",
                      message="There is nothing here for you.")
    items = await services(request).feedback.latest(person)
    return render(request, "feedback_list.html", person, title="Feedback", items=items)


routes = [
    Route("/feedback", feedback_page, methods=["GET"]),
    Route("/feedback", leave_feedback, methods=["POST"]),
    Route("/feedback/all", feedback_list, methods=["GET"]),
]
