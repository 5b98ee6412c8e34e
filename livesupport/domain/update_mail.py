"""The words of a notification e-mail: each update as a line or two, then the whole message. Pure text.

The caller passes only events the reader may see, already as a client sees them when the reader is one
(no internal notes, no staff-only details): nothing here decides visibility.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from livesupport.domain import dates
from livesupport.domain.notifications import REASON_WORDS

MAX_BODY = 2_000  # characters of one message quoted in an e-mail; the rest is on the ticket
STATUS_WORDS = {"new": "New", "triage": "Triage", "in_progress": "In progress", "resolved": "Resolved",
                "closed": "Closed"}


@dataclass(frozen=True, slots=True)
class Update:
    """One event as the reader may see it."""

    seq: int
    kind: str
    at: datetime
    actor: dict[str, Any]
    data: dict[str, Any]
    internal: bool = False


@dataclass(frozen=True, slots=True)
class TicketUpdates:
    """What one e-mail (or one section of a digest) says about one ticket."""

    ticket_id: int
    subject: str
    url: str
    updates: Sequence[Update]
    more: int  # updates left out of the list (they are on the ticket)
    reason: str  # a key of REASON_WORDS
    unsubscribe_url: str


def status_words(status: str, staff: bool) -> str:
    if status == "waiting_on_client":
        return "Waiting on client" if staff else "Waiting on you"
    return STATUS_WORDS.get(status, status.replace("_", " ").capitalize())


def when(at: datetime, tz: ZoneInfo) -> str:
    """Nov 27, 3:00 PM EST: the product's one format (livesupport.domain.dates), without the year."""
    return dates.moment(at, tz, year=False)


def _name(person: Any) -> str:
    return str(person.get("name") or "Someone") if isinstance(person, dict) else "Someone"


def _indent(text: str) -> list[str]:
    text = text if len(text) <= MAX_BODY else text[:MAX_BODY].rstrip() + " […]"
    return ["    " + line if line else "" for line in text.splitlines()] or ["    "]


def describe(update: Update, staff: bool, tz: ZoneInfo) -> list[str]:
    """An update in words: a headline, then what was said, indented."""
    who, data, kind = _name(update.actor), update.data, update.kind
    head = f"{when(update.at, tz)}  "
    if kind == "chat":
        verb = "left an internal note" if update.internal else "wrote"
        lines = [f"{head}{who} {verb}:"]
        if str(data.get("body", "")).strip() and data.get("body") != "(attachment)":
            lines += _indent(str(data["body"]))
        names = [str(a.get("name", "")) for a in data.get("attachments") or [] if isinstance(a, dict)]
        if names:
            lines.append(f"    (attached: {', '.join(names)})")
        return lines
    if kind == "status":
        line = f"{head}{who} set the status to {status_words(str(data.get('status', '')), staff)}"
        if data.get("next_update_at"):
            line += f"; next update by {when(datetime.fromisoformat(str(data['next_update_at'])), tz)}"
        return [line + "."]
    if kind == "assignment":
        names = [_name(a) for a in data.get("assignees") or []]
        return [f"{head}{who} assigned {', '.join(names)}." if names else f"{head}{who} unassigned everyone."]
    if kind == "task":
        task = data.get("task") or {}
        title, state = task.get("title", ""), str(task.get("state", "")).replace("_", " ")
        change = "added the task" if data.get("change") == "created" else "updated the task"
        lines = [f"{head}{who} {change} \u201c{title}\u201d ({state})."]
        if task.get("note"):
            lines += _indent(f"Note for the team: {task['note']}")
        return lines
    if kind == "member":
        lines = [f"{head}{who} brought {_name(data.get('user'))} into the team."]
        if data.get("message"):
            lines += _indent(str(data["message"]))
        return lines
    if kind == "pin":
        return [f"{head}{who} {'pinned a note as guidance' if data.get('seq') else 'unpinned the guidance'}."]
    return [f"{head}{who} updated the ticket ({kind})."]


def _section(t: TicketUpdates, staff: bool, tz: ZoneInfo) -> list[str]:
    lines: list[str] = []
    for u in t.updates:
        lines += describe(u, staff, tz) + [""]
    if t.more:
        lines.append(f"… and {t.more} more update{'s' if t.more != 1 else ''} on the ticket.\n")
    lines.append(f"Open the ticket: {t.url}")
    return lines


def _footer(reason: str, unsubscribe: str, prefs_url: str, what: str) -> list[str]:
    return ["", "-- ", f"You get this because {REASON_WORDS.get(reason, reason)}.",
            f"Stop e-mails {what}: {unsubscribe}",
            f"Choose how often we write (at once, a daily digest, or never): {prefs_url}"]


def ticket_mail(name: str, t: TicketUpdates, staff: bool, tz: ZoneInfo, prefs_url: str) -> tuple[str, str]:
    """(subject, body) of the e-mail about one ticket's updates."""
    count = len(t.updates) + t.more
    subject = f"[#{t.ticket_id}] {t.subject}"
    intro = (f"{count} new update{'s' if count != 1 else ''} on ticket #{t.ticket_id} "
             f"\u201c{t.subject}\u201d since we last wrote:")
    lines = [f"Hello {name},", "", intro, "", *_section(t, staff, tz),
             *_footer(t.reason, t.unsubscribe_url, prefs_url, "about this ticket")]
    return subject, "\n".join(lines) + "\n"


def digest_mail(name: str, day: str, sections: Sequence[TicketUpdates], staff: bool, tz: ZoneInfo,
                unsubscribe_url: str, prefs_url: str) -> tuple[str, str]:
    """(subject, body) of one person's daily digest: every followed ticket that moved, one after another."""
    count = sum(len(t.updates) + t.more for t in sections)
    subject = f"Your support digest for {day}: {count} update{'s' if count != 1 else ''}"
    lines = [f"Hello {name},", "", "What happened on the tickets you follow since your last digest:", ""]
    for t in sections:
        lines += [f"== #{t.ticket_id} {t.subject} ==", "", *_section(t, staff, tz), ""]
    lines += ["-- ", "You get this daily digest because you chose it for the tickets you follow.",
              f"Stop all these e-mails: {unsubscribe_url}",
              f"Choose how often we write (at once, a daily digest, or never): {prefs_url}"]
    return subject, "\n".join(lines) + "\n"
