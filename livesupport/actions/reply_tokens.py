"""The token in a ticket e-mail's Reply-To address: which ticket, which recipient, signed, revocable.

`<ticket>-<user>-<generation>-<signature>`, lower case only (some mail servers fold the local part's case),
short enough for a 64-character local part. The signature is itsdangerous's HMAC (its own salt, so no other
token of ours fits) written in base32. Revoking moves the (ticket, person) generation on: every address
handed out before stops working; a fresh e-mail carries the new one.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass

from itsdangerous import Signer
from itsdangerous.encoding import base64_decode
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from livesupport.domain.mail_threads import address_of, local_of, reply_address, thread_headers
from livesupport.domain.numbers import ascii_digits, same_secret
from livesupport.store.database import upsert_insert
from livesupport.store.models import ReplyKey

SIGNATURE_CHARS = 20  # 100 bits


@dataclass(frozen=True, slots=True)
class ReplyToken:
    ticket_id: int
    user_id: int
    generation: int


class ReplyTokens:
    def __init__(self, secret_key: str) -> None:
        self._signer = Signer(secret_key, salt="livesupport.mail-reply", digest_method=hashlib.sha256)

    def _signature(self, value: str) -> str:
        raw = base64_decode(self._signer.get_signature(value.encode()))
        return base64.b32encode(raw).decode().lower()[:SIGNATURE_CHARS]

    def sign(self, token: ReplyToken) -> str:
        value = f"{token.ticket_id}-{token.user_id}-{token.generation}"
        return f"{value}-{self._signature(value)}"

    def read(self, text: str) -> ReplyToken | None:
        """The token's parts when its signature is ours, else None (whether it is still valid is `current`'s)."""
        parts = text.lower().split("-")
        if len(parts) != 4 or not all(ascii_digits(p, 12) for p in parts[:3]):
            return None
        value = "-".join(parts[:3])
        if not same_secret(parts[3], self._signature(value)):
            return None
        return ReplyToken(int(parts[0]), int(parts[1]), int(parts[2]))

    async def for_recipient(self, s: AsyncSession, ticket_id: int, user_id: int) -> str:
        return self.sign(ReplyToken(ticket_id, user_id, await generation(s, ticket_id, user_id)))

    async def current(self, s: AsyncSession, token: ReplyToken) -> bool:
        return token.generation == await generation(s, token.ticket_id, token.user_id)

    async def revoke(self, s: AsyncSession, ticket_id: int, user_id: int) -> None:
        """Every reply address this person was given for this ticket stops working."""
        await s.execute(upsert_insert(s, ReplyKey).values(ticket_id=ticket_id, user_id=user_id, generation=0)
                        .on_conflict_do_nothing())
        await s.execute(update(ReplyKey).where(ReplyKey.ticket_id == ticket_id, ReplyKey.user_id == user_id)
                        .values(generation=ReplyKey.generation + 1))


async def generation(s: AsyncSession, ticket_id: int, user_id: int) -> int:
    found = await s.scalar(select(ReplyKey.generation).where(ReplyKey.ticket_id == ticket_id,
                                                             ReplyKey.user_id == user_id))
    return int(found or 0)


class TicketThreads:
    """The headers of an e-mail about one ticket to one person: it joins the ticket's thread in mail clients and
    answers to that person's reply address for the ticket (docs/email.md). Every ticket e-mail uses them."""

    def __init__(self, secret_key: str, sender: str, domain: str) -> None:
        self.replies = ReplyTokens(secret_key)
        self.local = local_of(address_of(sender)) or "support"  # replies: <MAIL_FROM's local part>+<token>@domain
        self.domain = domain

    async def headers(self, s: AsyncSession, ticket_id: int, user_id: int, unique: str) -> dict[str, str]:
        """`unique` tells this e-mail from the ticket's others (its Message-ID)."""
        token = await self.replies.for_recipient(s, ticket_id, user_id)
        return {"Auto-Submitted": "auto-generated",
                **thread_headers(ticket_id, unique, self.domain, reply_address(self.local, token, self.domain))}

