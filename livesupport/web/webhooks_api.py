"""The webhooks API: a domain administrator's endpoints for their organisation, an admin's for the desk."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from livesupport.actions.webhooks import Webhooks
from livesupport.domain.people import Person
from livesupport.domain.webhooks import EVENTS, MAX_DESCRIPTION, MAX_URL, PING
from livesupport.web.api import json_body
from livesupport.web.handlers import json_handler
from livesupport.web.openapi import operation
from livesupport.web.openapi import schemas as s
from livesupport.web.services import services

Act = Callable[[Webhooks, Person, Request], Awaitable[Any]]


def _handler(act: Act, status: int = 200) -> Callable[[Request], Awaitable[Response]]:
    """A route: the bearer's person, then `act`; its answer as JSON (None: 204), a refusal as json_error."""
    return json_handler(lambda request: services(request).webhooks, act, status)


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


ENDPOINT = s.obj(
    ["id", "url", "description", "events", "internal", "scope", "org_id", "created_at", "enabled", "disabled_at",
     "disabled_reason", "failures_in_row"],
    id=s.ID, url=s.TEXT, description=s.TEXT, events=s.array(s.enum(EVENTS)), internal=s.BOOL,
    scope=s.enum(["desk", "organisation"]), org_id=s.nullable(s.ID), created_at=s.INSTANT, enabled=s.BOOL,
    disabled_at=s.nullable(s.INSTANT), disabled_reason=s.nullable(s.TEXT), failures_in_row=s.INT)
WITH_SECRET = {"allOf": [ENDPOINT, s.obj(["secret"], secret={
    **s.TEXT, "description": "The signing secret: shown in this answer only, never again."})]}
DELIVERY = s.obj(
    ["id", "event", "ticket_id", "seq", "state", "attempts", "status", "error", "created_at"],
    id={**s.TEXT, "description": "whd_…: the same on every try; receivers dedupe by it."},
    event=s.enum([*EVENTS, PING]), ticket_id=s.nullable(s.ID), seq=s.nullable(s.SEQ), state=s.TEXT,
    attempts=s.INT, status=s.nullable({**s.INT, "description": "The receiver's HTTP status, on the last try."}),
    error=s.nullable(s.TEXT), response=s.nullable(s.TEXT), created_at=s.INSTANT,
    last_attempt_at=s.nullable(s.INSTANT), next_attempt_at=s.nullable(s.INSTANT), delivered_at=s.nullable(s.INSTANT))
NEW_ENDPOINT = s.obj(
    ["url", "events"],
    url={**s.TEXT, "maxLength": MAX_URL, "pattern": "^https://", "description": "https, on a public address."},
    events=s.array(s.enum(EVENTS)), description={**s.TEXT, "maxLength": MAX_DESCRIPTION},
    internal={**s.BOOL, "description": "Desk endpoints only: send internal notes too, marked internal."})
WHO = ("A domain administrator manages their organisation's endpoints (its tickets' public events); an admin "
       "manages the desk's. Anyone else is refused; another scope's endpoint is not found.")


def _described(act: Act, summary: str, words: str, status: int = 200, **more: Any) -> Callable[[Request], Any]:
    more.setdefault("errors", (403, 404))
    return operation(summary=summary, tag="Webhooks", description=f"{words} {WHO}", **more)(_handler(act, status))


ONE = "/api/webhooks/{endpoint_id:id}"
routes = [
    Route("/api/webhooks", _described(_list, "List webhook endpoints", "The endpoints in your scope.",
                                      responses={200: s.obj(["endpoints"], endpoints=s.array(ENDPOINT))}),
          methods=["GET"]),
    Route("/api/webhooks", _described(_create, "Register a webhook endpoint",
                                      "Events after this moment are sent to it, signed with the secret in the "
                                      "answer (see docs/integrations.md).", 201, body=NEW_ENDPOINT,
                                      responses={201: WITH_SECRET}), methods=["POST"]),
    Route(ONE, _described(_log, "An endpoint and its delivery log", "Its latest deliveries, newest first.",
                          responses={200: s.obj(["endpoint", "deliveries"], endpoint=ENDPOINT,
                                                deliveries=s.array(DELIVERY))}), methods=["GET"]),
    Route(ONE + "/rotate", _described(_rotate, "Rotate an endpoint's secret",
                                      "A new secret, in force at once; the old one stops signing.",
                                      responses={200: WITH_SECRET}), methods=["POST"]),
    Route(ONE + "/enable", _described(_enable, "Enable an endpoint",
                                      "Deliveries that waited are tried again at once, in order.",
                                      responses={200: ENDPOINT}), methods=["POST"]),
    Route(ONE + "/disable", _described(_disable, "Disable an endpoint", "Nothing is sent to it until enabled.",
                                       responses={200: ENDPOINT}), methods=["POST"]),
    Route(ONE + "/test", _described(_test, "Send a test event",
                                    "A signed `ping` now, enabled or not; the answer says what the receiver said. "
                                    "At most 10 per endpoint in 10 minutes.", errors=(403, 404, 429),
                                    responses={200: DELIVERY}), methods=["POST"]),
    Route(ONE, _described(_delete, "Delete an endpoint", "It and its delivery log go.", responses={204: None}),
          methods=["DELETE"]),
]
