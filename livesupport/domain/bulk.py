"""A bulk change of tickets: what was asked, checked whole before any ticket is touched. Pure."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any, TypeVar

from livesupport.domain.errors import BadRequestError
from livesupport.domain.numbers import parse_id
from livesupport.domain.tickets import Priority, Status

MAX_TICKETS = 100
MAX_PEOPLE = 20
E = TypeVar("E", bound=StrEnum)
FIELDS = frozenset({"ids", "status", "priority", "assign", "unassign"})


@dataclass(frozen=True, slots=True)
class BulkChange:
    """The tickets, and what changes on each (None or empty: that part is left alone)."""

    ids: list[int]
    status: Status | None
    priority: Priority | None
    assign: list[int]
    unassign: list[int]


def _ids(value: object, field: str, most: int, *, at_least_one: bool) -> list[int]:
    if value is None and not at_least_one:
        return []
    if not isinstance(value, list):
        raise BadRequestError(f"{field} must be a list of ids.")
    if at_least_one and not value:
        raise BadRequestError(f"{field} is empty: choose at least one ticket.")
    if len(value) > most:
        raise BadRequestError(f"{field} has {len(value)} ids; at most {most} can be changed at once.")
    out: list[int] = []
    for i, raw in enumerate(value):
        found = parse_id(raw)
        if found is None:
            raise BadRequestError(f"{field}[{i}] is not an id: an id is a whole number written with 0-9.")
        out.append(found)
    twice = sorted({x for x in out if out.count(x) > 1})
    if twice:
        raise BadRequestError(f"{field} names {twice[0]} more than once; give each id once.")
    return out


def choice(kind: type[E], value: object, what: str) -> E | None:
    """The member of `kind` named by `value` (None for None), or a refusal listing the choices."""
    if value is None:
        return None
    try:
        return kind(value)  # type: ignore[arg-type]
    except ValueError:
        allowed = ", ".join(k.value for k in kind)
        raise BadRequestError(f"Unknown {what} {str(value)[:40]!r}; use one of: {allowed}.") from None


def parse(body: dict[str, Any]) -> BulkChange:
    unknown = sorted(set(body) - FIELDS)
    if unknown:
        raise BadRequestError(f"Unknown field {unknown[0][:40]!r}; a bulk change takes {', '.join(sorted(FIELDS))}.")
    ids = _ids(body.get("ids"), "ids", MAX_TICKETS, at_least_one=True)
    status = choice(Status, body.get("status"), "status")
    priority = choice(Priority, body.get("priority"), "priority")
    assign = _ids(body.get("assign"), "assign", MAX_PEOPLE, at_least_one=False)
    unassign = _ids(body.get("unassign"), "unassign", MAX_PEOPLE, at_least_one=False)
    both = sorted(set(assign) & set(unassign))
    if both:
        raise BadRequestError(f"Engineer {both[0]} is both in assign and in unassign; choose one.")
    if status is None and priority is None and not assign and not unassign:
        raise BadRequestError("Nothing to change: give a status, a priority, assign or unassign.")
    return BulkChange(ids, status, priority, assign, unassign)


def assignees_after(before: list[int], assign: list[int], unassign: list[int]) -> list[int]:
    """The assignees once `assign` are added and `unassign` removed, in the order they were given."""
    gone = set(unassign)
    return [u for u in dict.fromkeys([*before, *assign]) if u not in gone]
