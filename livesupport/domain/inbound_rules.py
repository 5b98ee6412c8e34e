"""What becomes of an e-mail that came in: posted, a new ticket, held for staff, or dropped. Pure rules.

Never a loop: automatic mail (Auto-Submitted other than "no", Precedence bulk/junk/auto_reply, X-Autoreply,
delivery reports) and mail from our own addresses make no message. Never as someone else: a reply is posted
only as the person its token names, or as a contact of the ticket's organisation who may see it; anything
else, and a failed DMARC check, waits for staff.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from livesupport.domain.inbound_mail import Inbound
from livesupport.domain.mail_threads import domain_of, local_of


class Outcome(StrEnum):
    POST = "posted"  # on the ticket, as the sender
    OPEN = "opened"  # a new ticket for the sender
    HOLD = "held"  # in "Mail to review"
    DROP = "dropped"  # automatic mail: no message, no answer


REASONS = {
    "auto_submitted": "It says it was sent automatically (Auto-Submitted).",
    "precedence": "It is bulk, junk or an automatic reply (Precedence).",
    "autoreply": "It is an automatic reply (X-Autoreply).",
    "report": "It is a delivery report or a read receipt.",
    "own_address": "It comes from one of the desk's own addresses.",
    "no_sender": "It has no sender address.",
    "dmarc_failed": "The receiving server found that it failed DMARC: the sender may be forged.",
    "unknown_sender": "Nobody with this address has an account.",
    "not_allowed": "The sender may not see the ticket it answers.",
    "stale_token": "It answers an e-mail whose reply address was revoked.",
    "no_ticket": "It names no ticket, and did not come to the support address.",
    "empty": "It holds no text and no file.",
}


@dataclass(frozen=True, slots=True)
class Decision:
    outcome: Outcome
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class Sender:
    """What the actions found out about the sender and the ticket named."""

    known: bool  # an enabled account has this address
    may_post: bool  # the token's person, or a contact of the ticket's organisation who may see it
    stale_token: bool = False


def loop_reason(mail: Inbound, own: frozenset[str], own_domain: str, reply_local: str) -> str | None:
    """Why this mail must make no message at all (automatic, or ours), or None."""
    auto = mail.headers.get("auto-submitted", "").strip().lower()
    if auto and auto.split(";")[0].strip() != "no":
        return "auto_submitted"
    if re.search(r"\b(bulk|junk|auto_reply|list)\b", mail.headers.get("precedence", ""), re.IGNORECASE):
        return "precedence"
    if "x-autoreply" in mail.headers or "x-autorespond" in mail.headers:
        return "autoreply"
    if mail.is_report:
        return "report"
    if not mail.from_addr:
        return "no_sender"
    if mail.from_addr in own or (domain_of(mail.from_addr) == own_domain
                                 and local_of(mail.from_addr).split("+")[0] == reply_local.lower()):
        return "own_address"
    return None


def dmarc_failed(mail: Inbound) -> bool:
    """An Authentication-Results header (added by the receiving server) that says dmarc=fail."""
    return bool(re.search(r"\bdmarc\s*=\s*fail\b", mail.headers.get("authentication-results", ""), re.IGNORECASE))


def decide(mail: Inbound, *, loop: str | None, ticket_id: int | None, sender: Sender, to_support: bool) -> Decision:
    if loop is not None:
        return Decision(Outcome.DROP, loop)
    if dmarc_failed(mail):
        return Decision(Outcome.HOLD, "dmarc_failed")
    if not mail.text.strip() and not mail.parts:
        return Decision(Outcome.HOLD, "empty")
    if sender.stale_token:  # sent to a revoked address: staff look first, whatever else names the ticket
        return Decision(Outcome.HOLD, "stale_token")
    if ticket_id is not None:
        if sender.may_post:
            return Decision(Outcome.POST)
        return Decision(Outcome.HOLD, "not_allowed" if sender.known else "unknown_sender")
    if not sender.known:
        return Decision(Outcome.HOLD, "unknown_sender")
    if to_support and sender.may_post:  # a contact of an organisation (staff open tickets on the desk)
        return Decision(Outcome.OPEN)
    return Decision(Outcome.HOLD, "no_ticket")
