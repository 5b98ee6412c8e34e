"""Sign-in links by e-mail: single use (consumed by the database), 15 minutes, bound to one account."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Coroutine
from datetime import timedelta
from typing import Any

from sqlalchemy import update

from livesupport.actions.accounts import token_hash
from livesupport.actions.mail import Mailer
from livesupport.actions.throttle import MAGIC_ACCOUNT, MAGIC_ADDRESS, Throttle
from livesupport.clock import Clock
from livesupport.domain.errors import BadRequestError, UnauthorizedError
from livesupport.domain.people import Person
from livesupport.store import people
from livesupport.store.database import Database
from livesupport.store.models import MagicLink, User

LINK_TTL = timedelta(minutes=15)
EXPIRED = {
    "signin": "This sign-in link has expired or was already used. Ask for a new one below.",
    "pin": "This link to set a new PIN has expired or was already used. Ask for a new one at /pin.",
}



class MagicLinks:
    def __init__(self, db: Database, clock: Clock, throttle: Throttle, mailer: Mailer) -> None:
        self.db, self.clock, self.throttle, self.mailer = db, clock, throttle, mailer
        self._pending: set[asyncio.Task[None]] = set()

    async def request(self, email: object, address: str, base_url: str) -> None:
        """Send a link if the address has an account; the caller answers the same either way."""
        if not isinstance(email, str) or "@" not in email or len(email) > 320:
            raise BadRequestError("Enter the e-mail address of your account.")
        email = email.strip().lower()
        checks = ((MAGIC_ACCOUNT, email), (MAGIC_ADDRESS, address))
        await self.throttle.check(*checks)
        await self.throttle.fail(*checks)  # every request counts: the limit is on links sent, not on failures
        async with self.db.read() as s:
            user = await people.user_by_email(s, email)
        if user is None or user.disabled_at is not None:
            return
        self.later(self.send(user, base_url, "Your sign-in link", "Here is the link you asked for to sign in"))

    def later(self, job: Coroutine[Any, Any, None]) -> None:
        """Make and mail the link after answering: the answer takes as long whether or not the address is known."""
        task = asyncio.create_task(job)
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def settle(self) -> None:
        """Wait for links still being made (tests, shutdown)."""
        await asyncio.gather(*self._pending, return_exceptions=True)

    async def send(self, user: User, base_url: str, subject: str, intro: str, purpose: str = "signin") -> None:
        """E-mail a single-use link: to sign in (`/login/link/…`), or to set a new phone PIN (`/pin/set/…`)."""
        token = secrets.token_urlsafe(32)
        now = self.clock.now()
        async with self.db.write() as s:
            s.add(MagicLink(user_id=user.id, token_hash=token_hash(token), created_at=now, expires_at=now + LINK_TTL,
                            purpose=purpose))
        path = "/login/link/" if purpose == "signin" else "/pin/set/"
        link = f"{base_url.rstrip('/')}{path}{token}"
        minutes = int(LINK_TTL.total_seconds() // 60)
        await self.mailer.send(user.email, subject, (
            f"Hello {user.name},\n\n{intro}:\n\n{link}\n\n"
            f"It works once, for the next {minutes} minutes. If you did not ask for it, ignore this e-mail: "
            "nobody can sign in without opening the link.\n"
        ), secret="a sign-in link" if purpose == "signin" else "a link to set a PIN")

    async def consume(self, token: str, purpose: str = "signin") -> Person:
        """The link's account, once: a second click, an expired or an unknown link are refused alike."""
        now = self.clock.now()
        async with self.db.write() as s:
            found = await s.execute(
                update(MagicLink)
                .where(MagicLink.token_hash == token_hash(token), MagicLink.used_at.is_(None), MagicLink.expires_at > now,
                       MagicLink.purpose == purpose)
                .values(used_at=now)
                .returning(MagicLink.user_id)
            )
            user_id = found.scalar_one_or_none()
            user = await s.get(User, user_id) if user_id is not None else None
        if user is None or user.disabled_at is not None:
            raise UnauthorizedError(EXPIRED[purpose])
        return people.person_of(user)
