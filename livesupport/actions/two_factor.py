"""Two-factor sign-in: TOTP enrolment with recovery codes, checking codes once, and the verification API."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

import pyotp
import segno
from sqlalchemy import insert, select, update

from livesupport.actions.accounts import token_hash
from livesupport.actions.throttle import OTP_ACCOUNT, OTP_ADDRESS, OTP_API_KEY, Throttle, account
from livesupport.clock import Clock
from livesupport.domain import otp
from livesupport.domain.errors import (
    BadRequestError,
    ConflictError,
    ForbiddenError,
    UnauthorizedError,
)
from livesupport.domain.people import Person, Role
from livesupport.store import people
from livesupport.store.database import Database
from livesupport.store.models import AppKey, RecoveryCode, User

RECOVERY_CODES = 10
ISSUER = "livesupport"
APP_KEY_PREFIX = "lsk_"
WRONG_CODE = "That code is not right, or it was already used. Codes change every 30 seconds."



def _recovery_code() -> str:
    raw = secrets.token_hex(5)  # 40 bits: 10 hex digits, written as xxxxx-xxxxx
    return f"{raw[:5]}-{raw[5:]}"


@dataclass(frozen=True, slots=True)
class Enrolment:
    secret: str
    uri: str
    qr_svg: str  # an inline-able SVG of the URI, to scan with the authenticator app


class TwoFactor:
    def __init__(self, db: Database, clock: Clock, throttle: Throttle) -> None:
        self.db, self.clock, self.throttle = db, clock, throttle

    async def is_on(self, user_id: int) -> bool:
        async with self.db.read() as s:
            user = await s.get(User, user_id)
        return user is not None and user.totp_confirmed_at is not None

    async def begin(self, person: Person) -> Enrolment:
        """A new secret, not yet in force: it counts once a code from it is confirmed."""
        secret = pyotp.random_base32()
        async with self.db.write() as s:
            user = await s.get(User, person.id)
            assert user is not None
            if user.totp_confirmed_at is not None:
                raise ConflictError("Two-factor sign-in is already on. Turn it off first to change the app.")
            user.totp_secret, user.totp_last_step = secret, None
            email = user.email
        return self.enrolment(secret, email)

    @staticmethod
    def enrolment(secret: str, email: str) -> Enrolment:
        uri = otp.provisioning_uri(secret, email, ISSUER)
        svg = segno.make(uri, error="m").svg_inline(scale=4, dark="#0f172a", light="#ffffff")
        return Enrolment(secret, uri, svg)

    async def pending(self, person: Person) -> Enrolment | None:
        async with self.db.read() as s:
            user = await s.get(User, person.id)
        if user is None or not user.totp_secret or user.totp_confirmed_at is not None:
            return None
        return self.enrolment(user.totp_secret, user.email)

    async def confirm(self, person: Person, code: object, address: str) -> list[str]:
        """The first code from the app turns two-factor on; returns the recovery codes, shown this once."""
        cleaned = otp.clean_code(code)
        await self.throttle.check((OTP_ACCOUNT, account(person.id, "")), (OTP_ADDRESS, address))
        now = self.clock.now()
        codes = [_recovery_code() for _ in range(RECOVERY_CODES)]
        async with self.db.write() as s:
            user = await s.get(User, person.id)
            assert user is not None
            if not user.totp_secret or user.totp_confirmed_at is not None:
                raise BadRequestError("Start the set-up again: scan the new code with your app.")
            step = otp.matching_step(user.totp_secret, cleaned, now.timestamp(), None)
            if step is not None:
                user.totp_confirmed_at, user.totp_last_step = now, step
                await s.execute(insert(RecoveryCode), [{"user_id": person.id, "code_hash": token_hash(c)} for c in codes])
        if step is None:
            await self.throttle.fail((OTP_ACCOUNT, account(person.id, "")), (OTP_ADDRESS, address))
            raise UnauthorizedError(WRONG_CODE)
        return codes

    async def turn_off(self, person: Person, code: object, address: str) -> None:
        await self.verify(person.id, code, address)
        async with self.db.write() as s:
            user = await s.get(User, person.id)
            assert user is not None
            user.totp_secret = user.totp_confirmed_at = user.totp_last_step = None
            for row in (await s.execute(select(RecoveryCode).where(RecoveryCode.user_id == person.id))).scalars():
                await s.delete(row)

    async def verify(self, user_id: int, code: object, address: str) -> None:
        """A code from the app (each usable once) or a recovery code (each usable once); raises when wrong."""
        await self.throttle.check((OTP_ACCOUNT, account(user_id, "")), (OTP_ADDRESS, address))
        if await self._check(user_id, code):
            await self.throttle.clear(OTP_ACCOUNT, account(user_id, ""))
            return
        await self.throttle.fail((OTP_ACCOUNT, account(user_id, "")), (OTP_ADDRESS, address))
        raise UnauthorizedError(WRONG_CODE)

    async def _check(self, user_id: int, code: object) -> bool:
        if not isinstance(code, str) or not code.strip():
            raise BadRequestError("Enter the 6-digit code from your authenticator app, or a recovery code.")
        text = code.strip().lower()
        now = self.clock.now()
        if "-" in text and len(text) == 11:  # a recovery code: consumed atomically, so a double submit wins once
            async with self.db.write() as s:
                done = await s.execute(update(RecoveryCode).where(
                    RecoveryCode.user_id == user_id, RecoveryCode.code_hash == token_hash(text),
                    RecoveryCode.used_at.is_(None)).values(used_at=now))
                return bool(done.rowcount)  # type: ignore[attr-defined]
        cleaned = otp.clean_code(text)
        async with self.db.read() as s:
            user = await s.get(User, user_id)
        if user is None or user.totp_secret is None or user.totp_confirmed_at is None:
            return False
        step = otp.matching_step(user.totp_secret, cleaned, now.timestamp(), user.totp_last_step)
        if step is None:
            return False
        async with self.db.write() as s:  # the step moves forward once: a second use of this code finds it taken
            done = await s.execute(update(User).where(
                User.id == user_id, (User.totp_last_step.is_(None)) | (User.totp_last_step < step)
            ).values(totp_last_step=step))
            return bool(done.rowcount)  # type: ignore[attr-defined]

    async def recovery_codes_left(self, user_id: int) -> int:
        async with self.db.read() as s:
            rows = (await s.execute(select(RecoveryCode.id).where(
                RecoveryCode.user_id == user_id, RecoveryCode.used_at.is_(None)))).all()
        return len(rows)

    # -- the verification API for other applications ---------------------------------

    async def create_app_key(self, person: Person, name: object) -> str:
        if person.role is not Role.ADMIN:
            raise ForbiddenError("Only an admin can create application keys.")
        if not isinstance(name, str) or not name.strip() or len(name.strip()) > 100:
            raise BadRequestError("Name the application (up to 100 characters), so you know which key is which.")
        key = APP_KEY_PREFIX + secrets.token_urlsafe(32)
        async with self.db.write() as s:
            s.add(AppKey(name=name.strip(), key_hash=token_hash(key), created_by=person.id, created_at=self.clock.now()))
        return key

    async def app_keys(self) -> list[AppKey]:
        async with self.db.read() as s:
            return list((await s.execute(select(AppKey).order_by(AppKey.id.desc()))).scalars())

    async def revoke_app_key(self, key_id: int) -> None:
        async with self.db.write() as s:
            await s.execute(update(AppKey).where(AppKey.id == key_id).values(revoked_at=self.clock.now()))

    async def app_by_key(self, key: str | None) -> AppKey:
        if not key or not key.startswith(APP_KEY_PREFIX):
            raise UnauthorizedError("Send an application key as Authorization: Bearer lsk_…; an admin creates one.")
        async with self.db.write() as s:
            app = (await s.execute(select(AppKey).where(AppKey.key_hash == token_hash(key)))).scalar_one_or_none()
            if app is None or app.revoked_at is not None:
                raise UnauthorizedError("That application key is not valid, or it was revoked.")
            app.last_used_at = self.clock.now()
        return app

    async def verify_for_app(self, key: str | None, email: object, code: object, address: str) -> dict[str, object]:
        """POST /api/otp/verify: is this the user's current code? Unknown users and wrong codes answer alike."""
        app = await self.app_by_key(key)
        if not isinstance(email, str) or "@" not in email:
            raise BadRequestError("Send the user's e-mail address and the code: {\"email\": …, \"code\": …}.")
        otp.clean_code(code)
        email = email.strip().lower()
        async with self.db.read() as s:
            user = await people.user_by_email(s, email)
        key = account(user.id if user is not None else None, email)  # the web sign-in's counter too
        await self.throttle.check((OTP_API_KEY, str(app.id)), (OTP_ACCOUNT, key))
        if user is not None and user.disabled_at is None and await self._check(user.id, code):
            await self.throttle.clear(OTP_ACCOUNT, key)
            return {"valid": True, "user": {"id": user.id, "email": user.email, "name": user.name}}
        await self.throttle.fail((OTP_ACCOUNT, key), (OTP_API_KEY, str(app.id)))
        return {"valid": False}
