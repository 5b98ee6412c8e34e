"""Logging in, API tokens and adding users."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy.exc import IntegrityError

from livesupport.actions.passwords import hash_password, verify_password
from livesupport.clock import Clock
from livesupport.domain.errors import (
    BadRequestError,
    ConflictError,
    RateLimitedError,
    UnauthorizedError,
)
from livesupport.domain.passwords import check_new
from livesupport.domain.people import Person, Role
from livesupport.domain.throttle import FailureThrottle
from livesupport.realtime.hub import Hub
from livesupport.store import people
from livesupport.store.database import Database
from livesupport.store.models import User

TOKEN_TTL = timedelta(hours=12)
SESSION_TTL = timedelta(days=14)
WRONG = "That e-mail and password do not match an account."


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class Accounts:
    def __init__(self, db: Database, clock: Clock, hub: Hub | None = None) -> None:
        self.db, self.clock, self.hub = db, clock, hub
        # 10 failures per account and 50 per client address in 15 minutes.
        self._by_account = FailureThrottle(10, 900)
        self._by_address = FailureThrottle(50, 900)

    async def authenticate(self, email: object, password: object, address: str) -> Person:
        if not isinstance(email, str) or not isinstance(password, str) or not email or not password:
            raise BadRequestError("Enter your e-mail address and your password.")
        email = email.strip().lower()
        now = self.clock.now().timestamp()
        wait = max(self._by_account.retry_after(email, now), self._by_address.retry_after(address, now))
        if wait:
            minutes = max(1, round(wait / 60))
            raise RateLimitedError(
                f"Too many failed attempts. Try again in {minutes} minute{'s' if minutes > 1 else ''}.", wait
            )
        async with self.db.read() as s:
            user = await people.user_by_email(s, email)
        ok, rehashed = await verify_password(user.password_hash if user else None, password)
        if not ok or user is None:
            self._by_account.fail(email, now)
            self._by_address.fail(address, now)
            raise UnauthorizedError(WRONG)
        self._by_account.clear(email)
        if rehashed:
            async with self.db.write() as s:
                fresh = await s.get(User, user.id)
                if fresh is not None:
                    fresh.password_hash = rehashed
        return people.person_of(user)

    async def issue_token(self, person: Person, ttl: timedelta = TOKEN_TTL) -> tuple[str, str]:
        """A bearer token for the API and the socket; a browser session is one too, kept in the cookie."""
        token = secrets.token_urlsafe(32)
        now = self.clock.now()
        expires = now + ttl
        async with self.db.write() as s:
            await people.purge_tokens(s, now)
            await people.add_token(s, person.id, token_hash(token), now, expires)
        return token, expires.isoformat().replace("+00:00", "Z")

    async def person_by_token(self, token: str) -> Person | None:
        async with self.db.read() as s:
            user = await people.user_by_token(s, token_hash(token), self.clock.now())
        return people.person_of(user) if user else None

    async def revoke(self, token: str) -> None:
        """End a session or token, and close every socket it opened, on every process."""
        hashed = token_hash(token)
        async with self.db.write() as s:
            await people.delete_token(s, hashed)
        if self.hub is not None:
            await self.hub.revoke(hashed)

    async def add_user(
        self, *, email: str, password: str, role: str, name: str | None = None,
        org: str | None = None, tier: int | None = None,
    ) -> Person:
        email = email.strip().lower()
        if "@" not in email or len(email) > 320:
            raise BadRequestError(f"{email!r} is not an e-mail address.")
        try:
            role_ = Role(role)
        except ValueError:
            raise BadRequestError(f"Unknown role {role!r}; use one of: {', '.join(r.value for r in Role)}.") from None
        if role_ is Role.STAFF and tier not in (1, 2, 3):
            raise BadRequestError("Staff need a tier: --tier 1, 2 or 3.")
        if role_ in (Role.CLIENT, Role.DOMAIN_ADMIN, Role.PARTNER) and not org:
            raise BadRequestError(f"A {role_.value} belongs to an organisation: give --org NAME.")
        hashed = await hash_password(check_new(password))
        now = self.clock.now()
        try:
            async with self.db.write() as s:
                org_id = None
                if org:
                    kind = "partner" if role_ is Role.PARTNER else "client"
                    org_id = (await people.get_or_create_org(s, org, now, kind=kind)).id
                user = User(
                    email=email, name=name or email.split("@")[0].replace(".", " ").title(),
                    password_hash=hashed, role=role_.value, tier=tier if role_ is Role.STAFF else None,
                    org_id=org_id, created_at=now,
                )
                s.add(user)
                await s.flush()
        except IntegrityError:
            raise ConflictError(f"There is already an account for {email}.") from None
        return people.person_of(user)
