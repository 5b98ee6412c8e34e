"""The saved views API: personal views of the ticket list for everyone, shared ones kept by Level 3 and admins."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from starlette.requests import Request
from starlette.routing import Route

from livesupport.actions.saved_views import SavedViews
from livesupport.domain.people import Person
from livesupport.domain.saved_views import MAX_NAME, MAX_QUERY, PARAMETERS
from livesupport.web.api import json_body
from livesupport.web.handlers import json_handler
from livesupport.web.openapi import operation
from livesupport.web.openapi import schemas as s
from livesupport.web.services import services


def _views(request: Request) -> SavedViews:
    return SavedViews(services(request).tickets)


def _id(request: Request) -> Any:
    return request.path_params["view_id"]


async def _list(views: SavedViews, person: Person, request: Request) -> Any:
    return {"views": await views.list(person)}


async def _create(views: SavedViews, person: Person, request: Request) -> Any:
    return await views.create(person, await json_body(request))


async def _update(views: SavedViews, person: Person, request: Request) -> Any:
    return await views.update(person, _id(request), await json_body(request))


async def _delete(views: SavedViews, person: Person, request: Request) -> Any:
    await views.delete(person, _id(request))


VIEW = s.obj(
    ["id", "name", "query", "url", "shared", "owner", "mine", "editable", "created_at", "updated_at"],
    id=s.ID, name=s.TEXT, query={**s.TEXT, "description": "The list's query string, checked and in one "
                                                          "spelling, e.g. status=new&assignee=none."},
    url={**s.TEXT, "description": "The list page opened on this view."},
    shared=s.BOOL, owner=s.nullable(s.obj(["id", "name"], id=s.ID, name=s.TEXT)), mine=s.BOOL,
    editable={**s.BOOL, "description": "Whether you may change or delete it."},
    created_at=s.INSTANT, updated_at=s.INSTANT)
FIELDS: dict[str, Any] = {
    "name": {**s.TEXT, "minLength": 1, "maxLength": MAX_NAME, "description": "What the views menu shows."},
    "query": {**s.TEXT, "maxLength": MAX_QUERY,
              "description": f"The query string of GET /api/tickets the view asks ({', '.join(PARAMETERS)}; "
                             "blank values are left out, cursor is refused). Checked now as the list checks it: "
                             "a bad one is refused with bad_parameter naming the parameter."},
    "shared": {**s.BOOL, "description": "Every engineer sees it (Level 3 engineers and admins only)."},
}
WHO = ("A view is only a question: opening it runs its query as you, so it never shows more than you may see. "
       "Personal views are their owner's alone (clients keep them too); shared ones are seen by all staff, never by "
       "clients, and changed only by Level 3 engineers and admins. Another person's personal view answers 404.")


def _described(act: Any, summary: str, words: str, status: int = 200, **more: Any) -> Callable[[Request], Any]:
    more.setdefault("errors", (400, 403, 404, 413))
    return operation(summary=summary, tag="Saved views", description=f"{words} {WHO}", **more)(
        json_handler(_views, act, status))


ONE = "/api/views/{view_id:id}"
routes = [
    Route("/api/views", _described(_list, "List saved views", "Yours, and (staff) the shared ones: shared first, "
                                                               "then by name.",
                                   errors=(), responses={200: s.obj(["views"], views=s.array(VIEW))}),
          methods=["GET"]),
    Route("/api/views", _described(_create, "Save a view", "A name and the list's query string.", 201,
                                   body=s.obj(["name"], **FIELDS), responses={201: VIEW}),
          methods=["POST"]),
    Route(ONE, _described(_update, "Change a saved view", "Send only the fields that change. A shared view made "
                                                          "personal becomes yours.",
                          body=s.obj(**FIELDS), responses={200: VIEW}), methods=["PATCH"]),
    Route(ONE, _described(_delete, "Delete a saved view", "It is gone for everyone.", errors=(400, 403, 404),
                          responses={204: None}), methods=["DELETE"]),
]
