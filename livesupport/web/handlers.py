"""One shape for the small JSON APIs of a use case (canned replies, saved views): sign in, act, answer."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from starlette.requests import Request
from starlette.responses import Response

from livesupport.domain.errors import LivesupportError
from livesupport.domain.people import Person
from livesupport.web.errors import JSONResponse, json_error
from livesupport.web.security import api_person

T = TypeVar("T")


def json_handler(
    make: Callable[[Request], T], act: Callable[[T, Person, Request], Awaitable[Any]], status: int = 200
) -> Callable[[Request], Awaitable[Response]]:
    """A route that signs the caller in (bearer token or session), runs `act` on the use case `make` gives, and
    answers its result as JSON (None: 204), or the refusal with its code."""
    async def handle(request: Request) -> Response:
        try:
            person = await api_person(request)
            result = await act(make(request), person, request)
        except LivesupportError as exc:
            return json_error(exc)
        return Response(status_code=204) if result is None else JSONResponse(result, status_code=status)
    return handle
