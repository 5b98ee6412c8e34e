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
from livesupport.web.openapi import operation
from livesupport.web.openapi import schemas as s
from livesupport.web.security import api_person
from livesupport.web.services import services


@operation(method="GET", summary="My support PIN", tag="Phone", errors=(403,),
           description="The PIN a contact gives on the phone (made on first sight).",
           responses={200: s.obj(["pin"], pin=s.TEXT)})
@operation(method="POST", summary="A new support PIN", tag="Phone", errors=(403, 429),
           description="Replaces the PIN.", responses={200: s.obj(["pin"], pin=s.TEXT)})
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


@operation(
    summary="Act for a verified caller", tag="Phone", errors=(403, 404, 409, 429),
    body=s.obj(["verification_id", "action"], verification_id=s.ID, action=s.TEXT,
               text={**s.TEXT, "description": "What the action needs (a message, a note)."}),
    responses={200: s.obj(["done"], done=s.TEXT)})
async def phone_action(request: Request) -> JSONResponse:
    try:
        person = await api_person(request)
        body = await json_body(request)
        done = await services(request).phone.act(person, body.get("verification_id"), body.get("action"),
                                                 body.get("text"))
    except LivesupportError as exc:
        return json_error(exc)
    return JSONResponse({"done": done})


@operation(
    summary="The phone audit log", tag="Phone", errors=(400, 403),
    description="Newest first, at most 200 entries; for Level 3 engineers and admins.",
    query=[s.query("email", s.TEXT, "Only calls about this caller."),
           s.query("staff_id", s.ID, "Only this engineer's."),
           s.query("action", s.TEXT, "Only this action (verify, …)."),
           s.query("result", s.TEXT, "Only this result."),
           s.query("since", s.INSTANT, "Only from this instant on.")],
    responses={200: s.obj(["entries"], entries=s.array(s.obj(
        ["at", "action", "result"], at=s.INSTANT, staff=s.nullable(s.TEXT), staff_id=s.nullable(s.ID),
        caller_email=s.nullable(s.TEXT), contact_id=s.nullable(s.ID), action=s.TEXT, result=s.TEXT,
        detail=s.nullable(s.TEXT))))})
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
