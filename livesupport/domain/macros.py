"""Canned replies ("macros"): who may keep which, and their placeholders. Pure: text in, text out.

A macro's body may hold only the placeholders below, written `{{ client.name }}`. It is checked when saved
(a syntax error, an unknown name or any other template construct is refused, naming it) and filled in a
Jinja2 sandbox that is given plain strings and numbers and can reach nothing else.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from jinja2 import StrictUndefined, TemplateSyntaxError, nodes
from jinja2.exceptions import SecurityError, UndefinedError
from jinja2.sandbox import SandboxedEnvironment

from livesupport.domain.bulk import choice
from livesupport.domain.errors import BadRequestError, ForbiddenError, TooLargeError
from livesupport.domain.huddle import may_pin
from livesupport.domain.numbers import parse_int
from livesupport.domain.people import Person
from livesupport.domain.tickets import MAX_BODY, Status

MAX_TITLE = 100
MAX_MINUTES = 7 * 24 * 60  # the next update at most a week ahead
MAX_MACROS = 500  # per person, shared ones counted apart
#: The placeholders, each name with the fields it has.
PLACEHOLDERS: dict[str, tuple[str, ...]] = {"client": ("name",), "ticket": ("id", "subject"), "agent": ("name",)}
SHOWN = ", ".join(f"{{{{ {name}.{field} }}}}" for name, fields in PLACEHOLDERS.items() for field in fields)


class _Placeholders(SandboxedEnvironment):
    """Reaches the fields of the plain mappings it is given, and nothing else: no attribute, no method."""

    def getattr(self, obj: Any, attribute: str) -> Any:
        if isinstance(obj, Mapping) and attribute in obj:
            return obj[attribute]
        return self.undefined(obj=obj, name=attribute)

    def getitem(self, obj: Any, argument: Any) -> Any:
        return self.getattr(obj, argument) if isinstance(argument, str) else self.undefined(obj=obj, name=argument)


_ENV = _Placeholders(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=True)


def may_share(person: Person) -> bool:
    """Shared macros are made and edited by senior (Level 3) engineers and admins; all staff read them."""
    return may_pin(person)


def require_staff(person: Person) -> None:
    if not person.is_staff:
        raise ForbiddenError("Canned replies are for support staff.")


def check_title(value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise BadRequestError("Give the canned reply a title (what you will type to find it).")
    value = " ".join(value.split())
    if len(value) > MAX_TITLE:
        raise TooLargeError(f"The title is {len(value)} characters; the limit is {MAX_TITLE}.")
    return value


def _placeholder(node: nodes.Node) -> str:
    """`{{ client.name }}` -> "client.name"; anything else is refused, naming it."""
    if isinstance(node, nodes.Getattr) and isinstance(node.node, nodes.Name):
        name, field = node.node.name, node.attr
        if name in PLACEHOLDERS and field in PLACEHOLDERS[name]:
            return f"{name}.{field}"
        raise BadRequestError(f"{{{{ {name}.{field} }}}} is not a placeholder; use {SHOWN}.")
    if isinstance(node, nodes.Name):
        if node.name in PLACEHOLDERS:
            raise BadRequestError(f"Write {{{{ {node.name}.{PLACEHOLDERS[node.name][0]} }}}}, not "
                                  f"{{{{ {node.name} }}}}; the placeholders are {SHOWN}.")
        raise BadRequestError(f"Unknown name {node.name[:40]!r} in the reply; the placeholders are {SHOWN}.")
    raise BadRequestError(f"Only the placeholders {SHOWN} can be used in a reply, not "
                          f"{type(node).__name__.lower()} expressions.")


def check_body(value: object) -> str:
    """The body as saved: text with placeholders only (no tags, filters, calls or other names)."""
    if not isinstance(value, str) or not value.strip():
        raise BadRequestError("The canned reply is empty: write the text to insert.")
    if len(value) > MAX_BODY:
        raise TooLargeError(f"The reply is {len(value):,} characters; the limit is {MAX_BODY:,}.")
    try:
        tree = _ENV.parse(value)
    except TemplateSyntaxError as exc:
        raise BadRequestError(f"The placeholders do not read (line {exc.lineno}): {exc.message}. "
                              f"Write them like {{{{ client.name }}}}.") from None
    for part in tree.body:
        if not isinstance(part, nodes.Output):
            raise BadRequestError(f"Only the placeholders {SHOWN} can be used in a reply; "
                                  f"a {type(part).__name__.lower()} tag cannot.")
        for item in part.nodes:
            if not isinstance(item, nodes.TemplateData):
                _placeholder(item)
    return value


def check_status(value: object) -> Status | None:
    return choice(Status, None if value == "" else value, "status")


def check_minutes(value: object) -> int | None:
    if value is None or value == "":
        return None
    minutes = parse_int(value, 1, MAX_MINUTES)
    if minutes is None:
        raise BadRequestError(f"next_update_minutes must be a whole number of minutes from 1 to {MAX_MINUTES} "
                              "(a week), or null.")
    return minutes


def render(body: str, *, client_name: str, ticket_id: int, ticket_subject: str, agent_name: str) -> str:
    """The reply with its placeholders filled in: only these plain values are given to the sandbox."""
    values = {"client": {"name": client_name}, "ticket": {"id": ticket_id, "subject": ticket_subject},
              "agent": {"name": agent_name}}
    try:
        return _ENV.from_string(body).render(values)
    except (TemplateSyntaxError, UndefinedError, SecurityError) as exc:  # saved before the rules: say so plainly
        raise BadRequestError(f"This canned reply cannot be filled in ({exc}); edit it.") from None
