"""The HTTP companions of the protocol, under /api."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from livesupport.domain.errors import BadRequestError, LivesupportError, TooLargeError
from livesupport.realtime.frames import decode
from livesupport.web.errors import JSONResponse, json_error
from livesupport.web.security import api_person, bearer
from livesupport.web.services import services

MAX_JSON = 64 * 1024


async def json_body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if len(raw) > MAX_JSON:
        raise TooLargeError(f"The request body is over {MAX_JSON // 1024} KiB.")
    return decode(raw, "request body")


def ticket_id(request: Request) -> int:
    raw = request.path_params["ticket_id"]
    return int(raw)


async def create_token(request: Request) -> JSONResponse:
    svc = services(request)
    try:
        body = await json_body(request)
        address = request.client.host if request.client else "?"
        person = await svc.accounts.authenticate(body.get("email"), body.get("password"), address)
        token, expires_at = await svc.accounts.issue_token(person)
    except LivesupportError as exc:
        return json_error(exc)
    return JSONResponse({"token": token, "expires_at": expires_at, "user": person.public()}, status_code=201)


async def revoke_token(request: Request) -> Response:
    """Log out a token: it stops working and the sockets it opened are closed with 4401."""
    try:
        await api_person(request)
        token = bearer(request)
        if token is None:
            raise BadRequestError("Send the token to revoke as Authorization: Bearer <token>.")
        await services(request).accounts.revoke(token)
    except LivesupportError as exc:
        return json_error(exc)
    return Response(status_code=204)


async def create_ticket(request: Request) -> JSONResponse:
    svc = services(request)
    try:
        person = await api_person(request)
        body = await json_body(request)
        snap = await svc.tickets.open(person, body.get("subject"), body.get("body"), body.get("priority"),
                                      body.get("org_id"))
    except LivesupportError as exc:
        return json_error(exc)
    return JSONResponse(snap, status_code=201)


async def list_tickets(request: Request) -> JSONResponse:
    try:
        person = await api_person(request)
        return JSONResponse({"tickets": await services(request).tickets.list_for(person)})
    except LivesupportError as exc:
        return json_error(exc)


async def get_ticket(request: Request) -> JSONResponse:
    try:
        person = await api_person(request)
        state, _, _ = await services(request).tickets.snapshot(person, ticket_id(request))
    except LivesupportError as exc:
        return json_error(exc)
    return JSONResponse(state)


async def ticket_events(request: Request) -> JSONResponse:
    try:
        person = await api_person(request)
        raw = request.query_params.get("since", "0")
        if not raw.isdigit():
            raise BadRequestError("since must be a whole number: the last seq you saw.")
        events, more = await services(request).tickets.events(person, ticket_id(request), int(raw))
    except LivesupportError as exc:
        return json_error(exc)
    return JSONResponse({"events": events, "more": more})


routes = [
    Route("/api/tokens", create_token, methods=["POST"]),
    Route("/api/tokens", revoke_token, methods=["DELETE"]),
    Route("/api/tickets", create_ticket, methods=["POST"]),
    Route("/api/tickets", list_tickets, methods=["GET"]),
    Route("/api/tickets/{ticket_id:int}", get_ticket, methods=["GET"]),
    Route("/api/tickets/{ticket_id:int}/events", ticket_events, methods=["GET"]),
]
