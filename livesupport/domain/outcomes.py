"""How tickets end: a client marks one solved or reopens it, the worker closes what stayed solved and chases
what waits on the client, and the client rates the help. Pure: every instant is passed in."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Literal

from livesupport.domain.errors import BadRequestError, ConflictError, ForbiddenError, TooLargeError
from livesupport.domain.people import Person, Role
from livesupport.domain.tickets import Status

RATING_DAYS = 7  # a rating can be given or changed this long after the ticket was resolved
MAX_COMMENT = 2_000
SCORES = ("good", "bad")
Score = Literal["good", "bad"]
CLIENT_ROLES = frozenset({Role.CLIENT, Role.DOMAIN_ADMIN})
ENDED = frozenset({Status.RESOLVED, Status.CLOSED})


@dataclass(frozen=True, slots=True)
class Policy:
    """The settings REOPEN_DAYS, AUTO_CLOSE_DAYS, WAITING_REMINDER_DAYS and WAITING_RESOLVE_DAYS."""

    reopen_days: int = 14
    auto_close_days: int = 7
    waiting_reminder_days: int = 3
    waiting_resolve_days: int = 7

    def __post_init__(self) -> None:
        if self.waiting_reminder_days >= self.waiting_resolve_days:
            raise ValueError("WAITING_REMINDER_DAYS must be fewer than WAITING_RESOLVE_DAYS: the reminder comes "
                             "before the ticket is resolved")


def is_ticket_client(person: Person, ticket_org_id: int) -> bool:
    """A contact of the ticket's own organisation (a partner, staff or another organisation's contact is not)."""
    return person.role in CLIENT_ROLES and person.org_id == ticket_org_id


def check_client_status(person: Person, status: object) -> Status:
    """A client of the ticket may only mark it solved; every other status is staff's."""
    if status != Status.RESOLVED.value:
        if isinstance(status, str) and status in {s.value for s in Status}:
            raise ForbiddenError("You can mark your ticket solved; other statuses are set by the support team.")
        raise BadRequestError("status must be 'resolved' (mark the ticket solved).")
    return Status.RESOLVED


def follow_up_offer(ticket_id: int) -> dict[str, Any]:
    """What a refused reopen offers instead: a new ticket that follows this one."""
    return {"method": "POST", "url": "/api/tickets", "body": {"follows_up": ticket_id},
            "page": f"/tickets/new?follows_up={ticket_id}"}


class ReopenClosedError(ConflictError):
    """Too late to reopen: the answer carries the offer of a follow-up ticket."""

    def __init__(self, message: str, ticket_id: int) -> None:
        super().__init__(message)
        self.details = {"follow_up": follow_up_offer(ticket_id)}


def reopen_until(resolved_at: datetime | None, policy: Policy) -> datetime | None:
    return None if resolved_at is None else resolved_at + timedelta(days=policy.reopen_days)


def check_reopen(ticket_id: int, status: str, resolved_at: datetime | None, now: datetime, policy: Policy) -> None:
    """A resolved ticket reopens within REOPEN_DAYS of its resolving; a closed one, or later, never does."""
    if status == Status.CLOSED.value:
        raise ReopenClosedError("This ticket is closed and cannot be reopened. Open a follow-up ticket instead: "
                                "it links back to this one.", ticket_id)
    if status != Status.RESOLVED.value:
        raise ConflictError("This ticket is still open: there is nothing to reopen. Write a message instead.")
    until = reopen_until(resolved_at, policy)
    if until is not None and now > until:
        raise ReopenClosedError(f"A solved ticket can be reopened for {policy.reopen_days} days; that time has "
                                "passed. Open a follow-up ticket instead: it links back to this one.", ticket_id)


def may_reopen(status: str, resolved_at: datetime | None, now: datetime, policy: Policy) -> bool:
    until = reopen_until(resolved_at, policy)
    return status == Status.RESOLVED.value and (until is None or now <= until)


def rating_until(resolved_at: datetime | None) -> datetime | None:
    return None if resolved_at is None else resolved_at + timedelta(days=RATING_DAYS)


def check_rating_window(status: str, resolved_at: datetime | None, now: datetime) -> None:
    if status not in ENDED or resolved_at is None:
        raise ConflictError("You can rate this ticket once it is resolved.")
    until = rating_until(resolved_at)
    if until is not None and now > until:
        raise ConflictError(f"A rating can be given or changed for {RATING_DAYS} days after the ticket was "
                            "resolved; that time has passed.")


def may_rate(status: str, resolved_at: datetime | None, now: datetime) -> bool:
    until = rating_until(resolved_at)
    return status in ENDED and until is not None and now <= until


def check_score(score: object) -> Score:
    if score not in SCORES:
        raise BadRequestError("score must be 'good' or 'bad'.")
    return score  # type: ignore[return-value]


def check_comment(comment: object) -> str:
    if comment is None:
        return ""
    if not isinstance(comment, str):
        raise BadRequestError("comment must be text.")
    comment = comment.strip()
    if len(comment) > MAX_COMMENT:
        raise TooLargeError(f"The comment is {len(comment):,} characters; the limit is {MAX_COMMENT:,}.")
    return comment


# -- the worker's rules ---------------------------------------------------------------------------------------

class Due(StrEnum):
    CLOSE = "close"  # resolved for AUTO_CLOSE_DAYS
    REMIND = "remind"  # waiting on the client for WAITING_REMINDER_DAYS
    RESOLVE = "resolve"  # waiting on the client for WAITING_RESOLVE_DAYS


@dataclass(frozen=True, slots=True)
class Waiting:
    """What the worker knows of a resolved or waiting ticket."""

    ticket_id: int
    status: str
    since: datetime  # when its current status was set
    client_wrote: bool  # the client wrote after that: the ball is back with staff
    reminded: bool  # the reminder for this wait went already


def due(t: Waiting, now: datetime, policy: Policy) -> Due | None:
    """What is due for this ticket at `now`, if anything."""
    waited = now - t.since
    if t.status == Status.RESOLVED.value:
        return Due.CLOSE if waited >= timedelta(days=policy.auto_close_days) else None
    if t.status != Status.WAITING_ON_CLIENT.value or t.client_wrote:
        return None
    if waited >= timedelta(days=policy.waiting_resolve_days):
        return Due.RESOLVE
    if waited >= timedelta(days=policy.waiting_reminder_days) and not t.reminded:
        return Due.REMIND
    return None


def earliest_wait(policy: Policy) -> timedelta:
    """No ticket whose status is younger than this has anything due."""
    return timedelta(days=min(policy.auto_close_days, policy.waiting_reminder_days))
