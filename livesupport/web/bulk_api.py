"""POST /api/tickets/bulk: one change to many tickets, each refused or applied on its own."""

from __future__ import annotations

from starlette.requests import Request
from starlette.routing import Route

from livesupport.actions.bulk import Bulk
from livesupport.domain.bulk import MAX_PEOPLE, MAX_TICKETS
from livesupport.domain.errors import LivesupportError
from livesupport.web.api import json_body
from livesupport.web.errors import JSONResponse, json_error
from livesupport.web.openapi import operation
from livesupport.web.openapi import schemas as s
from livesupport.web.security import api_person
from livesupport.web.services import services

PEOPLE = {**s.array(s.ID), "maxItems": MAX_PEOPLE, "uniqueItems": True}
REFUSAL = s.obj(["id", "error"], id=s.ID, error=s.obj(["code", "message"], code=s.TEXT, message=s.TEXT))


@operation(
    summary="Change many tickets at once", tag="Staff", errors=(400, 403, 413),
    description="Staff only. Each ticket changes on its own, in one transaction, by the same rules as a single "
                "change: its own events (live to whoever has it open as soon as it is committed), the SLA clock and "
                "webhooks as usual. A ticket is changed whole or not at all; one that cannot be changed is listed in "
                "`refused` with why, and the others are changed all the same. The priority is set first, then the "
                "status, then the engineers.",
    body=s.obj(["ids"],
               ids={**s.array(s.ID), "minItems": 1, "maxItems": MAX_TICKETS, "uniqueItems": True,
                    "description": f"The tickets, 1 to {MAX_TICKETS}, each once."},
               status=s.STATUS_NAME, priority=s.PRIORITY,
               assign={**PEOPLE, "description": "Engineers to add; the ticket's other engineers stay."},
               unassign={**PEOPLE, "description": "Engineers to take off the ticket."}),
    responses={200: s.obj(["updated", "refused"], updated=s.array(s.ID), refused=s.array(REFUSAL))})
async def bulk_change(request: Request) -> JSONResponse:
    svc = services(request)
    try:
        person = await api_person(request)
        body = await json_body(request)
        result = await Bulk(svc.tickets, svc.huddle).change(person, body)
    except LivesupportError as exc:
        return json_error(exc)
    return JSONResponse(result)


routes = [Route("/api/tickets/bulk", bulk_change, methods=["POST"])]
