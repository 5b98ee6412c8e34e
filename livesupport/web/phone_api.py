"""Phone support over HTTP: one's own PIN, the console's actions and audit log, and the handout PDF."""

from __future__ import annotations

from datetime import datetime

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from livesupport.domain.errors import BadRequestError, ForbiddenError, LivesupportError
from livesupport.domain.numbers import parse_id
from livesupport.domain.tickets import parse_instant
from livesupport.web.api import json_body
from livesupport.web.errors import JSONResponse, json_error
from livesupport.web.security import api_person
from livesupport.web.services import services


async def my_pin(request: Request) -> JSONResponse:
    """GET: one's support PIN (made on first sight); POST: a new one."""
    try:
        person = await api_person(request)
        phone = services(request).phone
        pin = await (phone.new_pin(person) if request.method == "POST" else phone.pin_of(person))
        if pin is None:
            raise ForbiddenError("Support PINs are for the contacts of our clients and partners.")
    except LivesupportError as exc:
        return json_error(exc)
    return JSONResponse({"pin": pin}, headers={"Cache-Control": "no-store"})


async def phone_action(request: Request) -> JSONResponse:
    try:
        person = await api_person(request)
        body = await json_body(request)
        done = await services(request).phone.act(person, body.get("verification_id"), body.get("action"),
                                                 body.get("text"))
    except LivesupportError as exc:
        return json_error(exc)
    return JSONResponse({"done": done})


async def phone_audit(request: Request) -> JSONResponse:
    try:
        person = await api_person(request)
        q = request.query_params
        staff = q.get("staff_id")
        staff_id = parse_id(staff) if staff else None
        if staff and staff_id is None:
            raise BadRequestError("staff_id is a user id (a whole number).")
        since: datetime | None = parse_instant(q.get("since"), "since")
        entries = await services(request).phone.audit_log(
            person, email=q.get("email"), staff_id=staff_id, action=q.get("action"),
            result=q.get("result"), since=since)
    except LivesupportError as exc:
        return json_error(exc)
    return JSONResponse({"entries": entries})


async def handout(request: Request) -> Response:
    pdf = services(request).phone.handout_pdf()
    return Response(pdf, media_type="application/pdf", headers={
        "Content-Disposition": 'inline; filename="how-to-be-added-as-a-contact.pdf"'})


routes = [
    Route("/api/me/pin", my_pin, methods=["GET", "POST"]),
    Route("/api/phone/actions", phone_action, methods=["POST"]),
    Route("/api/phone/audit", phone_audit, methods=["GET"]),
    Route("/pin/handout.pdf", handout, methods=["GET"]),
]
