"""Rules of the huddle: who may split a ticket into tasks, assign, invite and pin guidance."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from livesupport.domain.errors import BadRequestError, ForbiddenError, TooLargeError
from livesupport.domain.ids import is_id
from livesupport.domain.people import Person, Role
from livesupport.domain.tickets import parse_instant

MAX_TITLE = 200
MAX_NOTE = 2000
MAX_MESSAGE = 500
MAX_ASSIGNEES = 20


class TaskState(StrEnum):
    TODO = "todo"
    DOING = "doing"
    DONE = "done"


def may_plan(person: Person) -> bool:
    """Level 2 and 3 engineers and admins split tickets into tasks."""
    return person.role is Role.ADMIN or (person.role is Role.STAFF and (person.tier or 0) >= 2)


def may_pin(person: Person) -> bool:
    """Senior engineers (Level 3) and admins pin guidance."""
    return person.role is Role.ADMIN or (person.role is Role.STAFF and (person.tier or 0) >= 3)


def require_mover(person: Person) -> None:
    if not may_pin(person):
        raise ForbiddenError("Only senior (Level 3) engineers and admins can move a ticket to another organisation.")


def require_staff(person: Person, what: str) -> None:
    if not person.is_staff:
        raise ForbiddenError(f"Only support staff can {what}.")


def require_planner(person: Person) -> None:
    if not may_plan(person):
        raise ForbiddenError("Only Level 2 and 3 engineers can split a ticket into tasks.")


def require_pinner(person: Person) -> None:
    if not may_pin(person):
        raise ForbiddenError("Only senior (Level 3) engineers can pin guidance.")


def whole_number(value: object, field: str) -> int:
    if not is_id(value) or value == 0:
        raise BadRequestError(f"{field} must be a positive whole number (an id or a seq).")
    return value  # type: ignore[return-value]


def optional_id(value: object, field: str) -> int | None:
    return None if value is None else whole_number(value, field)


def check_title(value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise BadRequestError("Give the task a title.")
    value = value.strip()
    if len(value) > MAX_TITLE:
        raise TooLargeError(f"The task title is {len(value)} characters; the limit is {MAX_TITLE}.")
    return value


def check_task_state(value: object) -> TaskState:
    try:
        return TaskState(value)  # type: ignore[arg-type]
    except ValueError:
        raise BadRequestError("A task's state is 'todo', 'doing' or 'done'.") from None


def check_text(value: object, field: str, limit: int) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise BadRequestError(f"{field} must be text.")
    value = value.strip()
    if len(value) > limit:
        raise TooLargeError(f"The {field} is {len(value):,} characters; the limit is {limit:,}.")
    return value or None


def check_due(value: object) -> datetime | None:
    return parse_instant(value, "due_at")


def task_changes(frame: dict[str, Any], creating: bool) -> dict[str, Any]:
    """The fields a `task` frame sets, checked; only those present in the frame (all of them when creating)."""
    changes: dict[str, Any] = {}
    if creating or "title" in frame:
        changes["title"] = check_title(frame.get("title"))
    if "state" in frame or creating:
        changes["state"] = check_task_state(frame.get("state", "todo")).value
    if "assignee_id" in frame:
        changes["assignee_id"] = optional_id(frame["assignee_id"], "assignee_id")
    if "due_at" in frame:
        changes["due_at"] = check_due(frame["due_at"])
    if "note" in frame:
        changes["note"] = check_text(frame["note"], "note", MAX_NOTE)
    if not creating and not changes:
        raise BadRequestError("Say what changes: title, state, assignee_id, due_at or note.")
    return changes


STAFF_ONLY_TASK_FIELDS = frozenset({"note"})


def task_event_visibility(changes: dict[str, Any], creating: bool) -> str:
    """A change clients cannot see (only a task's staff note) is an internal event: it reaches staff only, and
    moves nothing clients see (their event stream, the ticket's updated_at, their list rows)."""
    return "internal" if not creating and set(changes) <= STAFF_ONLY_TASK_FIELDS else "public"


def check_assignees(value: object) -> list[int]:
    if not isinstance(value, list):
        raise BadRequestError("assignees must be a list of user ids (it may be empty).")
    if len(value) > MAX_ASSIGNEES:
        raise TooLargeError(f"At most {MAX_ASSIGNEES} assignees.")
    ids = [whole_number(v, "Each assignee") for v in value]
    return list(dict.fromkeys(ids))


def progress(states: list[str]) -> dict[str, int]:
    return {"done": sum(1 for s in states if s == TaskState.DONE), "total": len(states)}
