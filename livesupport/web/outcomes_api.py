"""How tickets end, over HTTP: set the status, reopen, rate (docs/api.md)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.routing import Route

from livesupport.domain.errors import LivesupportError
from livesupport.domain.outcomes import MAX_COMMENT, RATING_DAYS
from livesupport.web.api import json_body, ticket_id
from livesupport.web.errors import JSONResponse, json_error
from livesupport.web.openapi import operation
from livesupport.web.openapi import schemas as s
from livesupport.web.security import api_person
from livesupport.web.services import services

SEQ_ANSWER = s.obj(["ok", "seq"], ok=s.BOOL, seq=s.SEQ)
FOLLOW_UP = s.obj(["code", "message"], code=s.enum(["conflict"]), message=s.TEXT, follow_up=s.obj(
    ["method", "url", "body"], method=s.enum(["POST"]), url=s.enum(["/api/tickets"]),
    body=s.obj(["follows_up"], follows_up=s.ID), page=s.TEXT))


@operation(
    summary="Set a ticket's status", tag="Tickets", errors=(403,),
    description="Staff set any status, with the next update they promise (`next_update_at`; absent: the SLA "
                "decides, null: none), as the socket's `status` frame does. The ticket's own client contacts may "
                "only mark it solved (`resolved`); 409 when it is solved or closed already.",
    body=s.obj(["status"], status=s.STATUS_NAME, next_update_at=s.nullable(s.INSTANT)),
    responses={200: SEQ_ANSWER, 409: s.obj(["error"], error=s.obj(["code", "message"]))})
async def set_status(request: Request) -> JSONResponse:
    try:
        person = await api_person(request)
        body = await json_body(request)
        seq = await services(request).outcomes.set_status(person, ticket_id(request), body.get("status"),
                                                          body.get("next_update_at"),
                                                          given="next_update_at" in body)
    except LivesupportError as exc:
        return json_error(exc)
    return JSONResponse({"ok": True, "seq": seq})


@operation(
    summary="Reopen a solved ticket", tag="Tickets", errors=(403,), body_required=False,
    description="The ticket's client reopens it within REOPEN_DAYS (default 14) of its resolving: it goes back "
                "in progress and the SLA's response time starts again. Once closed, or later, the answer is 409 "
                "and its error carries `follow_up`: open a new ticket with `follows_up` set to this one.",
    responses={200: SEQ_ANSWER, 409: s.obj(["error"], error=FOLLOW_UP)})
async def reopen(request: Request) -> JSONResponse:
    try:
        person = await api_person(request)
        seq = await services(request).outcomes.reopen(person, ticket_id(request))
    except LivesupportError as exc:
        return json_error(exc)
    return JSONResponse({"ok": True, "seq": seq})


@operation(
    summary="Rate a solved ticket", tag="Tickets", errors=(403,),
    description=f"How did we do? The ticket's own client contacts answer `good` or `bad`, with an optional "
                f"comment, once it is resolved (409 before) and for {RATING_DAYS} days after (409 later); the "
                f"latest rating counts. Staff see it as an internal `rating` event.",
    body=s.obj(["score"], score=s.enum(["good", "bad"]), comment={**s.TEXT, "maxLength": MAX_COMMENT}),
    responses={200: s.obj(["score", "comment", "at", "seq"], score=s.enum(["good", "bad"]), comment=s.TEXT,
                          at=s.INSTANT, seq=s.SEQ, rating_until=s.INSTANT),
               409: s.obj(["error"], error=s.obj(["code", "message"]))})
async def rate(request: Request) -> JSONResponse:
    try:
        person = await api_person(request)
        body = await json_body(request)
        answer = await services(request).ratings.rate(person, ticket_id(request), body.get("score"),
                                                      body.get("comment"))
    except LivesupportError as exc:
        return json_error(exc)
    return JSONResponse(answer)


routes = [
    Route("/api/tickets/{ticket_id:id}/status", set_status, methods=["POST"]),
    Route("/api/tickets/{ticket_id:id}/reopen", reopen, methods=["POST"]),
    Route("/api/tickets/{ticket_id:id}/rating", rate, methods=["POST"]),
]
