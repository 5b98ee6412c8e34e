"""The billing API for integrations and support tools: JSON, money in cents."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.routing import Route

from livesupport.clock import iso
from livesupport.domain.billing import CancellationOutcome
from livesupport.domain.errors import BadRequestError, LivesupportError
from livesupport.domain.numbers import parse_id
from livesupport.domain.tickets import parse_instant
from livesupport.web.api import json_body
from livesupport.web.errors import JSONResponse, json_error
from livesupport.web.security import api_person
from livesupport.web.services import services


def outcome_view(o: CancellationOutcome) -> dict[str, Any]:
    return {
        "accepted": o.accepted, "reason": o.reason,
        "end_of_service": o.end_of_service.isoformat() if o.end_of_service else None,
        "months_billed": [m.isoformat() for m in o.months_billed], "billed_cents": o.billed_cents,
        "refund_cents": o.refund_cents, "explanation": o.explanation,
        "notice_ends": o.notice_ends.isoformat() if o.notice_ends else None,
        "retry_at": iso(o.retry_at),
    }


async def list_orgs(request: Request) -> JSONResponse:
    try:
        person = await api_person(request)
        return JSONResponse({"orgs": await services(request).billing.orgs(person)})
    except LivesupportError as exc:
        return json_error(exc)


async def org_summary(request: Request) -> JSONResponse:
    try:
        person = await api_person(request)
        summary = await services(request).billing.summary(person, request.path_params["org_id"])
    except LivesupportError as exc:
        return json_error(exc)
    return JSONResponse({k: v for k, v in summary.items() if k != "invoices"})


async def org_invoices(request: Request) -> JSONResponse:
    try:
        person = await api_person(request)
        summary = await services(request).billing.summary(person, request.path_params["org_id"])
    except LivesupportError as exc:
        return json_error(exc)
    return JSONResponse({"invoices": summary["invoices"]})


async def add_payment(request: Request) -> JSONResponse:
    try:
        person = await api_person(request)
        body = await json_body(request)
        invoice = await services(request).billing.record_payment(person, request.path_params["invoice_id"],
                                                                  body.get("amount_cents"))
    except LivesupportError as exc:
        return json_error(exc)
    return JSONResponse(invoice, status_code=201)


def _service_id(raw: str | None) -> int:
    service_id = parse_id(raw)
    if service_id is None:
        raise BadRequestError("Say which service: ?service=<id>.")
    return service_id


async def cancellation_preview(request: Request) -> JSONResponse:
    try:
        person = await api_person(request)
        q = request.query_params
        at = parse_instant(q.get("at"), "at")
        _, outcome = await services(request).billing.preview(person, _service_id(q.get("service")), at,
                                                             q.get("waive") in ("1", "true"))
    except LivesupportError as exc:
        return json_error(exc)
    return JSONResponse(outcome_view(outcome))


async def cancel_service(request: Request) -> JSONResponse:
    try:
        person = await api_person(request)
        body = await json_body(request) if await request.body() else {}
        waive = body.get("waive_notice", False)
        if not isinstance(waive, bool):
            raise BadRequestError("waive_notice is true or false.")
        outcome = await services(request).billing.cancel(person, request.path_params["service_id"], waive)
    except LivesupportError as exc:
        return json_error(exc)
    return JSONResponse(outcome_view(outcome), status_code=201 if outcome.accepted else 409)


routes = [
    Route("/api/orgs", list_orgs, methods=["GET"]),
    Route("/api/orgs/{org_id:id}", org_summary, methods=["GET"]),
    Route("/api/orgs/{org_id:id}/invoices", org_invoices, methods=["GET"]),
    Route("/api/invoices/{invoice_id:id}/payments", add_payment, methods=["POST"]),
    Route("/api/billing/cancellation-preview", cancellation_preview, methods=["GET"]),
    Route("/api/services/{service_id:id}/cancellation", cancel_service, methods=["POST"]),
]
