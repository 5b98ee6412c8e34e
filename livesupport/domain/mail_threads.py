"""How a ticket's e-mails name themselves and each other: Message-IDs, the thread root, the reply address.

Every e-mail about ticket 123 refers to one root id, `<ticket-123@DOMAIN>`, in In-Reply-To and References,
so mail clients thread them, and a reply that keeps those headers names its ticket. The Reply-To address
`<local>+<token>@DOMAIN` names the ticket and the recipient (the token is signed by the actions layer).
Pure text rules: no I/O, no secrets.
"""

from __future__ import annotations

import re
from email.headerregistry import Address
from email.utils import parseaddr

TOKEN = re.compile(r"[a-z0-9-]{8,60}", re.ASCII)
ROOT = re.compile(r"<ticket-([0-9]{1,12})(?:\.[0-9a-z.-]+)?@([^>\s]+)>", re.ASCII | re.IGNORECASE)
SUBJECT_TAG = re.compile(r"\[#([0-9]{1,12})\]", re.ASCII)


def address_of(header: str) -> str:
    """The bare address of `Name <a@b>` (or of `a@b`), in lower case; "" when there is none."""
    addr = parseaddr(header)[1].strip().lower()
    return addr if addr.count("@") == 1 and all(addr.split("@")) else ""


def domain_of(address: str) -> str:
    return address.rsplit("@", 1)[1].lower() if "@" in address else ""


def local_of(address: str) -> str:
    return address.rsplit("@", 1)[0] if "@" in address else address


def thread_root(ticket_id: int, domain: str) -> str:
    """The id every e-mail about the ticket answers (In-Reply-To, References); never itself sent."""
    return f"<ticket-{ticket_id}@{domain}>"


def message_id(ticket_id: int, unique: str, domain: str) -> str:
    """One e-mail's own id: it still names the ticket, so a reply to it alone threads too."""
    clean = re.sub(r"[^0-9a-z.-]", "-", unique.lower())[:80]
    return f"<ticket-{ticket_id}.{clean}@{domain}>"


def thread_headers(ticket_id: int, unique: str, domain: str, reply_to: str | None) -> dict[str, str]:
    """The headers that make an e-mail about a ticket part of its thread (and answerable, with `reply_to`)."""
    root = thread_root(ticket_id, domain)
    out = {"Message-ID": message_id(ticket_id, unique, domain), "In-Reply-To": root, "References": root}
    if reply_to:
        out["Reply-To"] = reply_to
    return out


def reply_address(local: str, token: str, domain: str) -> str:
    return str(Address(addr_spec=f"{local}+{token}@{domain}"))


def token_in(recipient: str, domain: str) -> str | None:
    """The token of `anything+TOKEN@domain`, or None (another domain, no token, not shaped as ours)."""
    addr = address_of(recipient)
    if not addr or domain_of(addr) != domain.lower():
        return None
    local = local_of(addr)
    if "+" not in local:
        return None
    token = local.split("+", 1)[1]
    return token if TOKEN.fullmatch(token) else None


def tickets_referenced(ids: list[str], domain: str) -> list[int]:
    """The tickets named by Message-IDs of ours among `ids` (In-Reply-To first, then References, newest last)."""
    out: list[int] = []
    for value in ids:
        for m in ROOT.finditer(value):
            if m.group(2).lower() == domain.lower():
                tid = int(m.group(1))
                if tid not in out:
                    out.append(tid)
    return out


def subject_ticket(subject: str) -> int | None:
    """The ticket of a `[#123]` tag in a subject (the first one), or None."""
    m = SUBJECT_TAG.search(subject or "")
    return int(m.group(1)) if m else None
