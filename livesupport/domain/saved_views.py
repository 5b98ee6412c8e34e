"""Saved views of the ticket list: a name and the list's query string. Pure: who may keep which, and what a
stored query may hold.

A view is only a question: opening it runs its query as the person who opens it, so it can never show them
more than they may see. Its query is checked when saved, with the list's own parse_query, so a view that
opens to a refusal cannot be kept.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode

from livesupport.domain.errors import BadRequestError, ForbiddenError
from livesupport.domain.huddle import may_pin
from livesupport.domain.listing import BadParameterError, parse_query
from livesupport.domain.people import Person

MAX_NAME = 80
MAX_QUERY = 1000  # characters of query string: far more than every filter at once
MAX_VIEWS = 100  # personal views per person; shared ones counted apart
#: What a view may ask, in the order a stored query is spelt. `q` is the search words (the list reads them once
#: search joins it); `cursor` is a place in one walk, not part of a question, so a view never keeps one.
#: A view's days (updated_from / updated_to) are read on the clock of whoever opens it, as the list reads them.
PARAMETERS = ("q", "status", "priority", "assignee", "org", "overdue", "waiting_on", "updated_after",
              "updated_before", "updated_from", "updated_to", "sort", "limit")


def may_share(person: Person) -> bool:
    """Shared views are made, changed and deleted by senior (Level 3) engineers and admins; all staff see them."""
    return may_pin(person)


def require_sharer(person: Person) -> None:
    if not may_share(person):
        raise ForbiddenError("Only senior (Level 3) engineers and admins can share views with the team.")


def check_name(value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise BadRequestError("Give the view a name (what the views menu shows).")
    name = " ".join(value.split())
    if len(name) > MAX_NAME:
        raise BadRequestError(f"A view's name is at most {MAX_NAME} characters.")
    return name


def check_shared(value: object) -> bool:
    if not isinstance(value, bool):
        raise BadRequestError("shared must be true (every engineer sees it) or false (yours alone).")
    return value


def pairs_of(text: str) -> list[tuple[str, str]]:
    """A query string's name=value pairs, blank values left out (a plain GET form sends every field)."""
    return [(k, v) for k, v in parse_qsl(text.removeprefix("?"), keep_blank_values=True) if v.strip()]


def check_query(value: object) -> str:
    """The list query a view keeps, checked as the list checks it, in one canonical spelling."""
    if not isinstance(value, str):
        raise BadParameterError("query", "give the list's query string as text, e.g. "
                                         "\"status=new&assignee=none\".")
    if len(value) > MAX_QUERY:
        raise BadParameterError("query", f"it is longer than {MAX_QUERY} characters.")
    pairs = pairs_of(value)
    for name, _ in pairs:
        if name == "cursor":
            raise BadParameterError("cursor", "a view keeps filters and sort, not a place in one walk: leave "
                                              "cursor out.")
        if name not in PARAMETERS:
            raise BadParameterError(name[:40], f"a view's query takes only {', '.join(PARAMETERS)}.")
    params: dict[str, list[str]] = {}
    for name, text in pairs:
        params.setdefault(name, []).append(text)
    parse_query(params)  # refuses, naming the parameter, what the list would refuse
    return urlencode([(name, text) for name in PARAMETERS for text in params.get(name, [])])
