"""Transfer of service: the survey's questions and their checks, the milestones and their deadlines. Pure.

A transfer runs through milestones, each owned by one party (or by staff) and due a number of business
days after it starts. The requester confirms first: nothing reaches the other parties before that.
Then the current partner answers (signs the waiver, or objects) and the new provider accepts, side by
side; then staff move the services and billing, and complete the transfer. A partner or provider who
lets the deadline pass is escalated to staff and the transfer goes on without them.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any

from livesupport.domain.numbers import parse_id, parse_int


class Reason(StrEnum):
    PARTNER_GONE = "partner_gone"
    BOUGHT_OR_SOLD = "bought_or_sold"
    OWN_IT = "own_it"
    NEW_PROVIDER = "new_provider"
    OTHER = "other"


REASONS = {
    Reason.PARTNER_GONE: "Our IT partner is gone (closed, unreachable, or no longer serving us)",
    Reason.BOUGHT_OR_SOLD: "Our company was bought or sold",
    Reason.OWN_IT: "We now have our own IT staff",
    Reason.NEW_PROVIDER: "We are moving to a new IT provider",
    Reason.OTHER: "Something else",
}


class Party(StrEnum):
    REQUESTER = "requester"
    CURRENT_PARTNER = "current_partner"
    NEW_PROVIDER = "new_provider"
    STAFF = "staff"


PARTY_NAMES = {
    Party.REQUESTER: "the client", Party.CURRENT_PARTNER: "the current partner",
    Party.NEW_PROVIDER: "the new provider", Party.STAFF: "our staff",
}


class Kind(StrEnum):
    CONFIRM = "confirm"
    PARTNER = "partner"
    PROVIDER = "provider"
    MOVE = "move"
    COMPLETE = "complete"


@dataclass(frozen=True, slots=True)
class Step:
    kind: Kind
    owner: Party
    label: str


MILESTONES = (
    Step(Kind.CONFIRM, Party.REQUESTER, "The client confirms the request"),
    Step(Kind.PARTNER, Party.CURRENT_PARTNER, "The current partner answers"),
    Step(Kind.PROVIDER, Party.NEW_PROVIDER, "The new provider accepts"),
    Step(Kind.MOVE, Party.STAFF, "Our staff move the services and billing"),
    Step(Kind.COMPLETE, Party.STAFF, "Transfer completed"),
)
STEP = {m.kind: m for m in MILESTONES}
ANSWERS = (Kind.PARTNER, Kind.PROVIDER)  # run side by side once the requester confirmed

DEFAULT_DAYS = "confirm=2,partner=5,provider=5,move=3,complete=2"

OUTCOMES = {
    "confirmed": "Confirmed", "signed": "Waiver signed", "objected": "Objected", "accepted": "Accepted",
    "declined": "Declined", "no_answer": "No answer by the deadline", "moved": "Moved", "completed": "Completed",
    "cancelled": "Cancelled",
}


def parse_days(spec: str) -> dict[Kind, int]:
    """`confirm=2,partner=5,...`: business days each milestone has, every one named, 1 to 60."""
    days: dict[Kind, int] = {}
    for part in filter(None, (p.strip() for p in spec.split(","))):
        name, sep, value = part.partition("=")
        try:
            kind = Kind(name.strip())
        except ValueError:
            raise ValueError(f"TRANSFER_DAYS: unknown milestone {name.strip()!r} "
                             f"(they are {', '.join(k.value for k in Kind)})") from None
        count = parse_int(value.strip(), 1, 60)
        if not sep or count is None:
            raise ValueError(f"TRANSFER_DAYS: write milestone=business days (1 to 60), e.g. partner=5, not {part!r}")
        days[kind] = count
    missing = [k.value for k in Kind if k not in days]
    if missing:
        raise ValueError(f"TRANSFER_DAYS: no number of days for {', '.join(missing)}")
    return days


# -- what happens next ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Milestone:
    """What the rules need to know of a stored milestone."""

    kind: Kind
    state: str  # pending | active | done | cancelled
    due_at: datetime | None = None
    reminded: bool = False
    escalated: bool = False


def plan(with_provider: bool) -> list[Step]:
    return [m for m in MILESTONES if with_provider or m.kind is not Kind.PROVIDER]


def to_start(milestones: Sequence[Milestone]) -> list[Kind]:
    """The pending milestones whose turn has come, given what is done."""
    done = {m.kind for m in milestones if m.state == "done"}
    pending = {m.kind for m in milestones if m.state == "pending"}
    ready: list[Kind] = []
    if Kind.CONFIRM in done:
        ready += [k for k in ANSWERS if k in pending]
        answers_open = any(m.kind in ANSWERS and m.state != "done" for m in milestones)
        if not answers_open and Kind.MOVE in pending:
            ready.append(Kind.MOVE)
    if Kind.MOVE in done and Kind.COMPLETE in pending:
        ready.append(Kind.COMPLETE)
    return ready


def reminder_due(m: Milestone, started_at: datetime, now: datetime, lead: timedelta) -> bool:
    """Once per milestone, `lead` before its deadline (or half-way there, for a short one)."""
    if m.state != "active" or m.due_at is None or m.reminded or now >= m.due_at:
        return False
    return now >= m.due_at - min(lead, (m.due_at - started_at) / 2)


def is_overdue(m: Milestone, now: datetime) -> bool:
    return m.state == "active" and m.due_at is not None and now >= m.due_at


def goes_on_without(kind: Kind) -> bool:
    """A partner or provider who lets the deadline pass is not waited for; the requester and staff are."""
    return kind in ANSWERS


# -- the waiver -------------------------------------------------------------------------------


def waiver_text(transfer_id: int, client: str, partner: str, services: Sequence[str], company: str) -> str:
    """What the current partner reads and signs; its SHA-256 is kept with the signature."""
    listed = "; ".join(services) or "all services"
    return (
        f"Waiver of transfer {transfer_id}\n\n"
        f"I act for {partner}, the IT partner through which {client} receives these services from {company}: "
        f"{listed}.\n\n"
        f"1. I agree that {client} moves these services away from {partner}.\n"
        f"2. From the moment I sign, {company}'s staff handle everything about {client} and these services: "
        f"configuration, credentials, support and billing. {partner} is no longer asked to do any of it.\n"
        f"3. {partner} keeps no right to act on {client}'s services, and will hand over nothing more unless "
        f"{company} asks for it.\n"
        f"4. Invoices already issued to {partner} are not changed by this waiver.\n\n"
        "I confirm I am entitled to sign for the partner. Typing my full name below and ticking the box is my "
        "signature."
    )


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


# -- the survey -------------------------------------------------------------------------------

EMAIL = re.compile(r"^[^@\s<>\"',;]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")
PHONE = re.compile(r"^\+?[0-9 ().\-]{6,40}$")
SURVEY_STEPS = ("You", "Why", "Current partner", "New provider", "Services", "Date", "Review")
LAST_STEP = len(SURVEY_STEPS)
MAX_AHEAD = 366  # days: a desired date further out is a typo more often than a plan


@dataclass(frozen=True, slots=True)
class SurveyContext:
    today: date  # in the company's time zone
    partners: Mapping[int, str]  # the partners on record, by organisation id
    services: Sequence[str]  # the requesting organisation's services, when it is known


Answers = dict[str, Any]
Errors = dict[str, str]


def _text(form: Mapping[str, Any], name: str) -> str:
    value = form.get(name, "")
    return value.strip() if isinstance(value, str) else ""


def _required(out: Answers, errors: Errors, form: Mapping[str, Any], name: str, label: str, limit: int) -> None:
    value = out[name] = _text(form, name)
    if not value:
        errors[name] = f"Enter {label}."
    elif len(value) > limit:
        errors[name] = f"{label[0].upper()}{label[1:]} is too long: at most {limit} characters (this is {len(value)})."


def _email(out: Answers, errors: Errors, form: Mapping[str, Any], name: str, label: str) -> None:
    _required(out, errors, form, name, label, 320)
    if name not in errors:
        out[name] = out[name].lower()
        if not EMAIL.match(out[name]):
            errors[name] = f"{out[name]!r} is not an e-mail address: it looks like name@company.com."


def _phone(out: Answers, errors: Errors, form: Mapping[str, Any], name: str) -> None:
    value = out[name] = _text(form, name)
    if value and not PHONE.match(value):
        errors[name] = "A phone number has digits, and may have spaces, dashes, brackets and a leading +."


def check_step(step: int, form: Mapping[str, Any], ctx: SurveyContext, earlier: Answers) -> tuple[Answers, Errors]:
    """The answers of one step, cleaned, and what is wrong with them (field -> sentence)."""
    out: Answers = {}
    errors: Errors = {}
    if step == 1:
        _required(out, errors, form, "org_name", "your organisation's name", 200)
        _required(out, errors, form, "contact_name", "your full name", 200)
        _email(out, errors, form, "contact_email", "your e-mail address")
        _phone(out, errors, form, "contact_phone")
    elif step == 2:
        reason = out["reason"] = _text(form, "reason")
        if reason not in REASONS:
            errors["reason"] = "Choose why you are moving your services."
        detail = out["reason_detail"] = _text(form, "reason_detail")
        if reason == Reason.OTHER and not detail:
            errors["reason_detail"] = "Tell us in a few words why you are moving your services."
        elif len(detail) > 1000:
            errors["reason_detail"] = f"At most 1000 characters, please (this is {len(detail)})."
    elif step == 3:
        picked = _text(form, "partner_org_id")
        out["partner_org_id"] = None
        if picked:
            partner_id = parse_id(picked)
            if partner_id is None or partner_id not in ctx.partners:
                errors["partner_org_id"] = "Choose your partner from the list, or type its name below."
            else:
                out["partner_org_id"] = partner_id
        if out["partner_org_id"] is not None:
            out["partner_name"] = ctx.partners[out["partner_org_id"]]
        else:  # the partner is one of the parties: named from the list or typed, never left out
            _required(out, errors, form, "partner_name", "your current partner's name", 200)
            if ctx.partners and not out["partner_name"] and "partner_org_id" not in errors:
                errors["partner_name"] = "Choose your partner from the list, or type its name here."
        _required(out, errors, form, "partner_contact", "the name of your contact there", 200)
        _email(out, errors, form, "partner_email", "your contact's e-mail address")
        _phone(out, errors, form, "partner_phone")
        if "partner_email" not in errors and out["partner_email"] == earlier.get("contact_email"):
            errors["partner_email"] = ("This is your own address. We write to the partner separately, so give "
                                       "your contact at the partner.")
    elif step == 4:
        destination = out["destination"] = _text(form, "destination")
        if destination not in ("partner", "vendor"):
            errors["destination"] = "Choose where your services go: to another partner, or directly to us."
        if destination == "partner":
            _required(out, errors, form, "provider_name", "the new provider's name", 200)
            _required(out, errors, form, "provider_contact", "the name of your contact there", 200)
            _email(out, errors, form, "provider_email", "your contact's e-mail address")
            _phone(out, errors, form, "provider_phone")
            if "provider_email" not in errors and out["provider_email"] == earlier.get("partner_email"):
                errors["provider_email"] = "This is the current partner's address; give the new provider's."
        else:
            out.update(provider_name="", provider_contact="", provider_email="", provider_phone="")
    elif step == 5:
        chosen = form.get("services", [])
        chosen = [chosen] if isinstance(chosen, str) else list(chosen)
        known = [s for s in ctx.services if s in chosen]
        if len(known) != len(chosen):
            errors["services"] = "Choose among your services as listed."
        out["services"] = known
        other = out["services_other"] = _text(form, "services_other")
        if len(other) > 500:
            errors["services_other"] = f"At most 500 characters, please (this is {len(other)})."
        elif not known and not other and "services" not in errors:
            errors["services"] = ("Tick the services to move." if ctx.services
                                  else "Name the services to move, e.g. hosted e-mail, spam filtering.")
    elif step == 6:
        raw = out["desired_date"] = _text(form, "desired_date")
        try:
            wanted = date.fromisoformat(raw) if raw else None
        except ValueError:
            wanted = None
            errors["desired_date"] = "Enter a date like 2027-01-15."
        if wanted is None and "desired_date" not in errors:
            errors["desired_date"] = "Enter the date you would like the transfer done by."
        elif wanted is not None and wanted < ctx.today:
            errors["desired_date"] = f"{wanted:%A %-d %B %Y} has passed; choose today or a later date."
        elif wanted is not None and wanted > ctx.today + timedelta(days=MAX_AHEAD):
            errors["desired_date"] = "Choose a date within the next year."
    return out, errors


def first_incomplete(answers: Answers, ctx: SurveyContext) -> tuple[int, Errors] | None:
    """The first step whose answers no longer pass (at submission, everything is checked again)."""
    for step in range(1, LAST_STEP):
        form = {**answers}
        if step == 3 and answers.get("partner_org_id") is not None:
            form["partner_org_id"] = str(answers["partner_org_id"])
        _, errors = check_step(step, form, ctx, answers)
        if errors:
            return step, errors
    return None


def services_of(answers: Answers) -> list[str]:
    return [*answers.get("services", []), *([answers["services_other"]] if answers.get("services_other") else [])]
