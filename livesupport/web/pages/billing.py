"""Billing pages: the policy in plain words, an organisation's invoices and payments, and cancelling a service."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from typing import Any

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from livesupport.actions.billing import may_bill
from livesupport.domain import billing as rules
from livesupport.domain import dates
from livesupport.domain.errors import (
    BadRequestError,
    ForbiddenError,
    LivesupportError,
    NotFoundError,
)
from livesupport.domain.numbers import parse_id
from livesupport.domain.people import Person, Role
from livesupport.domain.tickets import parse_instant
from livesupport.web.errors import STATUS
from livesupport.web.pages import login_first, not_found, render
from livesupport.web.pages.auth import EXPIRED_FORM
from livesupport.web.pages.forms import SignedInExpired, signed_in_form
from livesupport.web.security import person_from_session
from livesupport.web.services import services

STANDING = {
    "good": "In good standing",
    "late": "Payment overdue",
    "suspended": "Services suspended",
}
# "25", "25.5", "25.00", "$1,234.56": dollars, then at most two digits of cents. ASCII digits only.
AMOUNT = re.compile(r"\$?(?P<dollars>[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?:\.(?P<cents>[0-9]{1,2}))?", re.ASCII)
AMOUNT_HELP = "Type the amount in dollars and cents, like 25.00."


def parse_amount(typed: str) -> int:
    """What a person typed ("25.00", "$1,250", "7.5") as integer cents; anything else is refused."""
    text = typed.strip()
    if not text:
        raise BadRequestError(f"Type the amount received. {AMOUNT_HELP}")
    if text.startswith("-"):
        raise BadRequestError("A payment is an amount received, more than $0.00.")
    if re.fullmatch(r"\$?[0-9]+,[0-9]{2}", text, re.ASCII):
        raise BadRequestError(f"Put a point before the cents: {text.replace(',', '.')}, not {text}.")
    found = AMOUNT.fullmatch(text)
    if found is None:
        raise BadRequestError(f"“{text[:40]}” is not an amount. {AMOUNT_HELP}")
    cents = int(found["dollars"].replace(",", "")) * 100 + int((found["cents"] or "0").ljust(2, "0"))
    if cents == 0:
        raise BadRequestError("A payment is more than $0.00.")
    return cents


# -- words for days and instants -----------------------------------------------------------


day_words = dates.day
month_words = dates.month


def moment_words(policy: rules.Policy, instant: datetime, seconds: bool = False) -> str:
    """Dec 5, 2026, 12:01 AM EST: as the company's clock shows it."""
    return dates.moment(instant, policy.tz, seconds=seconds)


def _next_first(day: date) -> date:
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1)


# -- the policy, with examples worked out by the rules themselves ----------------------------


def policy_examples(policy: rules.Policy, now: datetime) -> dict[str, Any]:
    """Every rule's example for the coming 1st, so the words always match the settings (zone, N, holidays)."""
    tz = policy.tz
    today = now.astimezone(tz).date()
    first = _next_first(today)  # the next invoice day
    this_month = today.replace(day=1)
    price = 2500

    def at(day: date, hour: int, minute: int, second: int = 0) -> datetime:
        return datetime.combine(day, time(hour, minute, second), tz)

    signup = this_month.replace(day=10)
    late = rules.late_fee_due_at(policy, first)
    suspension = rules.suspension_due_at(policy, first)
    window = rules.business_days_before_first(policy, first)
    before_window = window[0] - timedelta(days=1)
    while not rules.is_business_day(policy, before_window):
        before_window -= timedelta(days=1)
    last_day = first - timedelta(days=1)
    lock_from, lock_until = rules.cancellation_lock(policy, last_day)
    started = signup.replace(year=signup.year - 1)  # a service that has run for a year

    def cancel(when: datetime, waive: bool) -> rules.CancellationOutcome:
        return rules.cancellation(policy, when, started, waive, price)

    return {
        "zone": tz.key,
        "zone_now": now.astimezone(tz).tzname(),
        "n": policy.last_business_days,
        "holidays": [day_words(d, weekday=True) for d in sorted(policy.holidays) if d >= today][:12],
        "price": rules.money(price),
        "late_fee": rules.money(policy.late_fee_cents),
        "reconnection_fee": rules.money(policy.reconnection_fee_cents),
        "all_owed": rules.money(price + policy.late_fee_cents + policy.reconnection_fee_cents),
        "first": day_words(first),
        "first_month": month_words(first),
        "signup": day_words(signup),
        "signup_first": day_words(rules.first_invoice_period(at(signup, 9, 0), policy)),
        "late_at": moment_words(policy, late),
        "just_before_late": moment_words(policy, late - timedelta(seconds=1), seconds=True),
        "suspension_at": moment_words(policy, suspension),
        "paid_before_suspension": moment_words(policy, suspension - timedelta(minutes=2)),
        "notice": cancel(at(this_month.replace(day=10), 10, 0), False).explanation,
        "notice_day": day_words(this_month.replace(day=10)),
        "window": [day_words(d, weekday=True, year=False) for d in window],
        "window_first": day_words(window[0], weekday=True),
        "in_window": cancel(at(window[0], 10, 0), True).explanation,
        "before_window_day": day_words(before_window, weekday=True),
        "before_window": cancel(at(before_window, 10, 0), True).explanation,
        "lock_from": moment_words(policy, lock_from),
        "lock_until": moment_words(policy, lock_until),
        "lock_open": moment_words(policy, lock_from - timedelta(minutes=1)),
        "locked": cancel(lock_from, True).explanation,
    }


async def policy_page(request: Request) -> Response:
    person = await person_from_session(request)
    svc = services(request)
    examples = policy_examples(svc.billing.policy, svc.clock.now())
    return render(request, "billing.html", person, title="How billing works", ex=examples)


# -- organisations ----------------------------------------------------------------------------


async def orgs_page(request: Request) -> Response:
    person, redirect = await login_first(request)
    if person is None:
        return redirect  # type: ignore[return-value]
    if not (person.is_staff or may_bill(person)):
        if person.role is Role.DOMAIN_ADMIN and person.org_id is not None:
            return RedirectResponse(f"/billing/org/{person.org_id}", status_code=303)
        return not_found(request, person)
    sort = request.query_params.get("sort", "standing")
    if sort not in rules.ORG_SORTS:
        sort = "standing"  # an unknown order in a link: the default, not an error page
    orgs = [{**o, "owed": rules.money(o["owed_cents"]), "standing_words": STANDING[o["standing"]]}
            for o in await services(request).billing.orgs(person, sort)]
    return render(request, "billing_orgs.html", person, title="Billing: organisations", orgs=orgs, sort=sort)


def may_cancel(person: Person, org_id: int) -> bool:
    """Who sees a "Cancel" link (the use case decides for itself)."""
    return person.is_staff or may_bill(person) or (person.role is Role.DOMAIN_ADMIN and person.org_id == org_id)


def may_waive(person: Person) -> bool:
    return person.is_staff or may_bill(person)


def _org_view(summary: dict[str, Any], policy: rules.Policy) -> dict[str, Any]:
    """The summary with what the page says in words: months, money, days in the company's zone."""
    def local_day(iso: str) -> str:
        return day_words(datetime.fromisoformat(iso.replace("Z", "+00:00")).astimezone(policy.tz).date())

    services_ = [{**sv, "price": rules.money(sv["monthly_cents"]), "started": local_day(sv["started_at"]),
                  "ends": day_words(date.fromisoformat(sv["ends_on"])) if sv["ends_on"] else None}
                 for sv in summary["services"]]
    invoices = [{**inv, "month": month_words(date.fromisoformat(inv["period_start"])),
                 "lines": [{**ln, "is_fee": ln["kind"] in ("late_fee", "reconnection_fee")} for ln in inv["lines"]]}
                for inv in summary["invoices"]]
    return {**summary, "services": services_, "invoices": invoices,
            "standing_words": STANDING.get(summary["standing"], summary["standing"])}


async def _org(request: Request, person: Person, org_id: int, status: int = 200, **extra: Any) -> Response:
    svc = services(request)
    try:
        summary = await svc.billing.summary(person, org_id)
    except (ForbiddenError, NotFoundError):
        return not_found(request, person)
    view = _org_view(summary, svc.billing.policy)
    if person.org_id == summary["org"]["id"]:
        extra.setdefault("org_name", summary["org"]["name"])
    # What the last payment did, said once (kept in the signed session: a link cannot make it up).
    saved = request.session.pop("billing_saved", None) if request.method == "GET" else None
    context: dict[str, Any] = {
        "title": f"{summary['org']['name']}: billing", "s": view, "money": rules.money,
        "saved": saved["text"] if isinstance(saved, dict) and saved.get("org") == org_id else None,
        "may_bill": may_bill(person), "may_cancel": may_cancel(person, summary["org"]["id"]),
        "pay_error": None, "pay_invoice": None, "pay_amount": "",
        "service_error": None, "service_name": "", "service_price": "",
    }
    context.update(extra)
    if context["pay_invoice"] not in [i["id"] for i in view["invoices"] if i["status"] == "open"]:
        context["pay_invoice"] = None  # no form to show the refusal beside: it goes at the top
    return render(request, "billing_org.html", person, status, **context)


async def org_page(request: Request) -> Response:
    person, redirect = await login_first(request)
    if person is None:
        return redirect  # type: ignore[return-value]
    return await _org(request, person, request.path_params["org_id"])


async def _billing_form(request: Request, error: str, typed: Callable[[FormData], dict[str, Any]]
                        ) -> tuple[Person, dict[str, Any]] | Response:
    """The opening of a billing form on an organisation's page: (person, what was typed), or the answer.
    An expired form comes back on the page under `error` with what was typed; then only billing staff go on."""
    org_id = request.path_params["org_id"]
    opened = await signed_in_form(request, lambda person, form: _org(request, person, org_id, 403,
                                                                     **{error: EXPIRED_FORM}, **typed(form)))
    if isinstance(opened, Response):
        return opened
    person, form = opened
    if not may_bill(person):
        return not_found(request, person)
    return person, typed(form)


def _payment_typed(form: FormData) -> dict[str, Any]:
    """What the payment form keeps when it comes back: the invoice chosen and the amount typed."""
    return {"pay_invoice": parse_id(form.get("invoice")), "pay_amount": str(form.get("amount", ""))[:100]}


async def record_payment(request: Request) -> Response:
    opened = await _billing_form(request, "pay_error", _payment_typed)
    if isinstance(opened, Response):
        return opened
    person, kept = opened
    org_id, typed, invoice_id = request.path_params["org_id"], kept["pay_amount"], kept["pay_invoice"]
    svc = services(request)
    try:
        summary = await svc.billing.summary(person, org_id)
    except (ForbiddenError, NotFoundError):
        return not_found(request, person)
    if invoice_id is None or all(inv["id"] != invoice_id for inv in summary["invoices"]):
        return await _org(request, person, org_id, 400, pay_error="Choose one of this organisation's invoices.",
                          **kept)
    try:
        cents = parse_amount(typed)
        invoice = await svc.billing.record_payment(person, invoice_id, cents)
    except LivesupportError as exc:
        return await _org(request, person, org_id, STATUS.get(exc.code, 400), pay_error=exc.message, **kept)
    month = month_words(date.fromisoformat(invoice["period_start"]))
    text = f"{rules.money(cents)} recorded on the {month} invoice."
    if invoice["status"] == "paid":
        text += " It is paid in full."
    request.session["billing_saved"] = {"org": org_id, "text": text}
    return RedirectResponse(f"/billing/org/{org_id}#invoice-{invoice_id}", status_code=303)


def _service_typed(form: FormData) -> dict[str, Any]:
    """What the new-service form keeps when it comes back: the name and price typed."""
    return {"service_name": str(form.get("name", ""))[:300], "service_price": str(form.get("price", ""))[:100]}


async def add_service(request: Request) -> Response:
    """Billing staff add a service; it is free until the next 1st, then billed monthly."""
    opened = await _billing_form(request, "service_error", _service_typed)
    if isinstance(opened, Response):
        return opened
    person, kept = opened
    org_id = request.path_params["org_id"]
    svc = services(request)
    try:
        cents = parse_amount(kept["service_price"])
        await svc.billing.add_service_for(person, org_id, kept["service_name"], cents)
    except LivesupportError as exc:
        if exc.code in ("forbidden", "not_found"):
            return not_found(request, person)
        return await _org(request, person, org_id, STATUS.get(exc.code, 400), service_error=exc.message, **kept)
    request.session["billing_saved"] = {
        "org": org_id, "text": f"{kept['service_name'].strip()} added at {rules.money(cents)} a month: free until "
                               "the next 1st, then on each invoice."}
    return RedirectResponse(f"/billing/org/{org_id}#billing-services", status_code=303)


# -- cancellation --------------------------------------------------------------------------------


def _outcome_view(outcome: rules.CancellationOutcome, monthly_cents: int, policy: rules.Policy) -> dict[str, Any]:
    return {
        "accepted": outcome.accepted, "reason": outcome.reason, "explanation": outcome.explanation,
        "end": day_words(outcome.end_of_service) if outcome.end_of_service else None,
        "months": [(month_words(m), rules.money(monthly_cents)) for m in outcome.months_billed],
        "billed": rules.money(outcome.billed_cents), "refund": rules.money(outcome.refund_cents),
        "notice_ends": day_words(outcome.notice_ends) if outcome.notice_ends else None,
        "retry_at": moment_words(policy, outcome.retry_at) if outcome.retry_at else None,
    }


async def cancel_page(request: Request) -> Response:
    person, redirect = await login_first(request)
    if person is None:
        return redirect  # type: ignore[return-value]
    svc = services(request)
    policy = svc.billing.policy
    service_id = request.path_params["service_id"]
    q = request.query_params
    staff = may_waive(person)
    waive = staff and q.get("waive") in ("1", "true", "on")
    context: dict[str, Any] = {"title": "Cancel a service", "staff": staff, "waive": waive, "at_words": None,
                               "at": "", "done": False, "error": None, "service": None, "outcome": None}
    status = 200
    try:
        # Staff may ask what a cancellation would do at another instant ("if they call on Monday?").
        at = parse_instant(q.get("at"), "at") if staff and q.get("at") else None
        if at is not None:
            context["at_words"], context["at"] = moment_words(policy, at), q.get("at")
        service, outcome = await svc.billing.preview(person, service_id, at, waive)
    except (ForbiddenError, NotFoundError):
        return not_found(request, person)
    except LivesupportError as exc:
        context["error"] = exc.message
        status = STATUS.get(exc.code, 400)
    else:
        context["service"] = _service_view(service)
        context["outcome"] = _outcome_view(outcome, service.monthly_cents, policy)
        if not outcome.accepted:
            status = 409
    return render(request, "billing_cancel.html", person, status, **context)


def _service_view(service: Any) -> dict[str, Any]:
    return {"id": service.id, "name": service.name, "org_id": service.org_id,
            "price": rules.money(service.monthly_cents), "status": service.status}


def _cancel_context(person: Person, form: FormData) -> dict[str, Any]:
    """The cancellation page after its form was sent (waiving is for staff who ticked it)."""
    return {"title": "Cancel a service", "staff": may_waive(person), "waive": may_waive(person) and
            form.get("waive") == "1", "at_words": None, "at": "", "done": True, "error": None, "service": None,
            "outcome": None}


def _cancel_expired(request: Request) -> SignedInExpired:
    async def expired(person: Person, form: FormData) -> Response:
        context = {**_cancel_context(person, form), "done": False, "error": EXPIRED_FORM}
        return render(request, "billing_cancel.html", person, 403, **context)
    return expired


async def cancel_service(request: Request) -> Response:
    opened = await signed_in_form(request, _cancel_expired(request))
    if isinstance(opened, Response):
        return opened
    person, form = opened
    svc = services(request)
    service_id = request.path_params["service_id"]
    context = _cancel_context(person, form)
    waive = bool(context["waive"])
    try:
        service, _ = await svc.billing.preview(person, service_id, None, waive)
        outcome = await svc.billing.cancel(person, service_id, waive)
    except (ForbiddenError, NotFoundError):
        return not_found(request, person)
    except LivesupportError as exc:
        context.update(done=False, error=exc.message)
        return render(request, "billing_cancel.html", person, STATUS.get(exc.code, 400), **context)
    context["service"] = _service_view(service)
    context["outcome"] = _outcome_view(outcome, service.monthly_cents, svc.billing.policy)
    context["title"] = f"{service.name} is cancelled" if outcome.accepted else "Cancellation not accepted"
    return render(request, "billing_cancel.html", person, 200 if outcome.accepted else 409, **context)


routes = [
    Route("/billing", policy_page, methods=["GET"]),
    Route("/billing/orgs", orgs_page, methods=["GET"]),
    Route("/billing/org/{org_id:id}", org_page, methods=["GET"]),
    Route("/billing/org/{org_id:id}/payments", record_payment, methods=["POST"]),
    Route("/billing/org/{org_id:id}/services", add_service, methods=["POST"]),
    Route("/billing/services/{service_id:id}/cancel", cancel_page, methods=["GET"]),
    Route("/billing/services/{service_id:id}/cancel", cancel_service, methods=["POST"]),
]
