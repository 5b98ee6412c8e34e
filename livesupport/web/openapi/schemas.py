"""JSON Schema pieces the API's descriptions share: ids, instants, people, tickets, the error body."""

from __future__ import annotations

from typing import Any

from livesupport.domain.ids import MAX_ID
from livesupport.domain.tickets import Priority, Status
from livesupport.web.errors import STATUS

Schema = dict[str, Any]

ID: Schema = {"type": "integer", "minimum": 1, "maximum": MAX_ID}
SEQ: Schema = {"type": "integer", "minimum": 0, "maximum": MAX_ID}
TEXT: Schema = {"type": "string"}
BOOL: Schema = {"type": "boolean"}
INT: Schema = {"type": "integer"}
CENTS: Schema = {"type": "integer", "description": "An amount in cents (2500 is $25.00)."}
INSTANT: Schema = {"type": "string", "format": "date-time", "description": "ISO-8601 with its UTC offset."}
DAY: Schema = {"type": "string", "format": "date"}
EMAIL: Schema = {"type": "string", "maxLength": 320, "description": "An e-mail address."}


def nullable(schema: Schema) -> Schema:
    """`schema`, or null."""
    return {"anyOf": [schema, {"type": "null"}]}


def obj(required: list[str] | None = None, **properties: Schema) -> Schema:
    """An object with these properties (others may appear: clients ignore what they do not know)."""
    out: Schema = {"type": "object", "properties": properties}
    if required:
        out["required"] = required
    return out


def array(items: Schema) -> Schema:
    return {"type": "array", "items": items}


def enum(values: Any) -> Schema:
    return {"type": "string", "enum": [str(v) for v in values]}


def query(name: str, schema: Schema, description: str, required: bool = False) -> Schema:
    """A query parameter."""
    return {"name": name, "in": "query", "required": required, "schema": schema, "description": description}


STATUS_NAME = enum(Status)
PRIORITY = enum(Priority)
PERSON = obj(["id", "name", "role"], id=ID, name=TEXT, role=TEXT,
             tier={"type": "integer", "description": "Staff only: the support level, 1 to 3."})
ORG = obj(["id", "name"], id=ID, name=TEXT)
TICKET = obj(
    ["id", "subject", "status", "priority", "next_update_at", "assignees", "org", "created_at", "updated_at"],
    id=ID, subject=TEXT, status=STATUS_NAME, priority=PRIORITY, next_update_at=nullable(INSTANT),
    next_update_source=TEXT, assignees=array(PERSON), org=ORG, created_at=INSTANT, updated_at=INSTANT,
)
TICKET_ROW = {"allOf": [TICKET, obj(["overdue", "unreviewed"], org_name=TEXT, overdue=BOOL, unreviewed=BOOL)]}
TICKET_STATE = {"allOf": [TICKET, obj(["tasks", "members", "overdue"], tasks=array(obj()), progress=obj(),
                                      members=array(obj()), overdue=BOOL,
                                      pinned={"description": "Staff only: the pinned message, if any."})]}
EVENT = obj(["type", "topic", "seq", "kind", "at", "actor", "data"],
            type={"const": "event"}, topic=TEXT, seq=SEQ, kind=TEXT, at=INSTANT,
            actor=nullable(obj()), data=obj())
FOLLOWING = obj(["following", "reason"], following=BOOL,
                reason=nullable({**TEXT, "description": "Why: e.g. follow, added, opened, assigned."}))


def error(status: int) -> Schema:
    """The error body of a refusal with this HTTP status: the codes are those web/errors.py maps to it."""
    codes = sorted(code for code, s in STATUS.items() if s == status) or ["bad_request"]
    return obj(["error"], error=obj(["code", "message"], code=enum(codes),
                                   message={**TEXT, "description": "A sentence a person understands."}))


#: What each status means, for the document and the page.
ERROR_WORDS = {
    400: "The request is malformed: a missing or ill-typed field, invalid JSON, a bad parameter.",
    401: "Not authenticated: no credentials, wrong ones, an expired token, or a missing one-time code.",
    403: "Not allowed for this account, or a cookie-authenticated write without its X-CSRF-Token.",
    404: "No such thing.",
    409: "Conflicts with the current state.",
    413: "The body (or a field of it) is over its limit.",
    415: "A file of a kind the desk refuses (programs, scripts, macro documents).",
    429: "Too many attempts: wait the Retry-After header's seconds.",
    503: "A write truly failed (or the database is unavailable); try again (Retry-After says when).",
}
