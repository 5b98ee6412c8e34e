"""Ticket rules: statuses, priorities, visibility and who may do what."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Literal

from livesupport.domain.errors import BadRequestError, ForbiddenError, TooLargeError
from livesupport.domain.people import Person


class Status(StrEnum):
    NEW = "new"
    TRIAGE = "triage"
    IN_PROGRESS = "in_progress"
    WAITING_ON_CLIENT = "waiting_on_client"
    RESOLVED = "resolved"
    CLOSED = "closed"


class Priority(StrEnum):
    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    URGENT = "urgent"


Visibility = Literal["public", "internal"]
VISIBILITIES: frozenset[str] = frozenset({"public", "internal"})
OPEN_STATUSES = frozenset({Status.NEW, Status.TRIAGE, Status.IN_PROGRESS, Status.WAITING_ON_CLIENT})

MAX_BODY = 10_000
MAX_SUBJECT = 200


def may_see(person: Person, visibility: str) -> bool:
    """Internal notes are for staff only: never live, never on replay, never over HTTP."""
    return visibility == "public" or person.is_staff


def check_body(body: object) -> str:
    if not isinstance(body, str):
        raise BadRequestError("The message must be text.")
    if not body.strip():
        raise BadRequestError("The message is empty.")
    if len(body) > MAX_BODY:
        raise TooLargeError(f"The message is {len(body):,} characters; the limit is {MAX_BODY:,}.")
    return body


def check_subject(subject: object) -> str:
    if not isinstance(subject, str) or not subject.strip():
        raise BadRequestError("Give the ticket a subject.")
    subject = subject.strip()
    if len(subject) > MAX_SUBJECT:
        raise TooLargeError(f"The subject is {len(subject)} characters; the limit is {MAX_SUBJECT}.")
    return subject


def check_visibility(person: Person, visibility: object, what: str = "internal notes") -> Visibility:
    if visibility is None:
        return "public"
    if visibility not in VISIBILITIES:
        raise BadRequestError("visibility must be 'public' or 'internal'.")
    if visibility == "internal" and not person.is_staff:
        raise ForbiddenError(f"Only support staff can write {what}.")
    return visibility  # type: ignore[return-value]


def check_status(person: Person, status: object) -> Status:
    if not person.is_staff:
        raise ForbiddenError("Only support staff can change a ticket's status.")
    try:
        return Status(status)  # type: ignore[arg-type]
    except ValueError:
        allowed = ", ".join(s.value for s in Status)
        raise BadRequestError(f"Unknown status {status!r}; use one of: {allowed}.") from None


def check_priority(priority: object) -> Priority:
    if priority is None:
        return Priority.NORMAL
    try:
        return Priority(priority)  # type: ignore[arg-type]
    except ValueError:
        allowed = ", ".join(p.value for p in Priority)
        raise BadRequestError(f"Unknown priority {priority!r}; use one of: {allowed}.") from None


def parse_instant(value: object, field: str) -> datetime | None:
    """An ISO-8601 instant with its offset; a wall time without one is ambiguous and refused."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise BadRequestError(f"{field} must be an ISO-8601 time with an offset, or null.")
    try:
        at = datetime.fromisoformat(value)
    except ValueError:
        raise BadRequestError(f"{field} is not an ISO-8601 time: {value[:40]!r}.") from None
    if at.tzinfo is None:
        raise BadRequestError(f"{field} needs a UTC offset (for example 2026-11-27T14:30:00+00:00).")
    return at


def check_activity(person: Person, state: object) -> Literal["viewing", "working"]:
    if state not in ("viewing", "working"):
        raise BadRequestError("state must be 'viewing' or 'working'.")
    if state == "working" and not person.is_staff:
        raise ForbiddenError("Only support staff can mark themselves as working on a ticket.")
    return state  # type: ignore[return-value]
