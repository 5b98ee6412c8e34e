"""The canned replies API: staff keep personal replies, read the shared ones, and fill one in for a ticket."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from livesupport.actions.macros import Macros
from livesupport.domain.macros import MAX_MINUTES, MAX_TITLE, SHOWN
from livesupport.domain.people import Person
from livesupport.domain.tickets import MAX_BODY
from livesupport.web.api import json_body
from livesupport.web.handlers import json_handler
from livesupport.web.openapi import operation
from livesupport.web.openapi import schemas as s
from livesupport.web.services import services

Act = Callable[[Macros, Person, Request], Awaitable[Any]]


def _handler(act: Act, status: int = 200) -> Callable[[Request], Awaitable[Response]]:
    return json_handler(lambda request: Macros(services(request).tickets), act, status)


def _id(request: Request) -> Any:
    return request.path_params["macro_id"]


async def _list(macros: Macros, person: Person, request: Request) -> Any:
    return {"macros": await macros.list(person)}


async def _create(macros: Macros, person: Person, request: Request) -> Any:
    return await macros.create(person, await json_body(request))


async def _update(macros: Macros, person: Person, request: Request) -> Any:
    return await macros.update(person, _id(request), await json_body(request))


async def _delete(macros: Macros, person: Person, request: Request) -> Any:
    await macros.delete(person, _id(request))


async def _render(macros: Macros, person: Person, request: Request) -> Any:
    body = await json_body(request)
    return await macros.render(person, _id(request), body.get("ticket"))


MINUTES = {"type": "integer", "minimum": 1, "maximum": MAX_MINUTES}
MACRO = s.obj(
    ["id", "title", "body", "shared", "status", "next_update_minutes", "owner", "mine", "editable", "created_at",
     "updated_at"],
    id=s.ID, title=s.TEXT, body=s.TEXT, shared=s.BOOL, status=s.nullable(s.STATUS_NAME),
    next_update_minutes=s.nullable(MINUTES), owner=s.nullable(s.obj(["id", "name"], id=s.ID, name=s.TEXT)),
    mine=s.BOOL, editable={**s.BOOL, "description": "Whether you may change or delete it."},
    created_at=s.INSTANT, updated_at=s.INSTANT)
FIELDS: dict[str, Any] = {
    "title": {**s.TEXT, "minLength": 1, "maxLength": MAX_TITLE, "description": "What you type to find it."},
    "body": {**s.TEXT, "minLength": 1, "maxLength": MAX_BODY,
             "description": f"The text to insert, with the placeholders {SHOWN} and nothing else."},
    "shared": {**s.BOOL, "description": "Every engineer reads it (Level 3 engineers and admins only)."},
    "status": {**s.nullable(s.STATUS_NAME), "description": "A status to set when the reply is sent."},
    "next_update_minutes": {**s.nullable(MINUTES), "description": "The next update, this many minutes after "
                                                                  "sending."},
}
WHO = ("Staff only: clients are refused everywhere. A personal reply is its author's alone (others do not find "
       "it); a shared one is read by all staff and changed only by Level 3 engineers and admins.")


def _described(act: Act, summary: str, words: str, status: int = 200, **more: Any) -> Callable[[Request], Any]:
    more.setdefault("errors", (400, 403, 404, 413))
    return operation(summary=summary, tag="Canned replies", description=f"{words} {WHO}", **more)(
        _handler(act, status))


ONE = "/api/macros/{macro_id:id}"
routes = [
    Route("/api/macros", _described(_list, "List canned replies", "Yours and the shared ones, by title.",
                                    errors=(403,), responses={200: s.obj(["macros"], macros=s.array(MACRO))}),
          methods=["GET"]),
    Route("/api/macros", _described(_create, "Keep a canned reply",
                                    "The body is checked now: a placeholder that is not one of ours, or any other "
                                    "template syntax, is refused with 400 naming it.", 201,
                                    body=s.obj(["title", "body"], **FIELDS), responses={201: MACRO}),
          methods=["POST"]),
    Route(ONE, _described(_update, "Change a canned reply", "Send only the fields that change.",
                          body=s.obj(**FIELDS), responses={200: MACRO}), methods=["PATCH"]),
    Route(ONE, _described(_delete, "Delete a canned reply", "It is gone for everyone.", errors=(400, 403, 404),
                          responses={204: None}), methods=["DELETE"]),
    Route(ONE + "/render", _described(
        _render, "Fill a canned reply in for a ticket",
        "The body with its placeholders filled in for that ticket, and the status and next update it sets when "
        "sent (null: none). A ticket you may not see answers 403.",
        body=s.obj(["ticket"], ticket=s.ID),
        responses={200: s.obj(["body", "status", "next_update_minutes"], body=s.TEXT,
                              status=s.nullable(s.STATUS_NAME), next_update_minutes=s.nullable(MINUTES))}),
          methods=["POST"]),
]
