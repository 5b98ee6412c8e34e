"""Search rules: the user's query language, what of an event is searchable and by whom, and snippet markup.

The query language is PostgreSQL's `websearch_to_tsquery` one: words (all must match), "quoted phrases",
`OR` between two terms, `-word` or `-"phrase"` to exclude. It is parsed here once, so both databases read the
same query: PostgreSQL gets it back in a canonical websearch form, SQLite as an FTS5 MATCH expression in which
every word is a quoted string (nothing the user types can be FTS5 syntax: no NEAR, `*`, `^` or column filter).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from livesupport.domain.errors import BadRequestError
from livesupport.domain.people import Person, Role

MAX_QUERY = 200  # characters of a query
#: Characters of public text, and of internal text, kept searchable per ticket (the newest; the subject always).
#: It bounds the work of indexing one more message and keeps PostgreSQL's tsvector far below its 1 MB limit.
MAX_INDEXED = 60_000
#: When the kept text would outgrow MAX_INDEXED, PostgreSQL cuts it to its newest TRIMMED_TO characters and makes
#: the ticket's vectors again from that: once per 15,000 characters of new text, not on every message of a long
#: ticket (remaking both vectors from 60,000 characters took a message's commit about 10 ms).
TRIMMED_TO = 45_000
#: Around matched words in snippets before escaping (private-use characters nobody types).
OPEN, CLOSE = "\ue000", "\ue001"
#: The start of every scope token (`document_scope`): a private-use character, which SQLite's tokenizer keeps in a
#: word and `parse` never does, so no typed word is a scope token (a staff query need not leave the column out).
SCOPE_MARK = "\ue002"

_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#x27;"})
_WORD = re.compile(r"[^\W_]+")
_TOKEN = re.compile(r'(-?)"([^"]*)"?|(\S+)')


class BadQueryError(BadRequestError):
    code = "bad_query"


@dataclass(frozen=True, slots=True)
class Query:
    """`groups`: all must match, each by one of its phrases; then none of `excluded` may."""

    groups: tuple[tuple[tuple[str, ...], ...], ...]
    excluded: tuple[tuple[str, ...], ...]


def check_query(value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise BadQueryError("Type something to search for (q).")
    if len(value) > MAX_QUERY:
        raise BadQueryError(f"The search is {len(value)} characters; the limit is {MAX_QUERY}.")
    return value


def parse(text: str) -> Query:
    """Read a websearch-style query; refuse one with nothing to look for (only exclusions, or no words)."""
    text = check_query(text)
    groups: list[list[tuple[str, ...]]] = []
    excluded: list[tuple[str, ...]] = []
    pending_or = False
    for match in _TOKEN.finditer(text):
        minus, quoted, bare = match.groups()
        if bare is not None and bare.lower() == "or":
            pending_or = bool(groups)
            continue
        if bare is not None and bare.startswith("-"):
            minus, bare = "-", bare[1:]
        words = tuple(w.lower() for w in _WORD.findall(quoted if quoted is not None else bare))
        if not words:
            continue
        if minus:
            excluded.append(words)
            pending_or = False
        elif pending_or:
            groups[-1].append(words)
            pending_or = False
        else:
            groups.append([words])
    if not groups:
        raise BadQueryError("Give at least one word to look for (a search cannot be only -exclusions).")
    return Query(tuple(tuple(dict.fromkeys(g)) for g in groups), tuple(dict.fromkeys(excluded)))


def _quoted(words: tuple[str, ...]) -> str:
    return '"' + " ".join(words) + '"'


def websearch(query: Query) -> tuple[list[str], list[str]]:
    """The query for PostgreSQL: each group, and each exclusion, in canonical websearch form. PostgreSQL joins
    them itself (tsquery &&, !!): one websearch string would not do, since `websearch_to_tsquery('a b OR c')`
    reads (a AND b) OR c where this language means a AND (b OR c)."""
    return ([" OR ".join(_quoted(p) for p in group) for group in query.groups],
            [_quoted(p) for p in query.excluded])


def fts5(query: Query, columns: tuple[str, ...] | None = None, scope: tuple[str, ...] | None = None) -> str:
    """The query as an SQLite FTS5 MATCH expression, limited to `columns` when given, and to the documents
    holding one of the `scope` tokens (`scope_tokens`) in their `scope` column when given."""
    def group(phrases: tuple[tuple[str, ...], ...]) -> str:
        inner = " OR ".join(_quoted(p) for p in phrases)
        return f"({inner})" if len(phrases) > 1 else inner

    expr = " AND ".join(group(g) for g in query.groups)
    if query.excluded:
        expr = f"({expr})" + "".join(f" NOT {_quoted(p)}" for p in query.excluded)
    if columns:
        expr = "{" + " ".join(columns) + "} : (" + expr + ")"
    if scope:
        expr = "scope : (" + " OR ".join(_quoted((t,)) for t in scope) + ") AND " + expr
    return expr


def document_scope(org_id: int, partner_id: int | None) -> str:
    """The `scope` column of a ticket's SQLite search document: who may see the ticket, as index tokens (its
    organisation's `o<id>`, and its organisation's partner's `p<id>`, each after SCOPE_MARK). store/search.py
    writes the same in SQL (`scope_sql`)."""
    own = f"{SCOPE_MARK}o{org_id}"
    return own if partner_id is None else f"{own} {SCOPE_MARK}p{partner_id}"


def scope_tokens(person: Person) -> tuple[str, ...] | None:
    """The scope tokens of the tickets this person may see, as store/tickets.py `visible_to` says (staff: None,
    every ticket; a partner: its own organisation's and its clients'; anyone else: their organisation's; without
    an organisation: none). A search reads only those documents' part of the index; it only narrows: the
    statement keeps its own visibility condition."""
    if person.is_staff:
        return None
    if person.org_id is None:
        return ()
    if person.role is Role.PARTNER:
        return (f"{SCOPE_MARK}o{person.org_id}", f"{SCOPE_MARK}p{person.org_id}")
    return (f"{SCOPE_MARK}o{person.org_id}",)


@dataclass(frozen=True, slots=True)
class EventText:
    """What an event adds to its ticket's searchable text: `public` anyone on the ticket may find it by,
    `internal` only staff."""

    public: str = ""
    internal: str = ""


def event_text(kind: str, visibility: str, data: Mapping[str, Any]) -> EventText:
    """Chat bodies by their visibility; a task's title as its event is seen; a task's note and a huddle invitation's
    message are staff-only details (clients get the event without them). A pin repeats an indexed note."""
    public: list[str] = []
    internal: list[str] = []
    shown = public if visibility == "public" else internal
    if kind == "chat":
        shown.append(str(data.get("body") or ""))
    elif kind == "task":
        task = data.get("task") or {}
        shown.append(str(task.get("title") or ""))
        internal.append(str(task.get("note") or ""))
    elif kind == "member":
        internal.append(str(data.get("message") or ""))
    return EventText(searchable("\n".join(t for t in public if t)), searchable("\n".join(t for t in internal if t)))


def joined(texts: list[EventText]) -> EventText:
    return EventText("".join("\n" + t.public for t in texts if t.public),
                     "".join("\n" + t.internal for t in texts if t.internal))


def searchable(text: str) -> str:
    """Text as it is indexed: without the snippet markers, so stored text can never forge a highlight."""
    return text.replace(OPEN, "").replace(CLOSE, "")


def marked_html(text: str) -> str:
    """A snippet with its matched words between OPEN and CLOSE, as HTML: <mark> around those, the rest escaped."""
    out = " ".join(text.split()).translate(_ESCAPES)
    return out.replace(OPEN, "<mark>").replace(CLOSE, "</mark>")
