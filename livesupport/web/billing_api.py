"""The billing API for integrations and support tools: JSON, money in cents."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.routing import Route

from livesupport.clock import iso
from livesupport.domain.billing import ORG_SORTS, CancellationOutcome, Standing
from livesupport.domain.errors import BadRequestError, LivesupportError
from livesupport.domain.numbers import parse_id
from livesupport.domain.tickets import parse_instant
from livesupport.web.api import json_body
from livesupport.web.errors import JSONResponse, json_error
from livesupport.web.openapi import operation
from livesupport.web.openapi import schemas as s
from livesupport.web.security import api_person
from livesupport.web.services import services

INVOICE = s.obj(
    ["id", "period_start", "lines", "total_cents", "paid_cents", "amount_due_cents", "status"],
    id=s.ID, period_start=s.DAY, issued_at=s.nullable(s.INSTANT),
    lines=s.array(s.obj(["kind", "cents"], kind=s.TEXT, description=s.TEXT, cents=s.CENTS,
                        service_id=s.nullable(s.ID))),
    total_cents=s.CENTS, paid_cents=s.CENTS, amount_due_cents=s.CENTS, status=s.enum(["open", "paid"]))
OUTCOME = s.obj(
    ["accepted", "reason", "months_billed", "billed_cents", "refund_cents", "explanation"],
    accepted=s.BOOL, reason=s.nullable(s.TEXT), end_of_service=s.nullable(s.DAY), months_billed=s.array(s.DAY),
    billed_cents=s.CENTS, refund_cents=s.CENTS, explanation=s.TEXT, notice_ends=s.nullable(s.DAY),
    retry_at=s.nullable(s.INSTANT))


def outcome_view(o: CancellationOutcome) -> dict[str, Any]:
    return {
        "accepted": o.accepted, "reason": o.reason,
        "end_of_service": o.end_of_service.isoformat() if o.end_of_service else None,
        "months_billed": [m.isoformat() for m in o.months_billed], "billed_cents": o.billed_cents,
        "refund_cents": o.refund_cents, "explanation": o.explanation,
        "notice_ends": o.notice_ends.isoformat() if o.notice_ends else None,
        "retry_at": iso(o.retry_at),
    }


STANDING = s.enum([v.value for v in Standing])
ORG_ROW = s.obj(["id", "name", "standing", "owed_cents"], id=s.ID, name=s.TEXT, standing=STANDING,
                owed_cents=s.CENTS)


@operation(summary="List organisations", tag="Billing", errors=(400,),
           description="The client organisations whose billing this account may see, each with its standing "
                       "(`good`, `late`: an invoice is unpaid after the 1st, `suspended`) and what it owes. "
                       "Worst first by default: suspended, then late, then good, the most owed first within each.",
           query=[s.query("sort", s.enum(list(ORG_SORTS)), "`standing` (worst first, the default), `owed` (the "
                                                           "most owed first) or `name`.")],
           responses={200: s.obj(["orgs"], orgs=s.array(ORG_ROW))})
async def list_orgs(request: Request) -> JSONResponse:
    try:
        person = await api_person(request)
        sort = request.query_params.get("sort", "standing")
        return JSONResponse({"orgs": await services(request).billing.orgs(person, sort)})
    except LivesupportError as exc:
        return json_error(exc)


@operation(
    summary="An organisation's billing", tag="Billing", errors=(403, 404),
    description="Standing, what is owed, the next deadline and the services (the invoices have their own route).",
    responses={200: s.obj(["org", "standing", "owed_cents", "next_deadline", "services"], org=s.ORG,
                          standing=s.TEXT, owed_cents=s.CENTS,
                          next_deadline=s.nullable(s.obj(kind=s.TEXT, at=s.INSTANT, cents=s.CENTS, message=s.TEXT)),
                          services=s.array(s.obj(["id", "name", "monthly_cents", "status"], id=s.ID, name=s.TEXT,
                                                 monthly_cents=s.CENTS, status=s.TEXT)))})
async def org_summary(request: Request) -> JSONResponse:
    try:
        person = await api_person(request)
        summary = await services(request).billing.summary(person, request.path_params["org_id"])
    except LivesupportError as exc:
        return json_error(exc)
    return JSONResponse({k: v for k, v in summary.items() if k != "invoices"})


@operation(summary="An organisation's invoices", tag="Billing", errors=(403, 404),
           description="Newest first.", responses={200: s.obj(["invoices"], invoices=s.array(INVOICE))})
async def org_invoices(request: Request) -> JSONResponse:
    try:
        person = await api_person(request)
        summary = await services(request).billing.summary(person, request.path_params["org_id"])
    except LivesupportError as exc:
        return json_error(exc)
    return JSONResponse({"invoices": summary["invoices"]})


@operation(summary="Record a payment", tag="Billing", errors=(403, 404, 409),
           description="Billing staff: a payment of whole cents, at most what the invoice still owes.",
           body=s.obj(["amount_cents"], amount_cents={**s.CENTS, "minimum": 1}), responses={201: INVOICE})
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


@operation(
    summary="Preview a cancellation", tag="Billing", errors=(400, 403, 404),
    description="What cancelling a service at an instant would bill and refund; nothing changes.",
    query=[s.query("service", s.ID, "The service's id.", required=True),
           s.query("at", s.INSTANT, "When to cancel (default: now)."),
           s.query("waive", s.enum(["1", "true", "0", "false"]), "Billing staff: waive the notice period.")],
    responses={200: OUTCOME})
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


@operation(
    summary="Cancel a service", tag="Billing", errors=(403, 404),
    description="201 with the outcome when accepted; 409 with the same shape, saying why, when the policy refuses "
                "it, or 409 with an error body (code conflict) when the service is already cancelled.",
    body=s.obj(waive_notice=s.BOOL), body_required=False,
    responses={201: OUTCOME, 409: {"anyOf": [OUTCOME, s.error(409)]}})
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
