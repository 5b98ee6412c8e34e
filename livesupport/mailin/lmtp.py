"""`livesupport mail-in`: an LMTP server (aiosmtpd) for Postfix or Exim to deliver the desk's mail to.

It accepts any recipient at MAIL_IN_DOMAIN and answers each recipient after the message was stored: 250 when
it is on a ticket, held for review, dropped as automatic or already there; 451 (try later) when the sender
is over their rate or the database could not take it, so the sending server keeps it and retries.
"""

from __future__ import annotations

import logging
from typing import Any

from aiosmtpd.lmtp import LMTP

from livesupport.actions.inbound_mail import Mailbox, Result

log = logging.getLogger("livesupport.mail_in")

MAX_MESSAGE = 50 * 1024 * 1024


def answer(result: Result) -> str:
    """The LMTP reply for one recipient."""
    if result.status == "deferred":
        return "451 4.7.1 Too many messages from this sender just now; try again later"
    words = {"posted": "posted on the ticket", "opened": "a ticket was opened", "held": "held for review",
             "dropped": "automatic mail, not posted", "duplicate": "already received"}
    return f"250 2.0.0 {words.get(result.status, 'received')}"


class Handler:
    def __init__(self, mailbox: Mailbox) -> None:
        self.mailbox = mailbox

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,  # noqa: N802
                          rcpt_options: list[str]) -> str:
        if not self.mailbox.accepts(address):
            return f"550 5.1.1 <{address[:100]}>: not a mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        """One answer per accepted recipient (LMTP); the message is handled once for all of them."""
        recipients = tuple(envelope.rcpt_tos)
        try:
            result = await self.mailbox.receive(bytes(envelope.original_content or envelope.content), "lmtp",
                                                recipients)
            line = answer(result)
        except Exception:  # noqa: BLE001 - never lose it: the sending server keeps it and tries again
            log.exception("could not take a message for %s; asked the sender to retry", recipients)
            line = "451 4.3.0 The message could not be stored just now; try again later"
        return "\r\n".join([line] * max(1, len(recipients)))


def lmtp_factory(mailbox: Mailbox) -> Any:
    handler = Handler(mailbox)
    return lambda: LMTP(handler, data_size_limit=MAX_MESSAGE, enable_SMTPUTF8=True, decode_data=False,
                        ident="livesupport LMTP")

