"""The webhooks API: a domain administrator's endpoints for their organisation, an admin's for the desk."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from livesupport.actions.webhooks import Webhooks
from livesupport.domain.errors import LivesupportError
from livesupport.domain.people import Person
from livesupport.web.api import json_body
from livesupport.web.errors import JSONResponse, json_error
from livesupport.web.security import api_person
from livesupport.web.services import services

Act = Callable[[Webhooks, Person, Request], Awaitable[Any]]


def _handler(act: Act, status: int = 200) -> Callable[[Request], Awaitable[Response]]:
    """A route: the bearer's person, then `act`; its answer as JSON (None: 204), a refusal as json_error."""
    async def handle(request: Request) -> Response:
        try:
            person = await api_person(request)
            result = await act(services(request).webhooks, person, request)
        except LivesupportError as exc:
            return json_error(exc)
        return Response(status_code=204) if result is None else JSONResponse(result, status_code=status)
    return handle


async def _list(hooks: Webhooks, person: Person, request: Request) -> Any:
    return {"endpoints": await hooks.list(person)}


async def _create(hooks: Webhooks, person: Person, request: Request) -> Any:
    body = await json_body(request)
    return await hooks.create(person, body.get("url"), body.get("events"), body.get("description"),
                              body.get("internal", False))


def _id(request: Request) -> Any:
    return request.path_params["endpoint_id"]


async def _log(hooks: Webhooks, person: Person, request: Request) -> Any:
    return await hooks.log(person, _id(request))


async def _delete(hooks: Webhooks, person: Person, request: Request) -> Any:
    await hooks.delete(person, _id(request))


async def _rotate(hooks: Webhooks, person: Person, request: Request) -> Any:
    return await hooks.rotate(person, _id(request))


async def _enable(hooks: Webhooks, person: Person, request: Request) -> Any:
    return await hooks.set_enabled(person, _id(request), True)


async def _disable(hooks: Webhooks, person: Person, request: Request) -> Any:
    return await hooks.set_enabled(person, _id(request), False)


async def _test(hooks: Webhooks, person: Person, request: Request) -> Any:
    return await hooks.send_test(person, _id(request))


ONE = "/api/webhooks/{endpoint_id:id}"
routes = [
    Route("/api/webhooks", _handler(_list), methods=["GET"]),
    Route("/api/webhooks", _handler(_create, 201), methods=["POST"]),
    Route(ONE, _handler(_log), methods=["GET"]),
    Route(ONE, _handler(_delete), methods=["DELETE"]),
    Route(ONE + "/rotate", _handler(_rotate), methods=["POST"]),
    Route(ONE + "/enable", _handler(_enable), methods=["POST"]),
    Route(ONE + "/disable", _handler(_disable), methods=["POST"]),
    Route(ONE + "/test", _handler(_test), methods=["POST"]),
]
