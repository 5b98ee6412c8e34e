"""Logging in, API tokens and adding users."""

from __future__ import annotations

import asyncio
import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from livesupport.actions.mail import Mailer
from livesupport.actions.passwords import check_new_password, hash_password, verify_password
from livesupport.actions.throttle import LOGIN_ACCOUNT, LOGIN_ADDRESS, Throttle, account
from livesupport.actions.token_cache import Heard, Known, TokenCache
from livesupport.clock import Clock, iso
from livesupport.domain.errors import (
    BadRequestError,
    ConflictError,
    UnauthorizedError,
)
from livesupport.domain.people import Person, Role
from livesupport.realtime.access import AccessChange
from livesupport.realtime.hub import Hub
from livesupport.store import people
from livesupport.store.database import Database
from livesupport.store.models import User

TOKEN_TTL = timedelta(hours=12)
SESSION_TTL = timedelta(days=7)  # absolute: a browser session ends a week after login, used or not
SESSION_IDLE = timedelta(hours=12)  # idle: or 12 hours after it was last used
TOUCH_EVERY = timedelta(minutes=1)  # how often a session's last use is written
TOKEN_CACHE_TTL = timedelta(seconds=30)  # a backstop: evictions are announced, not waited for
ANNOUNCE_WITHIN = 2.0  # seconds a revocation waits for the other processes to be told
WRONG = "That e-mail and password do not match an account."


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class Accounts:
    def __init__(self, db: Database, clock: Clock, hub: Hub | None = None, throttle: Throttle | None = None,
                 mailer: Mailer | None = None, session_ttl: timedelta = SESSION_TTL,
                 session_idle: timedelta = SESSION_IDLE, token_cache_ttl: timedelta = TOKEN_CACHE_TTL) -> None:
        self.db, self.clock, self.hub = db, clock, hub
        self.throttle = throttle or Throttle(db, clock)
        self.mailer = mailer
        self.session_ttl, self.session_idle = session_ttl, session_idle
        self.known = TokenCache(token_cache_ttl)
        self._announcements_reach_us = Heard(hub, self.known.forget_all)
        if hub is not None:  # evictions announced by any process (and by this one) reach the cache at once
            hub.credential_listeners.append(self.known.forget_credential)
            hub.access_listeners.append(self._forget_access)

    def _forget_access(self, change: AccessChange) -> None:
        self.known.forget_people(change.users, change.orgs)

    async def authenticate(self, login: object, password: object, address: str) -> Person:
        """The password step of signing in: by e-mail address, or by bare domain for a domain administrator."""
        if not isinstance(login, str) or not isinstance(password, str) or not login.strip() or not password:
            raise BadRequestError("Enter your e-mail address (or your domain) and your password.")
        login = login.strip().lower()
        async with self.db.read() as s:
            user = await people.user_by_login(s, login)
        key = account(user.id if user is not None else None, login)
        await self.throttle.check((LOGIN_ACCOUNT, key), (LOGIN_ADDRESS, address))
        usable = user is not None and user.disabled_at is None
        ok, rehashed = await verify_password(user.password_hash if user and usable else None, password)
        if not ok or user is None:
            failures = await self.throttle.fail((LOGIN_ACCOUNT, key), (LOGIN_ADDRESS, address))
            if user is not None and usable and failures == LOGIN_ACCOUNT.count:
                await self._warn_owner(user, address)
            raise UnauthorizedError(WRONG)
        await self.throttle.clear(LOGIN_ACCOUNT, key)
        if rehashed:
            async with self.db.write() as s:
                fresh = await s.get(User, user.id)
                if fresh is not None:
                    fresh.password_hash = rehashed
        return people.person_of(user)

    async def _warn_owner(self, user: User, address: str) -> None:
        """Tell the owner, once per lock, that someone is guessing their password."""
        if self.mailer is None:
            return
        minutes = int(LOGIN_ACCOUNT.window // 60)
        await self.mailer.send(user.email, "Someone is trying to sign in to your support account", (
            f"Hello {user.name},\n\n"
            f"Someone entered a wrong password for your account {LOGIN_ACCOUNT.count} times in a row "
            f"(the last time from {address}). We have paused password sign-in for {minutes} minutes.\n\n"
            "If this was you, wait a little or ask for a sign-in link on the sign-in page.\n"
            "If it was not you, your password held. Consider choosing a new one and turning on "
            "two-factor sign-in on your account page.\n"
        ))

    async def issue_token(self, person: Person, ttl: timedelta = TOKEN_TTL, kind: str = "api") -> tuple[str, str]:
        """A bearer token for the API and the socket; a browser session is one too (kind "session")."""
        token = secrets.token_urlsafe(32)
        now = self.clock.now()
        expires = now + ttl
        async with self.db.write() as s:
            await people.purge_tokens(s, now)
            await people.add_token(s, person.id, token_hash(token), now, expires, kind)
        return token, str(iso(expires))

    async def start_session(self, person: Person) -> str:
        token, _ = await self.issue_token(person, self.session_ttl, kind="session")
        return token

    def cached_person(self, token: str) -> Person | None:
        """The person behind a token as this process remembers it (no I/O), or None: ask `person_by_token`.
        A session whose last use is due to be written is not answered here, so its idle clock keeps running."""
        if not self._announcements_reach_us():
            return None
        now = self.clock.now()
        known = self.known.get(token_hash(token), now)
        if known is None or (known.kind == "session" and now - known.last_used > TOUCH_EVERY):
            return None
        return known.person

    def still_trusted(self, generation: int) -> bool:
        """Nothing was evicted since `generation` (a cheap check after an await, before trusting a lookup)."""
        return self.known.generation == generation

    async def person_by_token(self, token: str) -> Person | None:
        if (person := self.cached_person(token)) is not None:
            return person
        now = self.clock.now()
        generation, hashed = self.known.generation, token_hash(token)
        async with self.db.read() as s:
            found = await people.user_by_token(s, hashed, now)
        if found is None:
            return None
        user, row = found
        last = row.last_used_at or row.created_at
        if row.kind == "session":
            if now - last > self.session_idle:
                await self.revoke(token)  # idle too long: over, and its sockets close
                return None
            if now - last > TOUCH_EVERY:
                async with self.db.write() as s:
                    await people.touch_token(s, row.id, now)
                last = now
        person = people.person_of(user)
        if self._announcements_reach_us():
            self.known.put(hashed, Known(person, row.kind, row.id, last, row.expires_at, now), generation)
        return person

    async def person_by_id(self, user_id: int) -> Person | None:
        async with self.db.read() as s:
            user = await s.get(User, user_id)
        return people.person_of(user) if user is not None and user.disabled_at is None else None

    async def people_by_ids(self, ids: set[int]) -> dict[int, Person]:
        """The people behind these ids as they are now, in one query; a disabled account is left out."""
        async with self.db.read() as s:
            users = (await s.execute(select(User).where(User.id.in_(ids), User.disabled_at.is_(None)))).scalars()
            return {u.id: people.person_of(u) for u in users}

    async def revoke(self, token: str) -> None:
        """End a session or token, and close every socket it opened, on every process."""
        hashed = token_hash(token)
        self.known.forget_credential(hashed)
        async with self.db.write() as s:
            await people.delete_token(s, hashed)
        self.known.forget_credential(hashed)  # a lookup that raced the delete is not kept either
        if self.hub is not None:
            await self.hub.revoke(hashed)
            await self._announced()

    async def end_all_sessions(self, user_id: int) -> None:
        """Every session and token of this person ends, and their sockets close (password change, removal)."""
        async with self.db.write() as s:
            hashes = await people.delete_tokens_of(s, user_id)
        self.known.forget_people(users=[user_id])
        if self.hub is not None:
            for hashed in hashes:
                await self.hub.revoke(hashed)
            await self._announced()

    async def _announced(self) -> None:
        """Wait (briefly) until the other processes' notice has gone to the broker: the caller's next request,
        to any process, then finds the credential gone from every cache."""
        assert self.hub is not None
        try:
            await asyncio.wait_for(self.hub.flush(), ANNOUNCE_WITHIN)
        except TimeoutError:
            pass  # the broker is slow or away: the notice follows when it can, the TTL is the backstop

    async def change_password(self, person: Person, current: object, new: object, address: str) -> None:
        """Check the current password, store the new one, and end every session and token of this person."""
        async with self.db.read() as s:
            user = await s.get(User, person.id)
        assert user is not None
        if not isinstance(current, str) or not current:
            raise BadRequestError("Enter your current password.")
        await self.throttle.check((LOGIN_ACCOUNT, account(user.id, user.email)), (LOGIN_ADDRESS, address))
        ok, _ = await verify_password(user.password_hash, current)
        if not ok:
            await self.throttle.fail((LOGIN_ACCOUNT, account(user.id, user.email)), (LOGIN_ADDRESS, address))
            raise UnauthorizedError("Your current password is not right.")
        hashed = await hash_password(check_new_password(new))
        async with self.db.write() as s:
            fresh = await s.get(User, person.id)
            assert fresh is not None
            fresh.password_hash = hashed
        await self.end_all_sessions(person.id)
        if self.mailer is not None:
            await self.mailer.send(user.email, "Your support account's password was changed", (
                f"Hello {user.name},\n\nThe password of your account was changed, and every place where you "
                "were signed in was signed out.\nIf you did not do this, ask for a sign-in link on the sign-in "
                "page at once and choose a new password, or call support.\n"
            ))

    async def add_user(
        self, *, email: str, password: str, role: str, name: str | None = None,
        org: str | None = None, tier: int | None = None, domain: str | None = None,
    ) -> Person:
        """A new account; a domain administrator's organisation gets `domain`, the name they sign in with."""
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
        hashed = await hash_password(check_new_password(password))
        now = self.clock.now()
        try:
            async with self.db.write() as s:
                org_id = None
                if org:
                    kind = "partner" if role_ is Role.PARTNER else "client"
                    found = await people.get_or_create_org(s, org, now, kind=kind)
                    if domain:
                        if role_ is not Role.DOMAIN_ADMIN:
                            raise BadRequestError("Only a domain administrator signs in with a domain.")
                        clash = await people.user_by_login(s, domain)
                        if clash is not None:
                            raise ConflictError(f"{domain} already has a domain administrator: {clash.email}.")
                        found.domain = domain.strip().lower()
                    org_id = found.id
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
