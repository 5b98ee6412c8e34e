"""`@operation`: what a handler takes and answers, kept on the handler itself."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

Auth = Literal["user", "app"] | None
Schema = dict[str, Any]
F = TypeVar("F", bound=Callable[..., Any])

ATTRIBUTE = "__openapi__"
#: Every handler that was described, to find descriptions no route reaches.
DESCRIBED: list[Callable[..., Any]] = []


@dataclass(frozen=True)
class Operation:
    summary: str
    tag: str
    description: str = ""
    auth: Auth = "user"
    query: tuple[Schema, ...] = ()
    body: Schema | None = None
    body_required: bool = True
    body_type: str = "application/json"
    responses: dict[int, Schema | None] = field(default_factory=dict)
    response_type: str = "application/json"
    errors: tuple[int, ...] = ()


def operation(*, summary: str, tag: str, method: str | None = None, description: str | None = None,
              auth: Auth = "user", query: list[Schema] | None = None, body: Schema | None = None,
              body_required: bool = True, body_type: str = "application/json",
              responses: dict[int, Schema | None] | None = None, response_type: str = "application/json",
              errors: tuple[int, ...] = ()) -> Callable[[F], F]:
    """Describe a handler (for every method its route takes, or for `method` only). A response schema of None
    is an answer without a body (204)."""

    def describe(handler: F) -> F:
        ops: dict[str | None, Operation] = getattr(handler, ATTRIBUTE, {})
        ops[method] = Operation(
            summary=summary, tag=tag, description=description if description is not None else (handler.__doc__ or ""),
            auth=auth, query=tuple(query or ()), body=body, body_required=body_required, body_type=body_type,
            responses=dict(responses or {200: {"type": "object"}}), response_type=response_type,
            errors=tuple(errors))
        setattr(handler, ATTRIBUTE, ops)
        if handler not in DESCRIBED:
            DESCRIBED.append(handler)
        return handler

    return describe


def described(handler: Callable[..., Any], method: str) -> Operation | None:
    """The description of `handler` for `method`, if it has one."""
    ops: dict[str | None, Operation] = getattr(handler, ATTRIBUTE, {})
    return ops.get(method, ops.get(None))
